package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// snap is the CPU seconds used so far by the target, the upstream, the
// harness and the whole machine.
type snap struct {
	at                     time.Time
	target, up, self, busy float64
}

func takeSnap(tgt, up *child) (snap, error) {
	s := snap{at: time.Now()}
	var errs [4]error
	s.target, errs[0] = cpuSeconds(tgt.pid)
	s.up, errs[1] = cpuSeconds(up.pid)
	s.self, errs[2] = cpuSeconds("self")
	s.busy, _, errs[3] = machineCPU()
	return s, errors.Join(errs[:]...)
}

// runLevel runs one level: n sessions streaming against kind, measured
// over window after a ramp and a warm-up.
func (h *harness) runLevel(kind string, n int, purpose string, ackLagMs int, window time.Duration) (*Run, error) {
	o := h.o
	up, tgt, r, err := h.startLevel(kind, ackLagMs, n, purpose)
	if err != nil {
		return nil, err
	}
	defer up.stop()
	defer tgt.stop()
	gateway := kind != kindRelay
	var idleMetrics map[string]float64
	if gateway {
		if idleMetrics, err = scrapeGoMetrics(tgt.addr); err != nil {
			return nil, err
		}
	}

	ramp := min(max(time.Duration(n)*5*time.Millisecond, time.Second), o.maxRamp)
	start := time.Now().Add(200 * time.Millisecond)
	from := start.Add(ramp + o.warm)
	to := from.Add(window)
	spec := loadSpec{
		URL: "ws://" + tgt.addr + h.fr.listenPath(o.channels), Key: clientKey,
		Sessions: n, Start: start, Ramp: ramp, Frames: h.fr.Frames, FrameDur: h.fr.Dur, Stamp: h.fr.Stamped,
		Channels: o.channels, Origin: frameOrigin(kind),
		Stop: to.Add(o.tail),
		From: from.UnixNano(), To: to.UnixNano(),
	}
	type measured struct {
		a, b         snap
		ma, mb       map[string]float64 // the gateway's Go metrics
		rssEnd, peak int64
		err          error
	}
	mc := make(chan measured, 1)
	go func() {
		var m measured
		defer func() { mc <- m }()
		time.Sleep(time.Until(from))
		if m.a, m.err = takeSnap(tgt, up); m.err != nil {
			return
		}
		if gateway {
			if m.ma, m.err = scrapeGoMetrics(tgt.addr); m.err != nil {
				return
			}
		}
		for t := from; t.Before(to); {
			if t = t.Add(time.Second); t.After(to) {
				t = to
			}
			time.Sleep(time.Until(t))
			if t.Equal(to) {
				if m.b, m.err = takeSnap(tgt, up); m.err != nil {
					return
				}
				if gateway {
					if m.mb, m.err = scrapeGoMetrics(tgt.addr); m.err != nil {
						return
					}
				}
			}
			rss, err := rssKB(tgt.pid)
			if err != nil {
				m.err = err
				return
			}
			m.peak = max(m.peak, rss)
			m.rssEnd = rss
		}
	}()
	lr := runLoad(spec)
	m := <-mc
	if m.err != nil {
		return nil, fmt.Errorf("%s, %d sessions: measuring: %w", kind, n, m.err)
	}
	rep, err := fetchReport(up.addr, spec.From, spec.To)
	if err != nil {
		return nil, err
	}
	if !h.fr.Stamped {
		r.PacketSamples = h.fr.samples()
	}
	r.fill(kind, n, lr, rep, m.a, m.b, m.rssEnd, m.peak, to.Sub(from), o)
	if gateway {
		r.Gateway = newGatewayStats(idleMetrics, m.ma, m.mb, r.TargetCPUSec, lr.Sent, n, r.AudioSec)
	}
	r.LogWarnings, r.LogSamples = tgt.logWarnings()
	h.res.Runs = append(h.res.Runs, r)
	fmt.Println(r.line())
	return r, h.save()
}

// runIdle opens n sessions that send nothing, waits until all are ready
// (the gateway has dialed their upstream streams), and measures the
// target's memory.
func (h *harness) runIdle(kind string, n int) (*Run, error) {
	up, tgt, r, err := h.startLevel(kind, 0, n, purposeIdle)
	if err != nil {
		return nil, err
	}
	defer up.stop()
	defer tgt.stop()
	idleMetrics, err := scrapeGoMetrics(tgt.addr)
	if err != nil {
		return nil, err
	}
	var ready atomic.Int64
	done := make(chan struct{})
	ramp := min(max(time.Duration(n)*5*time.Millisecond, time.Second), h.o.maxRamp)
	spec := loadSpec{
		URL: "ws://" + tgt.addr + h.fr.listenPath(h.o.channels), Key: clientKey,
		Sessions: n, Start: time.Now(), Ramp: ramp, Frames: h.fr.Frames, FrameDur: h.fr.Dur, Channels: h.o.channels,
		Stop: time.Now().Add(ramp + 30*time.Second + h.o.idleHold + time.Minute),
		Idle: true, Done: done, Ready: &ready,
	}
	lrc := make(chan loadResult, 1)
	go func() { lrc <- runLoad(spec) }()
	deadline := time.Now().Add(ramp + 30*time.Second)
	for ready.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// With several channels, "ready" may come before every channel's
	// upstream stream is open: wait for all of them too.
	sockets := int64(n * h.o.channels)
	for h.o.channels > 1 && time.Now().Before(deadline) {
		if rep, err := fetchReportWait(up.addr, 0, 1, 0); err != nil || rep.StillOpen >= sockets {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	readyAt := time.Now()
	time.Sleep(3 * time.Second)
	r.RSSSettleKB, err = rssKB(tgt.pid)
	if err == nil && h.o.idleHold > 3*time.Second {
		time.Sleep(time.Until(readyAt.Add(h.o.idleHold)))
		r.RSSEndKB, err = rssKB(tgt.pid)
	} else {
		r.RSSEndKB = r.RSSSettleKB
	}
	r.RSSPeakKB = max(r.RSSEndKB, r.RSSSettleKB)
	r.IdleHoldS = h.o.idleHold.Seconds()
	if err == nil {
		var m map[string]float64
		if m, err = scrapeGoMetrics(tgt.addr); err == nil {
			r.Gateway = newGatewayStats(idleMetrics, m, m, 0, 0, n, 0)
		}
	}
	close(done)
	lr := <-lrc
	if err != nil {
		return nil, err
	}
	r.SessionsFailed, r.Failures = lr.Failed, lr.Failures
	r.RSSPerSessionKB = float64(r.RSSEndKB-r.RSSBeforeKB) / float64(n)
	r.RSSSettlePerSessionKB = float64(r.RSSSettleKB-r.RSSBeforeKB) / float64(n)
	r.Pass = int(ready.Load()) == n && lr.Failed == 0
	if !r.Pass {
		r.Why = append(r.Why, fmt.Sprintf("%d of %d sessions ready, %d failed", ready.Load(), n, lr.Failed))
	}
	rep, err := fetchReport(up.addr, 0, 1)
	if err == nil {
		r.UpstreamStreams = rep.Streams
	}
	if h.o.channels > 1 && r.UpstreamStreams != sockets {
		r.Pass = false
		r.Why = append(r.Why, fmt.Sprintf("%d upstream streams for %d sessions of %d channels", r.UpstreamStreams, n, h.o.channels))
	}
	r.LogWarnings, r.LogSamples = tgt.logWarnings()
	h.res.Runs = append(h.res.Runs, r)
	fmt.Println(r.line())
	return r, h.save()
}

func fetchReport(upAddr string, from, to int64) (upstreamReport, error) {
	return fetchReportWait(upAddr, from, to, 15000)
}

// fetchReportWait is fetchReport waiting at most waitMs for the streams to
// end (0: report at once, StillOpen counting the open streams).
func fetchReportWait(upAddr string, from, to int64, waitMs int) (upstreamReport, error) {
	var rep upstreamReport
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/report?from=%d&to=%d&wait_ms=%d", upAddr, from, to, waitMs))
	if err != nil {
		return rep, fmt.Errorf("upstream report: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rep, fmt.Errorf("upstream report: %w", err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("upstream report %q: %w", clip(b), err)
	}
	return rep, nil
}
