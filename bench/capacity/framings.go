package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"earshot/client"
	"earshot/stages/ingest"
)

// framingSpec is one framing of a run (-framings): what the sessions send
// and the levels its searches try.
type framingSpec struct {
	// Name is the framing's canonical name: "pcm16:100" (raw PCM and its
	// frame in ms), or the device codec alone ("opus_fs320").
	Name    string
	Codec   string
	FrameMs int // raw PCM only: the frame; a device codec's frame is its packet
	// Levels (gate off, and the relay) and GateLevels (gate on): -levels
	// and -gate-levels unless -framing-levels or -framing-gate-levels name
	// the framing.
	Levels, GateLevels []int
}

// framingName is the canonical name of codec in frameMs frames: the codec
// and ":<ms>" for raw PCM, the codec alone for a device codec (whose
// frame is its packet).
func framingName(codec string, frameMs int) string {
	if ingest.Codec(codec).Raw() {
		return codec + ":" + strconv.Itoa(frameMs)
	}
	return codec
}

// runFraming is the name of the framing r ran with; runs of harnesses
// before -framings name none, so it is made from their codec and frame
// (pcm16 in 100 ms frames before -codec).
func runFraming(r *Run) string {
	switch {
	case r.Framing != "":
		return r.Framing
	case r.Codec == "":
		return framingName(string(ingest.CodecPCM16), defaultFrameMs)
	}
	return framingName(r.Codec, int(r.FrameMs+0.5))
}

// parseFramings parses -framings: framings separated by commas, each a
// codec of client.Codecs, raw PCM with an optional ":<frame ms>" (10 to
// 1000; 100 when left out), e.g. "pcm16:100,opus_fs320,opus". Each gets
// levels and gateLevels.
func parseFramings(s string, levels, gateLevels []int) ([]framingSpec, error) {
	var out []framingSpec
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		codec, ms, hasMs := strings.Cut(f, ":")
		if !slices.Contains(client.Codecs, codec) {
			return nil, fmt.Errorf("unknown codec %q in %q (%s)", codec, f, strings.Join(client.Codecs, ", "))
		}
		fs := framingSpec{Codec: codec, Levels: levels, GateLevels: gateLevels}
		switch raw := ingest.Codec(codec).Raw(); {
		case hasMs && !raw:
			return nil, fmt.Errorf("%q: a frame length is for pcm16 and pcm8 only; %s sends one packet per frame", f, codec)
		case !raw:
		case !hasMs:
			fs.FrameMs = defaultFrameMs
		default:
			n, err := strconv.Atoi(ms)
			if err != nil || n < 10 || n > 1000 {
				return nil, fmt.Errorf("%q: the frame must be 10 to 1000 ms", f)
			}
			fs.FrameMs = n
		}
		fs.Name = framingName(codec, fs.FrameMs)
		if slices.ContainsFunc(out, func(o framingSpec) bool { return o.Name == fs.Name }) {
			return nil, fmt.Errorf("%s given twice", fs.Name)
		}
		out = append(out, fs)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no framing in %q", s)
	}
	return out, nil
}

// parseFramingLevels parses -framing-levels or -framing-gate-levels:
// "<framing>=<levels>" separated by semicolons, e.g.
// "opus_fs320=50,100,150;pcm16:20=100,200", a framing written as in
// -framings (pcm16 alone is pcm16:100), its levels as in -levels. It calls
// set for each.
func parseFramingLevels(s string, specs []framingSpec, set func(fs *framingSpec, levels []int)) error {
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q is not <framing>=<levels>", part)
		}
		one, err := parseFramings(name, nil, nil)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(specs, func(fs framingSpec) bool { return fs.Name == one[0].Name })
		if i < 0 {
			return fmt.Errorf("%s is not one of the run's framings", one[0].Name)
		}
		levels, err := parseInts(list)
		if err == nil && len(levels) == 0 {
			err = errors.New("no levels")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", one[0].Name, err)
		}
		set(&specs[i], levels)
	}
	return nil
}
