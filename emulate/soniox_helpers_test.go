package emulate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// stdStart is a start message with every option the emulator reads.
const stdStart = `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1,
	"language_hints": ["en"], "enable_speaker_diarization": true, "enable_endpoint_detection": true,
	"context": {"terms": ["earshot"]}}`

// sonioxConfig is cfg speaking Soniox's protocol.
func sonioxConfig(cfg emulate.Config) emulate.Config {
	cfg.Protocol = emulate.ProtocolSoniox
	return cfg
}

// sonioxURL is the WebSocket URL of the Soniox endpoint.
func (h *harness) sonioxURL() string {
	return "ws" + strings.TrimPrefix(h.base, "http") + emulate.SonioxPath
}

// dialSoniox opens a Soniox stream with "Authorization: Bearer <key>" (none
// if key is "").
func (h *harness) dialSoniox(ctx context.Context, key string) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	if key != "" {
		hdr.Set("Authorization", "Bearer "+key)
	}
	return websocket.Dial(ctx, h.sonioxURL(), &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: h.client})
}

// startSoniox opens a Soniox stream with the test key and sends start.
func (h *harness) startSoniox(t *testing.T, ctx context.Context, start string) *websocket.Conn {
	t.Helper()
	c, _, err := h.dialSoniox(ctx, testKey)
	td.Require(t).CmpNoError(err)
	t.Cleanup(func() { _ = c.CloseNow() })
	sendText(t, ctx, c, start)
	return c
}

// token is a token as a Soniox client decodes it.
type token struct {
	Text       string   `json:"text"`
	StartMs    *int64   `json:"start_ms"`
	EndMs      *int64   `json:"end_ms"`
	Confidence *float64 `json:"confidence"`
	IsFinal    bool     `json:"is_final"`
	Speaker    string   `json:"speaker"`
	Language   string   `json:"language"`
}

// response is a Soniox server message: a result or an error response.
type response struct {
	Tokens           []token         `json:"tokens"`
	FinalAudioProcMs int64           `json:"final_audio_proc_ms"`
	TotalAudioProcMs int64           `json:"total_audio_proc_ms"`
	Finished         bool            `json:"finished"`
	ErrorCode        int             `json:"error_code"`
	ErrorMessage     string          `json:"error_message"`
	RequestID        string          `json:"request_id"`
	Raw              json.RawMessage `json:"-"`
}

// readSoniox reads text messages until the connection ends and returns
// them with the error that ended it. It may run on any goroutine: a
// message it cannot decode fails the test (not fatally) and ends the read.
func readSoniox(t *testing.T, ctx context.Context, c *websocket.Conn) ([]response, error) {
	t.Helper()
	var out []response
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return out, err
		}
		var r response
		if err := json.Unmarshal(b, &r); typ != websocket.MessageText || err != nil {
			t.Errorf("message %d: not a JSON text message (%v, %v): %q", len(out), typ, err, b)
			return out, errors.New("bad message")
		}
		r.Raw = b
		out = append(out, r)
	}
}

// heard is a word as a Soniox client rebuilds it from tokens.
type heard struct {
	Text           string
	StartMs, EndMs int64
	Speaker        string
}

// joinTokens is what a Soniox client does with the final tokens of
// responses: a token starting with a space begins a new word, others
// continue the current one (across responses); markers are dropped and
// counted. A word spans its first token's start to its last token's end.
func joinTokens(t *testing.T, rs []response) (words []heard, markers []string) {
	t.Helper()
	for _, r := range rs {
		for _, tk := range r.Tokens {
			td.Cmp(t, tk.IsFinal, true, "the emulator sends finals only")
			if tk.Text == emulate.SonioxEndToken || tk.Text == emulate.SonioxFinToken {
				markers = append(markers, tk.Text)
				continue
			}
			if !td.Cmp(t, tk.StartMs, td.NotNil(), "token %q has times", tk.Text) {
				continue
			}
			text, isNew := strings.CutPrefix(tk.Text, " ")
			if isNew || len(words) == 0 {
				words = append(words, heard{Text: text, StartMs: *tk.StartMs, EndMs: *tk.EndMs, Speaker: tk.Speaker})
				continue
			}
			w := &words[len(words)-1]
			td.Cmp(t, *tk.StartMs, w.EndMs, "the pieces of %q are contiguous", w.Text+text)
			w.Text += text
			w.EndMs = *tk.EndMs
		}
	}
	return words, markers
}

// recognize runs a fresh EnergyTest over pcm and flushes it: the words the
// emulator's recognizer finds in that audio (its framing does not depend
// on how the audio is cut).
func recognize(t *testing.T, pcm []byte) []stages.Word {
	t.Helper()
	rec, err := emulate.EnergyTest(testRate)
	td.Require(t).CmpNoError(err)
	return append(rec.Accept(pcm), rec.Flush()...)
}

// newSonioxHarness is newHarness for a Soniox Server requiring testKey.
func newSonioxHarness(t *testing.T, cfg emulate.Config) *harness {
	t.Helper()
	cfg.APIKey = testKey
	return newHarness(t, sonioxConfig(cfg))
}

// newSonioxPipeHarness is newPipeHarness for a Soniox Server requiring
// testKey; call it inside a synctest bubble.
func newSonioxPipeHarness(t *testing.T, cfg emulate.Config) *harness {
	t.Helper()
	cfg.APIKey = testKey
	return newPipeHarness(t, sonioxConfig(cfg))
}
