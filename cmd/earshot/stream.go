package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"earshot/client"
)

// streamUsage heads `earshot stream -h`.
const streamUsage = `usage: earshot stream [flags] file.wav

Streams a WAV file to a /v4/listen endpoint the way the Omi app's live test
does: 100 ms chunks of 16-bit PCM at the chosen pace (or, with --codec, the
packets a device sends: opus 10 ms and opus_fs320 20 ms from libopus in
restricted low-delay mode, lc3/lc3_fs1030 10 ms 30-byte frames from liblc3,
both in a build with -tags libcodecs; aac ADTS frames from the ffmpeg
command; mulaw8/mulaw16 20 ms G.711 frames), the server's "ping"
answered with the binary frame 0x8A 0x00, segments upserted by id. Prints
the live transcript and, per session and in aggregate: how long the
connection was held, the close code, segments, words, the final transcript,
the WER against a reference, the latency from the first chunk to the first
segment, and update latency percentiles (from sending the chunk that holds
a segment's end, placed on the capture clock by the audio's first speech,
to receiving that segment update).

The WAV (PCM 8/16/24/32-bit or float 32/64-bit, any rate and channel count)
is downmixed to mono and resampled (linear interpolation) to --sample-rate.

A session fails when it cannot connect, is closed (by either side) with a
code other than 1000 or without a closing handshake (1006), or sent speech
and got no segment (not checked in mode disconnect); then the exit status
is 1. Speech means a 10 ms frame above -30 dBFS RMS.

Modes: podcast (one session for the whole audio, --loops times),
disconnect (close after --disconnect-after seconds), concurrent (--sessions
podcast sessions started --stagger seconds apart).

Flags may come before or after the file.
`

// streamProgressEvery is how often a progress line goes to stderr.
const streamProgressEvery = 10 * time.Second

// runStream runs `earshot stream [flags] file.wav`. Results go to stdout
// (one JSON object with --json), the live transcript to stdout (stderr with
// --json) unless --quiet, progress lines and notes to stderr. It returns an
// error wrapping client.ErrFailed when a session failed.
func runStream(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), streamUsage, "\nflags:\n")
		fs.PrintDefaults()
	}
	url := envString(fs, "url", "EARSHOT_STREAM_URL", client.DefaultURL, "listen endpoint (ws:// or wss://)")
	// Not envString: its default would print the key in -h.
	key := fs.String("key", "", `client key, sent as "Authorization: Bearer <key>" (env EARSHOT_API_KEY; default "dev-key")`)
	language := envString(fs, "language", "EARSHOT_STREAM_LANGUAGE", "en", "language parameter")
	rate := envInt(fs, "sample-rate", "EARSHOT_STREAM_SAMPLE_RATE", client.DefaultSampleRate, "session sample rate in Hz; the WAV is resampled to it")
	codec := envString(fs, "codec", "EARSHOT_STREAM_CODEC", "", strings.Join(client.Codecs, ", ")+
		" (default: pcm8 at 8000 Hz, else pcm16); the others are sent as device-shaped packets, one per frame, paced at their duration")
	pace := envFloat(fs, "pace", "EARSHOT_STREAM_PACE", 1, "1 = real time, 10 = ten times faster, 0 = as fast as possible")
	loops := envInt(fs, "loops", "EARSHOT_STREAM_LOOPS", 1, "send the audio this many times, back to back")
	mode := envString(fs, "mode", "EARSHOT_STREAM_MODE", string(client.ModePodcast), "podcast, disconnect or concurrent")
	disconnectAfter := envFloat(fs, "disconnect-after", "EARSHOT_STREAM_DISCONNECT_AFTER", client.DefaultDisconnectAfter.Seconds(),
		"mode disconnect: close this many seconds after connecting")
	sessions := envInt(fs, "sessions", "EARSHOT_STREAM_SESSIONS", client.DefaultSessions, "mode concurrent: number of sessions")
	stagger := envFloat(fs, "stagger", "EARSHOT_STREAM_STAGGER", client.DefaultStagger.Seconds(), "mode concurrent: seconds between session starts")
	ref := fs.String("ref", "", "reference text for the WER")
	refFile := fs.String("ref-file", "", "transcripts.tsv whose row for the WAV's base name is the reference")
	waitFinal := envFloat(fs, "wait-final", "EARSHOT_STREAM_WAIT_FINAL", client.DefaultWaitFinal.Seconds(),
		"after the audio, close once this many seconds pass without a segment update (at most "+
			strconv.Itoa(client.WaitFinalRounds)+" times this in all)")
	jsonOut := envBool(fs, "json", "EARSHOT_STREAM_JSON", "print one JSON object with per-session and aggregate results")
	quiet := envBool(fs, "quiet", "EARSHOT_STREAM_QUIET", "do not print the live transcript")

	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := checkEnv(); err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return fmt.Errorf("want one WAV file, got %d arguments", len(files))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	m := client.Mode(*mode)
	switch {
	case set["disconnect-after"] && m != client.ModeDisconnect:
		return errors.New("--disconnect-after applies to --mode disconnect")
	case (set["sessions"] || set["stagger"]) && m != client.ModeConcurrent:
		return errors.New("--sessions and --stagger apply to --mode concurrent")
	case *ref != "" && *refFile != "":
		return errors.New("give --ref or --ref-file, not both")
	}
	if *key == "" {
		*key = os.Getenv("EARSHOT_API_KEY")
	}
	if *key == "" {
		*key = "dev-key"
	}
	if *codec == "" {
		*codec = "pcm16"
		if *rate == 8000 {
			*codec = "pcm8"
		}
	}
	for name, v := range map[string]float64{"pace": *pace, "disconnect-after": *disconnectAfter, "stagger": *stagger, "wait-final": *waitFinal} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("bad --%s %v", name, v)
		}
	}
	if *rate < 1 {
		return fmt.Errorf("bad --sample-rate %d", *rate)
	}

	path := files[0]
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	wav, err := client.ParseWAV(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	refText := *ref
	if *refFile != "" {
		f, err := os.Open(*refFile)
		if err != nil {
			return err
		}
		refText, err = client.RefFromTSV(f, path)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *refFile, err)
		}
	}
	kind := "PCM"
	if wav.Format == client.FormatFloat {
		kind = "float"
	}
	fmt.Fprintf(stderr, "stream: %s: %d Hz, %d channel(s), %d-bit %s, %.2f s; sending mono %d Hz %s\n",
		filepath.Base(path), wav.SampleRate, wav.Channels, wav.BitsPerSample, kind, wav.Duration(), *rate, *codec)

	live := stdout
	if *jsonOut {
		live = stderr
	}
	audio := client.Prepare(wav, *rate)
	enc, err := client.Encode(ctx, *codec, audio, *rate)
	if err != nil {
		return err
	}
	if enc.Packets != nil {
		fmt.Fprintf(stderr, "stream: %d %s packets of %.1f ms (%s)\n", len(enc.Packets), *codec,
			float64(enc.PacketSamples)*1000/float64(*rate), enc.Encoder)
	}
	cfg := client.Config{
		URL: *url, Key: *key, Language: *language, SampleRate: *rate, Codec: *codec,
		Audio: audio, Packets: enc.Packets, PacketSamples: enc.PacketSamples, Loops: *loops, Pace: *pace, Mode: m,
		DisconnectAfter: seconds(*disconnectAfter), Sessions: *sessions, Stagger: seconds(*stagger),
		WaitFinal: seconds(*waitFinal), Ref: refText, ProgressEvery: streamProgressEvery,
		OnProgress: func(p client.Progress) {
			fmt.Fprintf(stderr, "progress: %.0f s, %d active session(s), %.1f s of audio sent, %d words\n",
				p.Elapsed.Seconds(), p.Active, p.AudioSentS, p.Words)
		},
	}
	if !*quiet {
		multi := m == client.ModeConcurrent && *sessions > 1
		cfg.OnEvent = func(e client.Event) { printEvent(live, e, multi) }
	}
	rep, runErr := client.Run(ctx, cfg)
	if rep == nil {
		return runErr
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	return runErr
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns those arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// printEvent prints one live event.
func printEvent(w io.Writer, e client.Event, multi bool) {
	prefix := fmt.Sprintf("[%6.2fs]", e.Elapsed.Seconds())
	if multi {
		prefix = fmt.Sprintf("[s%d %6.2fs]", e.Session, e.Elapsed.Seconds())
	}
	switch e.Kind {
	case client.EventSegment:
		mark := "~"
		if e.New {
			mark = "+"
		}
		lat := ""
		if e.Latency >= 0 {
			lat = fmt.Sprintf("  (%d ms)", e.Latency.Milliseconds())
		}
		fmt.Fprintf(w, "%s %s %s %6.2f-%6.2f %s%s\n", prefix, mark, e.Segment.Speaker, e.Segment.Start, e.Segment.End, e.Segment.Text, lat)
	case client.EventDeleted:
		fmt.Fprintf(w, "%s - deleted %s\n", prefix, e.Text)
	case client.EventStatus:
		fmt.Fprintf(w, "%s status %s\n", prefix, e.Text)
	case client.EventConnected:
		fmt.Fprintf(w, "%s connected\n", prefix)
	default:
		fmt.Fprintf(w, "%s %s\n", prefix, e.Text)
	}
}

// printReport prints the per-session and aggregate results.
func printReport(w io.Writer, r *client.Report) {
	fmt.Fprintf(w, "\n%s, %d Hz %s, pace %g, %d loop(s) of %.2f s audio", r.Mode, r.SampleRate, r.Codec, r.Pace, r.Loops, r.AudioS)
	if r.SpeechAtS != nil {
		fmt.Fprintf(w, ", speech from %.2f s", *r.SpeechAtS)
	} else {
		fmt.Fprint(w, ", no speech detected")
	}
	fmt.Fprintf(w, "; ran %.2f s\n", r.ElapsedS)
	for _, s := range r.Sessions {
		state := "ok"
		if s.Failed {
			state = "FAILED: " + s.Failure
		}
		fmt.Fprintf(w, "session %d: %s\n", s.Session, state)
		if !s.Connected {
			continue
		}
		row(w, "connection held", "%.3f s, closed by %s with %d %s", s.HeldS, s.ClosedBy, s.CloseCode, quoteReason(s.CloseReason))
		row(w, "audio sent", "%.3f s in %d chunks; %d pings answered", s.AudioSentS, s.Chunks, s.Pings)
		row(w, "segments", "%d (%d deleted, %d updates), %d words", s.Segments, s.SegmentsDeleted, s.Updates, s.Words)
		if s.FirstSegmentMs != nil {
			row(w, "first segment", "%.1f ms after the first chunk", *s.FirstSegmentMs)
		} else {
			row(w, "first segment", "none")
		}
		row(w, "update latency", "%s", latency(s.UpdateLatency))
		if s.WER != nil {
			row(w, "WER", "%s", wer(*s.WER))
		}
		row(w, "transcript", "%s", s.Transcript)
	}
	a := r.Aggregate
	fmt.Fprintf(w, "aggregate: %d session(s), %d connected, %d failed\n", a.Sessions, a.Connected, a.Failed)
	row(w, "connection held", "%.3f s in total; close codes %s", a.HeldS, strings.Join(client.CloseCodeList(a.CloseCodes), " "))
	row(w, "audio sent", "%.3f s", a.AudioSentS)
	row(w, "segments", "%d (%d deleted, %d updates), %d words", a.Segments, a.SegmentsDeleted, a.Updates, a.Words)
	row(w, "first segment", "%s", latency(a.FirstSegment))
	row(w, "update latency", "%s", latency(a.UpdateLatency))
	if a.WER != nil {
		row(w, "WER", "%s", wer(*a.WER))
	}
}

func row(w io.Writer, name, format string, args ...any) {
	fmt.Fprintf(w, "  %-16s %s\n", name, fmt.Sprintf(format, args...))
}

func latency(p client.Percentiles) string {
	if p.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.1f  p90 %.1f  p99 %.1f  max %.1f ms (%d samples)", p.P50, p.P90, p.P99, p.Max, p.Count)
}

func wer(r client.WERResult) string {
	return fmt.Sprintf("%.1f%% (%d edits / %d reference words; %d words heard)", 100*r.Rate, r.Edits, r.RefWords, r.HypWords)
}

func quoteReason(s string) string {
	if s == "" {
		return "(no reason)"
	}
	return strconv.Quote(s)
}
