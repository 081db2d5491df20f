// Command codecfix demuxes one reference encoder's output into a .pkt
// file (internal/packets) and adds its entry to fixtures/codecs'
// manifest.json; scripts/make-codec-fixtures.sh runs it once per file
// set. It encodes and decodes nothing: it reads the container (Ogg Opus,
// liblc3's LC3 file, AAC ADTS, or raw bytes cut into fixed-size packets),
// counts the Opus packets' modes from their TOC bytes, and measures how
// far the reference decode lags the source WAV.
//
// Usage:
//
//	go run ./scripts/codecfix -manifest M -name N -codec C -rate HZ \
//	    -container ogg|lc3|adts|raw [-frame-bytes N] -in FILE -pkt OUT \
//	    [-ref REF] [-decoded DEC] -ref-rate HZ [-ref-skip N] \
//	    -source WAV [-align WAV] -encoder CMD [-want-mode MODE]
//
// Paths in the manifest are relative to its folder; -in is recorded as
// the entry's encoded file when it lies in that folder.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"earshot/internal/packets"
)

// entry is one manifest.json entry; fixtures/codecs/README.md defines
// the fields.
type entry struct {
	Name           string         `json:"name"`
	Codec          string         `json:"codec"`
	SampleRate     int            `json:"sample_rate"`
	PacketMs       float64        `json:"packet_ms"`
	Packets        int            `json:"packets"`
	Pkt            string         `json:"pkt"`
	Encoded        string         `json:"encoded"`
	Ref            string         `json:"ref"`
	RefRate        int            `json:"ref_rate"`
	RefSkipSamples int            `json:"ref_skip_samples"`
	RefSamples     int            `json:"ref_samples"`
	PreSkip        *int           `json:"pre_skip,omitempty"`
	SourceDelay    *int           `json:"source_delay_samples"`
	RefSNR         *float64       `json:"ref_snr_db"`
	Source         string         `json:"source"`
	Encoder        string         `json:"encoder"`
	Modes          map[string]int `json:"modes,omitempty"`
	Text           string         `json:"text"`
}

// options are the command line's flags.
type options struct {
	manifest, name, codec, container, in, pkt string
	ref, decoded, source, align, encoder      string
	wantMode                                  string
	rate, frameBytes, refRate, refSkip        int
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("codecfix: ")
	var o options
	flag.StringVar(&o.manifest, "manifest", "", "manifest.json to add the entry to (created if missing)")
	flag.StringVar(&o.name, "name", "", "entry name, e.g. opus-celt10-fox")
	flag.StringVar(&o.codec, "codec", "", "the gateway's codec name")
	flag.IntVar(&o.rate, "rate", 0, "the session's sample rate in Hz")
	flag.StringVar(&o.container, "container", "", "ogg, lc3, adts or raw")
	flag.IntVar(&o.frameBytes, "frame-bytes", 0, "raw: bytes per packet (the last may be shorter)")
	flag.StringVar(&o.in, "in", "", "the encoder's output")
	flag.StringVar(&o.pkt, "pkt", "", ".pkt file to write")
	flag.StringVar(&o.ref, "ref", "", "reference decode kept with the fixtures (raw s16le mono), if any")
	flag.StringVar(&o.decoded, "decoded", "", "reference decode to measure only (default -ref)")
	flag.IntVar(&o.refRate, "ref-rate", 0, "the reference decode's rate in Hz")
	flag.IntVar(&o.refSkip, "ref-skip", -1, "leading samples of a full decode the reference lacks (-1: the Ogg pre-skip)")
	flag.StringVar(&o.source, "source", "", "the source WAV (its transcripts.tsv gives the text)")
	flag.StringVar(&o.align, "align", "", "WAV the decode is measured against (default -source)")
	flag.StringVar(&o.encoder, "encoder", "", "the encoder's command line")
	flag.StringVar(&o.wantMode, "want-mode", "", "ogg: fail unless 95% of packets are silk, hybrid or celt")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatalf("%s: %v", o.name, err)
	}
}

func run(o options) error {
	if o.manifest == "" || o.name == "" || o.codec == "" || o.rate <= 0 || o.refRate <= 0 ||
		o.in == "" || o.pkt == "" || o.source == "" || o.encoder == "" {
		return errors.New("missing flags (see the doc comment)")
	}
	e := entry{Name: o.name, Codec: o.codec, SampleRate: o.rate, RefRate: o.refRate, Encoder: o.encoder}
	pkts, err := demux(o, &e)
	if err != nil {
		return err
	}
	e.Packets = len(pkts)
	f, err := os.Create(o.pkt)
	if err != nil {
		return err
	}
	if err := packets.Write(f, pkts); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}

	dir := filepath.Dir(o.manifest)
	if e.Pkt, err = filepath.Rel(dir, o.pkt); err != nil {
		return err
	}
	if filepath.Dir(o.in) == dir {
		e.Encoded = filepath.Base(o.in)
	}
	if o.ref != "" {
		if e.Ref, err = filepath.Rel(dir, o.ref); err != nil {
			return err
		}
	}
	if e.Source, err = filepath.Rel(dir, o.source); err != nil {
		return err
	}
	if e.Text, err = transcript(o.source); err != nil {
		return err
	}
	if err := measure(o, &e); err != nil {
		return err
	}
	return addEntry(o.manifest, e)
}

// demux splits o.in into packets and fills in what the container tells
// of e: the packet duration, the Opus modes and pre-skip, the ref skip.
func demux(o options, e *entry) ([][]byte, error) {
	b, err := os.ReadFile(o.in)
	if err != nil {
		return nil, err
	}
	e.RefSkipSamples = o.refSkip
	var pkts [][]byte
	switch o.container {
	case "ogg":
		pre := 0
		if pkts, pre, err = packets.OggOpusPackets(bytes.NewReader(b)); err != nil {
			return nil, err
		}
		e.PreSkip = &pre
		if o.refSkip < 0 {
			if pre*o.refRate%48000 != 0 {
				return nil, fmt.Errorf("pre-skip %d is no whole number of samples at %d Hz", pre, o.refRate)
			}
			e.RefSkipSamples = pre * o.refRate / 48000
		}
		if e.Modes, e.PacketMs, err = opusModes(pkts, o.wantMode); err != nil {
			return nil, err
		}
		return pkts, nil
	case "lc3":
		var h packets.LC3Header
		if h, pkts, err = packets.ParseLC3File(b); err != nil {
			return nil, err
		}
		if h.SampleRate != o.rate || h.Channels != 1 {
			return nil, fmt.Errorf("LC3 file at %d Hz, %d channels; want %d Hz mono", h.SampleRate, h.Channels, o.rate)
		}
		e.PacketMs = float64(h.FrameDuration.Microseconds()) / 1000
	case "adts":
		if pkts, err = packets.SplitADTS(b); err != nil {
			return nil, err
		}
		e.PacketMs = 1024 * 1000 / float64(o.rate) // AAC-LC: 1024 samples a frame
	case "raw":
		if o.frameBytes <= 0 {
			return nil, errors.New("raw needs -frame-bytes")
		}
		for off := 0; off < len(b); off += o.frameBytes {
			pkts = append(pkts, b[off:min(off+o.frameBytes, len(b))])
		}
		e.PacketMs = float64(o.frameBytes) * 1000 / float64(o.rate) // one byte a sample
	default:
		return nil, fmt.Errorf("unknown container %q", o.container)
	}
	if o.refSkip < 0 {
		return nil, fmt.Errorf("container %s needs -ref-skip", o.container)
	}
	return pkts, nil
}

// opusModes counts the packets of each Opus mode (RFC 6716 section 3.1:
// TOC config 0-11 SILK-only, 12-15 hybrid, 16-31 CELT-only) and returns
// the packets' duration, which must be the same for all. With want set,
// at least 95% of the packets must be in that mode.
func opusModes(pkts [][]byte, want string) (map[string]int, float64, error) {
	modes := map[string]int{"silk": 0, "hybrid": 0, "celt": 0}
	durs := map[float64]int{}
	for i, p := range pkts {
		if len(p) == 0 {
			return nil, 0, fmt.Errorf("packet %d is empty", i)
		}
		config := int(p[0] >> 3)
		var mode string
		var frameMs float64
		switch {
		case config < 12:
			mode, frameMs = "silk", []float64{10, 20, 40, 60}[config%4]
		case config < 16:
			mode, frameMs = "hybrid", []float64{10, 20}[config%2]
		default:
			mode, frameMs = "celt", []float64{2.5, 5, 10, 20}[config%4]
		}
		frames := 1
		switch p[0] & 3 {
		case 1, 2:
			frames = 2
		case 3:
			if len(p) < 2 {
				return nil, 0, fmt.Errorf("packet %d: code 3 without a frame count", i)
			}
			frames = int(p[1] & 0x3f)
		}
		modes[mode]++
		durs[frameMs*float64(frames)]++
	}
	if len(durs) != 1 {
		return nil, 0, fmt.Errorf("packet durations vary: %v (ms: count)", durs)
	}
	if want != "" && modes[want]*100 < 95*len(pkts) {
		return nil, 0, fmt.Errorf("modes %v: under 95%% %s", modes, want)
	}
	var ms float64
	for d := range durs {
		ms = d
	}
	return modes, ms, nil
}

// transcript returns the text transcripts.tsv, beside wav, gives for it.
func transcript(wav string) (string, error) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(wav), "transcripts.tsv"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Split(strings.TrimRight(line, "\r\n"), "\t"); len(f) >= 2 && f[0] == filepath.Base(wav) {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s: not in transcripts.tsv", wav)
}

// addEntry adds e to the manifest at path, replacing an entry of the same
// name, and writes it back.
func addEntry(path string, e entry) error {
	var all []entry
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &all); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	replaced := false
	for i := range all {
		if all[i].Name == e.Name {
			all[i], replaced = e, true
		}
	}
	if !replaced {
		all = append(all, e)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the encoder lines hold "&&"
	enc.SetIndent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}
