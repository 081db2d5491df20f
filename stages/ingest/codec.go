package ingest

import (
	"fmt"
	"slices"
	"strings"

	"earshot/internal/clip"
	"earshot/internal/libav"
	"earshot/internal/liblc3"
)

// Codec names a client audio encoding (spec/listen-protocol.md), as the
// codec query parameter spells it.
type Codec string

// The codecs a session may name. pcm8 and pcm16 are both raw little-endian
// signed 16-bit mono PCM, and mulaw8 and mulaw16 both G.711 µ-law, one byte
// a sample; their digit names the device's kHz, the real rate is the
// session's sample_rate. The packet codecs carry one packet (or, for
// lc3_fs1030, whole 30-byte frames) per binary frame.
const (
	CodecPCM8      Codec = "pcm8"
	CodecPCM16     Codec = "pcm16"
	CodecMulaw8    Codec = "mulaw8"
	CodecMulaw16   Codec = "mulaw16"
	CodecOpus      Codec = "opus"       // Opus, 10 ms packets as the Omi firmware sends (any up to 120 ms decode)
	CodecOpusFS320 Codec = "opus_fs320" // Opus, 20 ms packets
	CodecLC3       Codec = "lc3"        // LC3, one 10 ms frame of 20-400 bytes per binary frame
	CodecLC3FS1030 Codec = "lc3_fs1030" // LC3, 10 ms frames of 30 bytes, one or more per binary frame
	CodecAAC       Codec = "aac"        // AAC-LC in ADTS, any split
)

// Info describes what a codec needs and how ingest decodes it.
type Info struct {
	// Codec is the name.
	Codec Codec
	// RatesHz are the session sample rates the decoder can produce;
	// empty means any rate the session accepts.
	RatesHz []int
	// PacketMs is the duration of one nominal packet in milliseconds (0
	// for the sample codecs): what a bad packet is concealed with before
	// a good one has told the real duration.
	PacketMs int
	// Decoder names the implementation, for docs and logs.
	Decoder string
	// Available reports whether this build decodes the codec.
	Available bool
	// Needs names what a build needs to decode it, when it does not.
	Needs string
}

// The rates Opus decoders produce, and the rates LC3 is defined at (its
// 44.1 kHz variant aside).
var (
	opusRates = []int{8000, 12000, 16000, 24000, 48000}
	lc3Rates  = []int{8000, 16000, 24000, 32000, 48000}
)

// Codecs lists every codec a session may name, in the README's order.
func Codecs() []Info {
	return []Info{
		{Codec: CodecPCM8, Decoder: "raw s16le", Available: true},
		{Codec: CodecPCM16, Decoder: "raw s16le", Available: true},
		{Codec: CodecMulaw8, Decoder: "G.711 µ-law (github.com/zaf/g711)", Available: true},
		{Codec: CodecMulaw16, Decoder: "G.711 µ-law (github.com/zaf/g711)", Available: true},
		{Codec: CodecOpus, RatesHz: opusRates, PacketMs: 10, Decoder: "github.com/pion/opus", Available: true},
		{Codec: CodecOpusFS320, RatesHz: opusRates, PacketMs: 20, Decoder: "github.com/pion/opus", Available: true},
		{Codec: CodecLC3, RatesHz: lc3Rates, PacketMs: 10, Decoder: "liblc3 (cgo)",
			Available: liblc3.Available, Needs: "a build with -tags libcodecs (liblc3)"},
		{Codec: CodecLC3FS1030, RatesHz: lc3Rates, PacketMs: 10, Decoder: "liblc3 (cgo)",
			Available: liblc3.Available, Needs: "a build with -tags libcodecs (liblc3)"},
		{Codec: CodecAAC, PacketMs: 64, Decoder: "FFmpeg libavcodec (cgo)",
			Available: libav.Available, Needs: "a build with -tags libcodecs (libavcodec)"},
	}
}

// Lookup returns the Info of codec c.
func Lookup(c Codec) (Info, bool) {
	i := slices.IndexFunc(Codecs(), func(in Info) bool { return in.Codec == c })
	if i < 0 {
		return Info{}, false
	}
	return Codecs()[i], true
}

// ParseCodec validates a client codec name and its pairing with the
// session's sample rate. Its errors are *FormatError: the text names the
// codec and what is wrong, short enough for a close reason.
func ParseCodec(s string, rateHz int) (Codec, error) {
	info, ok := Lookup(Codec(s))
	switch {
	case !ok:
		var names []string
		for _, in := range Codecs() {
			if in.Available {
				names = append(names, string(in.Codec))
			}
		}
		return "", &FormatError{fmt.Sprintf(`codec "%s" is not supported (%s)`, clip.Printable(s, nameBytes), strings.Join(names, ", "))}
	case !info.Available:
		return "", &FormatError{fmt.Sprintf("codec %s needs %s", s, info.Needs)}
	case len(info.RatesHz) > 0 && !slices.Contains(info.RatesHz, rateHz):
		return "", &FormatError{fmt.Sprintf("codec %s cannot produce sample_rate %d (only %s)", s, rateHz, rateList(info.RatesHz))}
	}
	return info.Codec, nil
}

func rateList(rates []int) string {
	var b strings.Builder
	for i, r := range rates {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", r)
	}
	return b.String()
}

// nameBytes is the most of a client's codec name a close reason repeats.
const nameBytes = 16

// FormatError is a codec the session cannot use. Its text is the close
// reason sent with 1003; it wraps ErrUnsupportedFormat.
type FormatError struct{ Reason string }

func (e *FormatError) Error() string { return e.Reason }

// Unwrap returns ErrUnsupportedFormat.
func (e *FormatError) Unwrap() error { return ErrUnsupportedFormat }

// Raw reports whether c is raw 16-bit PCM, whose frames' duration is
// known from their length before decoding.
func (c Codec) Raw() bool { return c == CodecPCM8 || c == CodecPCM16 }
