package pipeline

import (
	"context"
	"sync"
	"sync/atomic"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/ingest"
	"earshot/stages/profile"
)

// chain is one channel's stages: ingest → gate → connector, with its own
// decoder, gate, upstream socket, replay ring and capture clock. In a
// speech-profile session the gate feeds a switch (sw) between the
// temporary connector (temp) and the main one (conn, which sends the
// profile first).
type chain struct {
	ing  *ingest.Ingest
	gt   *gate.Gate
	conn *connector.Connector
	sw   *profile.Switch
	temp *connector.Connector
}

// connectors are the chain's connectors, main first.
func (c chain) connectors() []*connector.Connector {
	if c.temp != nil {
		return []*connector.Connector{c.conn, c.temp}
	}
	return []*connector.Connector{c.conn}
}

// newChains makes the session's chains, one per channel, and records
// their ingest stages for the reader's pace. prefix, if not nil, makes
// the one chain a speech-profile one.
func (s *session) newChains(prefix []byte) []chain {
	cfg, m := s.srv.cfg, s.srv.m
	gateCfg := cfg.Gate
	gateCfg.Mode = sessionGateMode(cfg.Gate.Mode, s.params.VADGate)
	chains := make([]chain, max(s.params.Channels, 1))
	s.ings = make([]*ingest.Ingest, len(chains))
	for i := range chains {
		c := &chains[i]
		c.ing = ingest.New(ingest.Config{
			Codec: s.params.Codec, SampleRateHz: s.params.SampleRateHz, Opus: cfg.OpusDecoder,
		}, m.ingest)
		c.gt = gate.New(gateCfg, s.params.SampleRateHz, gate.Deps{
			NewDetector: s.srv.deps.NewDetector, Metrics: m.gate, Logger: s.log,
		})
		log := s.log
		if len(chains) > 1 {
			log = s.log.With("channel", i+1)
		}
		// Each upstream socket carries one mono channel.
		sc := stages.StreamConfig{SampleRateHz: s.params.SampleRateHz, Channels: 1, Language: s.params.Language}
		deps := connector.Deps{
			Chain: s.srv.up.chain, Metrics: m.connector, Logger: log,
			Budget: s.srv.up.budget, Chunks: s.srv.deps.Chunks,
		}
		if prefix != nil {
			c.sw = profile.New(cfg.ProfileSwitch)
			tdeps := deps
			tdeps.Logger = log.With("socket", "temporary")
			c.temp = connector.New(cfg.Connector, sc, tdeps)
			deps.Prefix = prefix
		}
		c.conn = connector.New(cfg.Connector, sc, deps)
		if s.tap != nil {
			c.ing.Tap(s.tap.channel(i))
		}
		s.ings[i] = c.ing
	}
	return chains
}

// startChains starts every chain and returns the channel of their
// updates for the fan-out, and the reader's input: where the reader puts
// the client's binary frames. One chain decodes and gates on the reader's
// goroutine (see readerInput). Several chains get their frames from a
// demux (frames of [channel id][payload]) over a channel, each chain
// decoding and gating on a goroutine of its own. Several connectors'
// updates (the channels', or a speech-profile session's main and
// temporary sockets) are fanned in, each tagged with its channel
// (1-based) or as temporary; the last forwarder to finish closes the
// fanned-in channel. The main socket's first EventPrefixDone releases
// the switch.
func (s *session) startChains(goStage func(string, int, func(context.Context) error), chains []chain) (<-chan stages.Update, readerInput) {
	depth := s.srv.cfg.ChannelDepth
	n := len(chains)
	gateds := make([]chan stages.Audio, n)
	for i := range gateds {
		gateds[i] = make(chan stages.Audio, depth)
	}
	var input readerInput
	if n == 1 {
		input = s.inlineInput(chains[0], gateds[0])
	} else {
		frames := make(chan []byte, depth)
		input = chanInput(frames)
		ins := make([]chan []byte, n)
		outs := make([]chan<- []byte, n)
		for i := range ins {
			ins[i] = make(chan []byte, depth)
			outs[i] = ins[i]
		}
		d := ingest.NewDemux(n, s.srv.m.ingest)
		goStage("demux", 0, func(ctx context.Context) error { return d.Run(ctx, frames, outs) })
		for i := range chains {
			c, in, gated := chains[i], ins[i], gateds[i]
			goStage("ingest-gate", i+1, func(ctx context.Context) error {
				if s.tap != nil {
					defer s.tap.ingestDone()
				}
				// Decoding and gating share one goroutine: the gate is
				// a step of the ingest's loop.
				st := c.gt.Start(ctx, gated)
				err := c.ing.RunFunc(ctx, in, st.Frame)
				st.Close(err == nil)
				return err
			})
		}
	}
	var feeds []feed
	for i := range chains {
		c, ch, gated := chains[i], 0, gateds[i]
		if n > 1 {
			ch = i + 1
		}
		up := make(chan stages.Update, depth)
		tagChannel := func(u *stages.Update) { u.Channel = ch }
		if c.sw == nil {
			goStage("connector", ch, func(ctx context.Context) error { return c.conn.Run(ctx, gated, up) })
			feeds = append(feeds, feed{up, tagChannel})
			continue
		}
		// A speech-profile chain: the switch, both connectors, and the
		// main socket's EventPrefixDone releasing the switch.
		tempIn := make(chan stages.Audio, depth)
		mainIn := make(chan stages.Audio, depth)
		tempUp := make(chan stages.Update, depth)
		ready := make(chan struct{})
		var once sync.Once
		goStage("switch", ch, func(ctx context.Context) error { return c.sw.Run(ctx, gated, ready, tempIn, mainIn) })
		goStage("connector", ch, func(ctx context.Context) error { return c.conn.Run(ctx, mainIn, up) })
		goStage("connector-temporary", ch, func(ctx context.Context) error { return c.temp.Run(ctx, tempIn, tempUp) })
		feeds = append(feeds,
			feed{up, func(u *stages.Update) {
				if u.Kind == stages.EventPrefixDone {
					once.Do(func() { close(ready) })
				}
			}},
			feed{tempUp, func(u *stages.Update) { u.Temporary = true }})
	}
	return fanIn(goStage, feeds, depth), input
}

// feed is a connector's output to fan in, with how to tag its updates.
type feed struct {
	ch  chan stages.Update
	tag func(*stages.Update)
}

// fanIn returns the one channel the fan-out reads: a single feed's own,
// or one that a forwarder per feed fills with its tagged updates; the
// last forwarder to finish closes it.
func fanIn(goStage func(string, int, func(context.Context) error), feeds []feed, depth int) <-chan stages.Update {
	if len(feeds) == 1 {
		return feeds[0].ch
	}
	out := make(chan stages.Update, depth)
	var running atomic.Int32
	running.Store(int32(len(feeds)))
	for i, f := range feeds {
		goStage("fanin", i+1, func(ctx context.Context) error {
			defer func() {
				if running.Add(-1) == 0 {
					close(out)
				}
			}()
			for {
				u, ok, err := stages.Recv(ctx, f.ch)
				if err != nil || !ok {
					return err
				}
				f.tag(&u)
				if err := stages.Send(ctx, out, u); err != nil {
					return err
				}
			}
		})
	}
	return out
}
