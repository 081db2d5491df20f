package pipeline

import (
	"context"
	"sync/atomic"

	"earshot/stages"
	"earshot/stages/connector"
	"earshot/stages/gate"
	"earshot/stages/ingest"
)

// chain is one channel's stages: ingest → gate → connector, with its own
// decoder, gate, upstream socket, replay ring and capture clock.
type chain struct {
	ing  *ingest.Ingest
	gt   *gate.Gate
	conn *connector.Connector
}

// newChains makes the session's chains, one per channel, and records
// their ingest stages for the reader's pace.
func (s *session) newChains() []chain {
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
		c.conn = connector.New(cfg.Connector, stages.StreamConfig{
			SampleRateHz: s.params.SampleRateHz, Channels: 1, Language: s.params.Language,
		}, connector.Deps{
			Provider: s.srv.deps.Provider, Metrics: m.connector, Logger: log,
			Breaker: s.srv.up.breaker, Budget: s.srv.up.budget, Chunks: s.srv.deps.Chunks,
		})
		s.ings[i] = c.ing
	}
	return chains
}

// startChains starts every chain on the reader's frames and returns the
// channel of their updates for the fan-out. One chain reads frames
// itself and its connector's output is the result. Several chains get
// their frames from a demux (frames of [channel id][payload]) and their
// updates are fanned in, each tagged with its channel (1-based); the last
// forwarder to finish closes the fanned-in channel.
func (s *session) startChains(goStage func(string, int, func(context.Context) error), chains []chain,
	frames chan []byte) <-chan stages.Update {
	depth := s.srv.cfg.ChannelDepth
	n := len(chains)
	ins := make([]chan []byte, n)
	if n == 1 {
		ins[0] = frames
	} else {
		outs := make([]chan<- []byte, n)
		for i := range ins {
			ins[i] = make(chan []byte, depth)
			outs[i] = ins[i]
		}
		d := ingest.NewDemux(n, s.srv.m.ingest)
		goStage("demux", 0, func(ctx context.Context) error { return d.Run(ctx, frames, outs) })
	}
	ups := make([]chan stages.Update, n)
	for i := range chains {
		c, ch := chains[i], 0
		if n > 1 {
			ch = i + 1
		}
		audio := make(chan stages.Audio, depth)
		gated := make(chan stages.Audio, depth)
		ups[i] = make(chan stages.Update, depth)
		in, up := ins[i], ups[i]
		goStage("ingest", ch, func(ctx context.Context) error { return c.ing.Run(ctx, in, audio) })
		goStage("gate", ch, func(ctx context.Context) error { return c.gt.Run(ctx, audio, gated) })
		goStage("connector", ch, func(ctx context.Context) error { return c.conn.Run(ctx, gated, up) })
	}
	if n == 1 {
		return ups[0]
	}
	out := make(chan stages.Update, depth)
	var running atomic.Int32
	running.Store(int32(n))
	for i, in := range ups {
		goStage("fanin", i+1, func(ctx context.Context) error {
			defer func() {
				if running.Add(-1) == 0 {
					close(out)
				}
			}()
			for {
				u, ok, err := stages.Recv(ctx, in)
				if err != nil || !ok {
					return err
				}
				u.Channel = i + 1
				if err := stages.Send(ctx, out, u); err != nil {
					return err
				}
			}
		})
	}
	return out
}
