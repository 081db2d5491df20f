package pusher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Kind is a frame's 4-byte little-endian header.
type Kind uint32

// Frame kinds (spec/pusher.md).
const (
	// KindHeartbeat: no payload; sent every 20 s so that load balancers
	// keep an idle connection.
	KindHeartbeat Kind = 100
	// KindAudio: an 8-byte little-endian float64, the unix time in seconds
	// of the buffer's first sample, then mono PCM16 little-endian.
	KindAudio Kind = 101
	// KindSegments: JSON Segments.
	KindSegments Kind = 102
	// KindConversation: the UTF-8 id of the conversation the audio that
	// follows belongs to.
	KindConversation Kind = 103
	// KindProcess: JSON Process, process this finished conversation.
	KindProcess Kind = 104
	// KindSpeakerSamples: JSON SpeakerSamples.
	KindSpeakerSamples Kind = 105
	// KindResult: JSON Result, the pusher's answer to a KindProcess.
	KindResult Kind = 201
)

// Path is the pusher's listen endpoint; URL adds it to a base address.
const Path = "/v1/trigger/listen"

// Errors of Parse and ParseAudio.
var (
	// ErrShort: a frame shorter than its header, or an audio payload
	// shorter than its timestamp.
	ErrShort = errors.New("pusher frame too short")
	// ErrBadAudio: an audio payload whose timestamp is not a finite
	// positive number or whose PCM has an odd number of bytes.
	ErrBadAudio = errors.New("bad pusher audio payload")
)

// HeaderBytes is the size of a frame's header.
const HeaderBytes = 4

// audioStampBytes is the size of an audio payload's timestamp.
const audioStampBytes = 8

// AppendFrame appends the frame of kind with payload to dst.
func AppendFrame(dst []byte, kind Kind, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(kind))
	return append(dst, payload...)
}

// AppendAudio appends a KindAudio frame to dst: startUnix is the unix
// time in seconds of pcm's first sample; pcm is mono PCM16 little-endian.
func AppendAudio(dst []byte, startUnix float64, pcm []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(KindAudio))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(startUnix))
	return append(dst, pcm...)
}

// Parse splits a binary frame into its kind and payload. The payload
// aliases frame. Kinds it does not know are returned as they are; the
// caller decides (a receiver ignores them).
func Parse(frame []byte) (Kind, []byte, error) {
	if len(frame) < HeaderBytes {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrShort, len(frame))
	}
	return Kind(binary.LittleEndian.Uint32(frame)), frame[HeaderBytes:], nil
}

// ParseAudio splits a KindAudio payload into its start time (unix
// seconds) and PCM (aliasing payload).
func ParseAudio(payload []byte) (startUnix float64, pcm []byte, err error) {
	if len(payload) < audioStampBytes {
		return 0, nil, fmt.Errorf("%w: audio payload of %d bytes", ErrShort, len(payload))
	}
	t := math.Float64frombits(binary.LittleEndian.Uint64(payload))
	pcm = payload[audioStampBytes:]
	if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return 0, nil, fmt.Errorf("%w: start time %v", ErrBadAudio, t)
	}
	if len(pcm)%2 != 0 {
		return 0, nil, fmt.Errorf("%w: %d bytes of PCM", ErrBadAudio, len(pcm))
	}
	return t, pcm, nil
}

// URL is the pusher connection's address for a session: base (ws:// or
// wss://, http:// and https:// taken as the same, with an optional path
// prefix) joined with Path, with the uid and sample_rate query
// parameters.
func URL(base, uid string, sampleRateHz int) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("pusher url: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("pusher url %q: scheme must be ws, wss, http or https", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("pusher url %q: no host", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + Path
	q := url.Values{}
	q.Set("uid", uid)
	q.Set("sample_rate", strconv.Itoa(sampleRateHz))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// MaxConversationIDBytes bounds a conversation id.
const MaxConversationIDBytes = 64

// ValidConversationID reports whether id is a conversation id a receiver
// may use as a file name: 1 to MaxConversationIDBytes ASCII letters,
// digits, '-' and '_' (a UUID is one).
func ValidConversationID(id string) bool {
	if id == "" || len(id) > MaxConversationIDBytes {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
