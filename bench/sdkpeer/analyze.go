package sdkpeer

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// run maps n bytes of a stream, from stream offset at, to the signal from
// offset sig.
type run struct{ at, sig, n int }

// locate finds a stream's audio in the signal: it returns the runs of
// identical bytes and how many bytes matched nothing. The signal's noise
// makes any 64 bytes of it unique.
func locate(signal, audio []byte) (runs []run, unmatched int) {
	const probe = 64
	for pos := 0; pos < len(audio); {
		k := min(probe, len(audio)-pos)
		if k < 16 { // too short to place
			unmatched += k
			break
		}
		idx := bytes.Index(signal, audio[pos:pos+k])
		if idx < 0 {
			unmatched += k
			pos += k
			continue
		}
		n := k
		for pos+n < len(audio) && idx+n < len(signal) && audio[pos+n] == signal[idx+n] {
			n++
		}
		runs = append(runs, run{pos, idx, n})
		pos += n
	}
	return runs, unmatched
}

// signalPos maps a stream byte offset to the signal, or -1.
func signalPos(runs []run, p int) int {
	for _, r := range runs {
		if p >= r.at && p <= r.at+r.n { // the end of a run maps too
			return r.sig + p - r.at
		}
	}
	return -1
}

// Audio accounts for the signal's audio at the upstream.
type Audio struct {
	SignalBytes   int // the whole signal: what the app wanted transcribed
	ReceivedBytes int // sum over streams (emulator's AudioBytes)
	CoveredBytes  int // distinct signal bytes received by some stream
	Unmatched     int // received bytes not found in the signal (harness error)
}

// LostSec is the signal no stream received, in seconds.
func (a Audio) LostSec() float64 { return bytesToSec(a.SignalBytes - a.CoveredBytes) }

// ResentSec is audio received more than once, in seconds.
func (a Audio) ResentSec() float64 {
	return bytesToSec(a.ReceivedBytes - a.Unmatched - a.CoveredBytes)
}

func bytesToSec(b int) float64 { return float64(b) / float64(RateHz*2) }

// ReceivedWord is a word as the client application saw it.
type ReceivedWord struct {
	// Stream is the upstream request id the word came with ("" if the
	// client does not say).
	Stream string
	Name   string
	// ReportedMs is the word's start as the client reports it, in ms on
	// the client's clock (NaN when the client gives none for this word).
	ReportedMs float64
}

// Words accounts for the words of the signal.
type Words struct {
	Expected  int // bursts in the signal
	Heard     int // bursts with at least one received word
	Received  int // words the client got
	Dups      int // received words beyond the first for the same burst
	Spurious  int // received words that belong to no burst
	Unknown   int // received words the upstream never produced (harness error)
	Emitted   int // words the upstream produced
	TimeCheck int // received words with a reported time
	TimeWrong int // ...off by more than 250 ms from the true capture time
}

// Recall is Heard/Expected.
func (w Words) Recall() float64 {
	if w.Expected == 0 {
		return 0
	}
	return float64(w.Heard) / float64(w.Expected)
}

// Upstream's view of one client's run, after analysis.
type Analysis struct {
	Streams    int
	Audio      Audio
	Words      Words
	Reconnects []time.Duration // previous stream's end → next stream's first audio byte
	NoAudio    int             // streams that never got an audio byte
	FirstAudio time.Duration   // client start → first audio byte at the upstream (-1: never)
	KeepAlives int
	Ends       map[string]int // stream ends by kind
	// Detail is a per-stream and per-missed-word account, for -detail.
	Detail []string
}

type emitted struct {
	stream string
	name   string
	absMs  float64 // capture time (ms into the signal), NaN if unknown
	used   bool
}

// Analyze accounts for a client's run. start is when the client was
// started; originUnknown says that reported times count from the first
// word received (the gateway's segments) rather than from the signal's
// start, so the harness estimates that origin from the data.
func Analyze(sig Signal, streams []RecordedStream, got []ReceivedWord, start time.Time, originUnknown bool) (Analysis, error) {
	a := Analysis{Streams: len(streams), FirstAudio: -1, Ends: map[string]int{}}
	a.Audio.SignalBytes = len(sig.PCM)
	var covered []run
	var ems []*emitted
	byName := map[string][]*emitted{}
	for i, s := range streams {
		a.KeepAlives += s.Sum.KeepAlives
		a.Ends[s.Sum.End]++
		a.Audio.ReceivedBytes += int(s.Sum.AudioBytes)
		runs, unmatched := locate(sig.PCM, s.Audio)
		a.Audio.Unmatched += unmatched
		covered = append(covered, runs...)
		for _, w := range s.Words {
			p := signalPos(runs, int(math.Round(w.StartSec*RateHz))*2)
			e := &emitted{stream: s.Sum.ID, name: w.Word, absMs: math.NaN()}
			if p >= 0 {
				e.absMs = float64(p) / BytesPerMs
			}
			ems = append(ems, e)
			byName[w.Word] = append(byName[w.Word], e)
		}
		switch {
		case s.FirstAudio.IsZero():
			a.NoAudio++
		case a.FirstAudio < 0:
			a.FirstAudio = s.FirstAudio.Sub(start)
		case i > 0:
			a.Reconnects = append(a.Reconnects, s.FirstAudio.Sub(streams[i-1].Sum.Ended))
		}
	}
	a.Audio.CoveredBytes = union(covered)
	a.Words.Emitted = len(ems)
	if a.Audio.Unmatched > 0 {
		return a, fmt.Errorf("%d bytes received upstream are not in the signal", a.Audio.Unmatched)
	}

	// Match received words to produced ones: by stream and name when the
	// client names the stream; else by name, ties broken by reported time.
	match := func(w ReceivedWord, offset float64) *emitted {
		var best *emitted
		for _, e := range byName[w.Name] {
			if (w.Stream != "" && e.stream != w.Stream) || e.used {
				continue
			}
			if best == nil || (!math.IsNaN(w.ReportedMs) &&
				math.Abs(e.absMs-w.ReportedMs-offset) < math.Abs(best.absMs-w.ReportedMs-offset)) {
				best = e
			}
		}
		return best
	}
	offset := 0.0
	if originUnknown { // from the earliest word whose name is unique
		bestRep := math.Inf(1)
		for _, w := range got {
			if c := byName[w.Name]; len(c) == 1 && !math.IsNaN(w.ReportedMs) && w.ReportedMs < bestRep && !math.IsNaN(c[0].absMs) {
				bestRep, offset = w.ReportedMs, c[0].absMs-w.ReportedMs
			}
		}
	}
	perBurst := make([]int, len(sig.Bursts))
	a.Words.Expected = len(sig.Bursts)
	a.Words.Received = len(got)
	for _, w := range got {
		e := match(w, offset)
		if e == nil {
			a.Words.Unknown++
			continue
		}
		e.used = true
		if !math.IsNaN(w.ReportedMs) {
			a.Words.TimeCheck++
			if math.IsNaN(e.absMs) || math.Abs(w.ReportedMs+offset-e.absMs) > 250 {
				a.Words.TimeWrong++
			}
		}
		if b := burstAt(sig.Bursts, e.absMs); b >= 0 {
			perBurst[b]++
		} else {
			a.Words.Spurious++
		}
	}
	for i, s := range streams {
		runs, _ := locate(sig.PCM, s.Audio)
		first := "never"
		if !s.FirstAudio.IsZero() {
			first = "+" + s.FirstAudio.Sub(start).Round(time.Millisecond).String()
		}
		line := fmt.Sprintf("stream %d %s: opened +%s, first audio %s, ended +%s (%s), %d words, KeepAlives %d, signal",
			i, s.Sum.ID, s.Sum.Opened.Sub(start).Round(time.Millisecond), first,
			s.Sum.Ended.Sub(start).Round(time.Millisecond), s.Sum.End, len(s.Words), s.Sum.KeepAlives)
		for _, r := range runs {
			line += fmt.Sprintf(" [%.3f, %.3f)", bytesToSec(r.sig), bytesToSec(r.sig+r.n))
		}
		a.Detail = append(a.Detail, line)
	}
	for i, n := range perBurst {
		if n == 0 {
			a.Detail = append(a.Detail, fmt.Sprintf("missed burst [%d, %d) ms", sig.Bursts[i].StartMs, sig.Bursts[i].EndMs))
		}
	}
	for _, e := range ems {
		if !e.used {
			a.Detail = append(a.Detail, fmt.Sprintf("produced but not delivered: %s of %s at %.0f ms", e.name, e.stream, e.absMs))
		}
	}
	for _, n := range perBurst {
		if n > 0 {
			a.Words.Heard++
			a.Words.Dups += n - 1
		}
	}
	if a.Words.Unknown > 0 {
		return a, fmt.Errorf("%d received words were never produced upstream", a.Words.Unknown)
	}
	return a, nil
}

// burstAt returns the index of the burst a word starting at ms belongs to
// (the recognizer's 10 ms frame grid may start it up to 10 ms early; a
// stream that starts mid-burst starts a fragment inside it), or -1.
func burstAt(bs []Burst, ms float64) int {
	if math.IsNaN(ms) {
		return -1
	}
	i := sort.Search(len(bs), func(i int) bool { return float64(bs[i].EndMs) > ms })
	if i < len(bs) && ms >= float64(bs[i].StartMs-20) {
		return i
	}
	return -1
}

// union is the number of distinct signal bytes the runs cover.
func union(rs []run) int {
	rs = slices.Clone(rs)
	sort.Slice(rs, func(i, j int) bool { return rs[i].sig < rs[j].sig })
	total, end := 0, -1
	for _, r := range rs {
		from, to := max(r.sig, end), r.sig+r.n
		if to > from {
			total += to - from
			end = to
		}
	}
	return total
}

// Durations summarises write-call durations.
type Durations []time.Duration

// Max is the longest.
func (d Durations) Max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// Quantile is the q-quantile (nearest rank).
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// Over counts durations of at least t.
func (d Durations) Over(t time.Duration) int {
	n := 0
	for _, v := range d {
		if v >= t {
			n++
		}
	}
	return n
}
