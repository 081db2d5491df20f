package pusher_test

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"ws://p:8080", "ws://p:8080/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"wss://p.example", "wss://p.example/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"http://p", "ws://p/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"https://p", "wss://p/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"ws://p/", "ws://p/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"wss://p/prefix", "wss://p/prefix/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"wss://p/prefix/", "wss://p/prefix/v1/trigger/listen?sample_rate=16000&uid=u1"},
		{"ws://p?old=1", "ws://p/v1/trigger/listen?sample_rate=16000&uid=u1"},
	} {
		got, err := pusher.URL(tc.base, "u1", 16000)
		td.CmpNoError(t, err, tc.base)
		td.Cmp(t, got, tc.want, tc.base)
	}
	// The uid is escaped.
	got, err := pusher.URL("ws://p", "a b&c=d/é", 8000)
	td.CmpNoError(t, err)
	td.Cmp(t, got, "ws://p/v1/trigger/listen?sample_rate=8000&uid=a+b%26c%3Dd%2F%C3%A9")
}

func TestURLErrors(t *testing.T) {
	for base, want := range map[string]string{
		"ftp://p":    `scheme must be ws, wss, http or https`,
		"p:8080":     `scheme must be`,
		"":           `scheme must be`,
		"ws://":      `no host`,
		"ws:///path": `no host`,
		"ws://[::1":  `pusher url: `,
		"://p":       `pusher url: `,
	} {
		_, err := pusher.URL(base, "u", 16000)
		td.Cmp(t, err, td.Contains(want), base)
	}
}

func TestParse(t *testing.T) {
	for _, short := range [][]byte{nil, {}, {100}, {100, 0, 0}} {
		_, _, err := pusher.Parse(short)
		td.Cmp(t, err, td.ErrorIs(pusher.ErrShort), "%v", short)
	}
	kind, payload, err := pusher.Parse([]byte{100, 0, 0, 0})
	td.CmpNoError(t, err)
	td.Cmp(t, kind, pusher.KindHeartbeat)
	td.CmpEmpty(t, payload)

	frame := pusher.AppendFrame([]byte("prefix"), pusher.KindConversation, []byte("conv-1"))
	td.Cmp(t, frame, append([]byte("prefix\x67\x00\x00\x00"), "conv-1"...))
	kind, payload, err = pusher.Parse(frame[len("prefix"):])
	td.CmpNoError(t, err)
	td.Cmp(t, kind, pusher.KindConversation)
	td.Cmp(t, string(payload), "conv-1")
	payload[0] = 'C' // the payload aliases the frame
	td.Cmp(t, string(frame[len("prefix")+4:]), "Conv-1")

	// Unknown kinds come back as they are.
	kind, _, err = pusher.Parse(binary.LittleEndian.AppendUint32(nil, 0xdeadbeef))
	td.CmpNoError(t, err)
	td.Cmp(t, kind, pusher.Kind(0xdeadbeef))
}

func TestKindValues(t *testing.T) {
	td.Cmp(t, []pusher.Kind{
		pusher.KindHeartbeat, pusher.KindAudio, pusher.KindSegments, pusher.KindConversation,
		pusher.KindProcess, pusher.KindSpeakerSamples, pusher.KindResult,
	}, []pusher.Kind{100, 101, 102, 103, 104, 105, 201})
	td.Cmp(t, pusher.Path, "/v1/trigger/listen")
}

func TestParseAudio(t *testing.T) {
	frame := pusher.AppendAudio(nil, 1700000000.25, []byte{1, 2, 3, 4})
	td.Cmp(t, len(frame), 4+8+4)
	kind, payload, err := pusher.Parse(frame)
	td.CmpNoError(t, err)
	td.Cmp(t, kind, pusher.KindAudio)
	start, pcm, err := pusher.ParseAudio(payload)
	td.CmpNoError(t, err)
	td.Cmp(t, start, 1700000000.25)
	td.Cmp(t, pcm, []byte{1, 2, 3, 4})

	start, pcm, err = pusher.ParseAudio(pusher.AppendAudio(nil, 1, nil)[4:])
	td.CmpNoError(t, err)
	td.Cmp(t, start, 1.0)
	td.CmpEmpty(t, pcm)

	stamp := func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }
	for name, tc := range map[string]struct {
		payload []byte
		want    error
	}{
		"empty":     {nil, pusher.ErrShort},
		"7 bytes":   {make([]byte, 7), pusher.ErrShort},
		"zero time": {stamp(0), pusher.ErrBadAudio},
		"negative":  {stamp(-1), pusher.ErrBadAudio},
		"NaN":       {stamp(math.NaN()), pusher.ErrBadAudio},
		"+Inf":      {stamp(math.Inf(1)), pusher.ErrBadAudio},
		"-Inf":      {stamp(math.Inf(-1)), pusher.ErrBadAudio},
		"odd PCM":   {append(stamp(1), 1, 2, 3), pusher.ErrBadAudio},
	} {
		_, _, err := pusher.ParseAudio(tc.payload)
		td.Cmp(t, err, td.ErrorIs(tc.want), name)
	}
}

func TestValidConversationID(t *testing.T) {
	for _, id := range []string{
		"a", "Z", "0", "-", "_", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "conv_1-B",
		strings.Repeat("x", pusher.MaxConversationIDBytes),
	} {
		td.CmpTrue(t, pusher.ValidConversationID(id), id)
	}
	for _, id := range []string{
		"", ".", "..", "../etc", "a/b", `a\b`, "a b", "a.b", ".staging", "é", "a\x00",
		strings.Repeat("x", pusher.MaxConversationIDBytes+1),
	} {
		td.CmpFalse(t, pusher.ValidConversationID(id), "%q", id)
	}
}
