package emulate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// checkSonioxRefusal checks a refused Soniox upgrade: status, JSON body
// with Soniox's error fields, and no Deepgram headers.
func checkSonioxRefusal(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if !td.Cmp(t, resp, td.NotNil(), "a refusal has a response") {
		return
	}
	td.Cmp(t, resp.StatusCode, status)
	td.Cmp(t, resp.Header.Get("Content-Type"), "application/json")
	td.Cmp(t, resp.Header.Get("dg-error"), "", "no Deepgram header")
	body, err := io.ReadAll(resp.Body)
	td.CmpNoError(t, err)
	td.Cmp(t, json.RawMessage(body), td.JSON(`{"error_code": $1, "error_message": NotEmpty(), "request_id": $2}`,
		status, td.Re(uuidRe)))
}

func TestSonioxAuth(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	for _, tc := range []struct {
		name   string
		hdr    http.Header
		protos []string // offered subprotocols
		ok     bool
		proto  string // selected subprotocol
	}{
		{name: "bearer", hdr: http.Header{"Authorization": {"Bearer " + testKey}}, ok: true},
		{name: "bearer upper case", hdr: http.Header{"Authorization": {"BEARER " + testKey}}, ok: true},
		{name: "browser subprotocol", protos: []string{"soniox-api-key", testKey}, ok: true, proto: "soniox-api-key"},
		{name: "missing", hdr: http.Header{}},
		{name: "wrong key", hdr: http.Header{"Authorization": {"Bearer nope"}}},
		{name: "deepgram scheme", hdr: http.Header{"Authorization": {"Token " + testKey}}},
		{name: "bare key", hdr: http.Header{"Authorization": {testKey}}},
		{name: "deepgram subprotocol", protos: []string{"token", testKey}},
		{name: "wrong subprotocol key", protos: []string{"soniox-api-key", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := websocket.Dial(ctx, h.sonioxURL(), &websocket.DialOptions{HTTPHeader: tc.hdr, Subprotocols: tc.protos})
			if !tc.ok {
				td.CmpError(t, err)
				checkSonioxRefusal(t, resp, http.StatusUnauthorized)
				return
			}
			td.Require(t).CmpNoError(err)
			defer c.CloseNow()
			td.Cmp(t, c.Subprotocol(), tc.proto)
			sendText(t, ctx, c, stdStart)
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
			rs, err := readSoniox(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
			td.Require(t).Cmp(rs, td.Len(1))
			td.Cmp(t, rs[0].Finished, true)
			td.Cmp(t, h.summary(t).End, emulate.EndCloseStream)
		})
	}
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 9, Refused: 6, Accepted: 3})
}

// TestSonioxRefuseFirst: fault refusals come before auth, with the
// configured status and Retry-After, then upgrades go through.
func TestSonioxRefuseFirst(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{Faults: emulate.Faults{RefuseFirst: 2, RefuseStatus: 429, RetryAfterSec: 7}})
	ctx := testCtx(t)
	_, resp, err := h.dialSoniox(ctx, "")
	td.CmpError(t, err)
	checkSonioxRefusal(t, resp, http.StatusTooManyRequests)
	td.Cmp(t, resp.Header.Get("Retry-After"), "7")
	_, resp, err = h.dialSoniox(ctx, testKey)
	td.CmpError(t, err)
	checkSonioxRefusal(t, resp, http.StatusTooManyRequests)

	_, resp, err = h.dialSoniox(ctx, "")
	td.CmpError(t, err)
	checkSonioxRefusal(t, resp, http.StatusUnauthorized)
	td.Cmp(t, resp.Header.Get("Retry-After"), "", "auth refusals have no Retry-After")

	c, _, err := h.dialSoniox(ctx, testKey)
	td.Require(t).CmpNoError(err)
	c.CloseNow()
	td.Cmp(t, h.summary(t).End, emulate.EndClientGone)
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 4, Refused: 3, Accepted: 1})
}

func TestSonioxRefusedAfterClose(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	td.CmpNoError(t, h.srv.Close())
	_, resp, err := h.dialSoniox(testCtx(t), testKey)
	td.CmpError(t, err)
	checkSonioxRefusal(t, resp, http.StatusServiceUnavailable)
}

func TestSonioxStartMessageRequired(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	for _, tc := range []struct {
		name  string
		typ   websocket.MessageType
		first string
		msg   string // a regexp of error_message
	}{
		{"audio first", websocket.MessageBinary, "\x00\x01\x02\x03", `before any audio`},
		{"empty audio first", websocket.MessageBinary, "", `before any audio`},
		{"empty text", websocket.MessageText, "", `JSON object`},
		{"not JSON", websocket.MessageText, "hello", `JSON object`},
		{"a list", websocket.MessageText, `[]`, `JSON object`},
		{"keepalive first", websocket.MessageText, `{"type": "keepalive"}`, `model`},
		{"no model", websocket.MessageText, `{"audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`, `model`},
		{"key case", websocket.MessageText, `{"Model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`, `model`},
		{"deepgram model", websocket.MessageText, `{"model": "nova-3", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`, `^Invalid model specified`},
		{"async model", websocket.MessageText, `{"model": "stt-async-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`, `^Invalid model specified`},
		{"model a number", websocket.MessageText, `{"model": 4, "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1}`, `model`},
		{"auto format", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "auto"}`, `pcm_s16le only`},
		{"no format", websocket.MessageText, `{"model": "stt-rt-v4", "sample_rate": 16000, "num_channels": 1}`, `audio_format`},
		{"no rate", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "num_channels": 1}`, `sample_rate`},
		{"rate 0", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 0, "num_channels": 1}`, `sample_rate`},
		{"rate a string", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": "16000", "num_channels": 1}`, `sample_rate`},
		{"no channels", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000}`, `num_channels`},
		{"stereo", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 2}`, `num_channels must be 1`},
		{"hints a string", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1, "language_hints": "en"}`, `language_hints`},
		{"diarization a string", websocket.MessageText, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 16000, "num_channels": 1, "enable_speaker_diarization": "yes"}`, `enable_speaker_diarization`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			c, _, err := h.dialSoniox(ctx, testKey)
			td.Require(t).CmpNoError(err)
			defer c.CloseNow()
			td.Require(t).CmpNoError(c.Write(ctx, tc.typ, []byte(tc.first)))
			rs, err := readSoniox(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure, "error response, then a normal close")
			td.Require(t).Cmp(rs, td.Len(1))
			td.Cmp(t, rs[0].Raw, td.JSON(`{"error_code": 400, "error_message": $1, "request_id": $2}`, td.Re(tc.msg), td.Re(uuidRe)))
			var audio int64
			if tc.typ == websocket.MessageBinary {
				audio = int64(len(tc.first))
			}
			td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
				ID: rs[0].RequestID, End: emulate.EndRejected, AudioBytes: audio,
			}, td.StructFields{"Params": td.Empty(), "=*": td.Ignore()}))
		})
	}
}

// TestSonioxStartRecordsParams: the start message's members make the
// summary's Params, without the deprecated api_key.
func TestSonioxStartRecordsParams(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 8000, "num_channels": 1,
		"language_hints": ["de", "en"], "enable_endpoint_detection": false, "api_key": "sekrit", "context": {"text": "x"}}`)
	sendText(t, ctx, c, `{"type": "keepalive"}`)
	sendText(t, ctx, c, "")
	_, err := readSoniox(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
		End:        emulate.EndCloseStream,
		KeepAlives: 1,
		Params: map[string][]string{
			"model": {"stt-rt-v4"}, "audio_format": {"pcm_s16le"}, "sample_rate": {"8000"}, "num_channels": {"1"},
			"language_hints": {"de", "en"}, "enable_endpoint_detection": {"false"}, "context": {`{"text":"x"}`},
		},
	}, td.StructFields{"=*": td.Ignore()}))
}

func TestSonioxRecognizerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"capacity", fmt.Errorf("pool: %w", stages.ErrCapacity), 429},
		{"other", errors.New("secret detail: model missing"), 500},
		{"nil recognizer", nil, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSonioxHarness(t, emulate.Config{Recognizer: func(rate int) (emulate.Recognizer, error) {
				td.Cmp(t, rate, 8000, "made for the start message's rate")
				return nil, tc.err
			}})
			ctx := testCtx(t)
			c := h.startSoniox(t, ctx, `{"model": "stt-rt-v4", "audio_format": "pcm_s16le", "sample_rate": 8000, "num_channels": 1}`)
			rs, err := readSoniox(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
			td.Require(t).Cmp(rs, td.Len(1))
			td.Cmp(t, rs[0].ErrorCode, tc.code)
			td.Cmp(t, rs[0].ErrorMessage, td.Not(td.Contains("secret")), "the error's text is not sent")
			td.Cmp(t, h.summary(t).End, emulate.EndRejected)
			td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Accepted: 1}, "an in-band rejection, not a refused upgrade")
		})
	}
}

func TestSonioxPaths(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	resp, err := http.Get(h.http.URL + "/v1/listen")
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, http.StatusNotFound, "a Soniox Server does not serve Deepgram's path")

	req, err := http.NewRequest(http.MethodGet, h.http.URL+emulate.SonioxPath, nil)
	td.Require(t).CmpNoError(err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err = http.DefaultClient.Do(req)
	td.Require(t).CmpNoError(err)
	resp.Body.Close()
	td.Cmp(t, resp.StatusCode, http.StatusUpgradeRequired, "plain HTTP is refused")
	td.Cmp(t, h.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Refused: 1})
}

func TestProtocolIsValidated(t *testing.T) {
	_, err := emulate.NewServer(emulate.Config{Protocol: "assemblyai"}, nil)
	td.Cmp(t, err, td.ErrorIs(emulate.ErrBadConfig))
	td.Cmp(t, err, td.String(`emulate: bad config: Protocol "assemblyai" is not "deepgram" or "soniox"`))
	for _, p := range []string{"", emulate.ProtocolDeepgram, emulate.ProtocolSoniox} {
		s, err := emulate.NewServer(emulate.Config{Protocol: p}, nil)
		td.CmpNoError(t, err, p)
		td.CmpNoError(t, s.Close())
	}
}
