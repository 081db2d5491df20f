package emulate_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// checkContiguous checks that Results finals tile the audio from 0 to end
// and that each one's words lie inside it.
func checkContiguous(t *testing.T, msgs []message, end float64) {
	t.Helper()
	var at float64
	for i, m := range msgs {
		if m.Type != "Results" {
			continue
		}
		td.Cmp(t, m.Start, td.N(at, 1e-9), "Results %d starts where the previous ended", i)
		for _, w := range m.words() {
			td.Cmp(t, w.Start, td.Between(m.Start-1e-9, m.Start+m.Duration+1e-9), "word %s in Results %d", w.Word, i)
			td.Cmp(t, w.End, td.Lte(m.Start+m.Duration+1e-9), "word %s in Results %d", w.Word, i)
		}
		at = m.Start + m.Duration
	}
	td.Cmp(t, at, td.N(end, 1e-9), "finals cover all the audio")
}

func TestRecognitionAndCloseStream(t *testing.T) {
	h := newHarness(t, emulate.Config{APIKey: testKey})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sig := (&signal{}).silence(500).tone(300, 8000).silence(700).tone(400, 20000).silence(600).tone(100, 3000)
	sendAudio(t, ctx, c, sig.pcm, 1233) // odd: samples straddle frames
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)

	td.Require(t).Cmp(msgs, td.Len(4))
	td.Cmp(t, msgs, td.Smuggle(func(ms []message) []string {
		var types []string
		for _, m := range ms {
			types = append(types, m.Type)
		}
		return types
	}, []string{"Results", "Results", "Results", "Metadata"}))
	td.Cmp(t, msgs[0].Raw, td.JSON(`{
		"type": "Results",
		"channel_index": [0, 1],
		"start": 0,
		"duration": 0.8,
		"is_final": true,
		"speech_final": true,
		"from_finalize": false,
		"channel": {"alternatives": [{
			"transcript": "t500",
			"confidence": 1,
			"words": [{"word": "t500", "start": 0.5, "end": 0.8, "confidence": 1,
			           "punctuated_word": "t500", "speaker": 0, "speaker_confidence": 1}]
		}]},
		"metadata": {
			"request_id": $1,
			"model_info": {"name": "general-nova-3", "version": "emulate", "arch": "nova-3"},
			"model_uuid": $2
		}
	}`, td.Re(uuidRe), td.Re(`^[0-9a-f-]{36}$`)))
	td.Cmp(t, msgs[1].words(), []wordJSON{{Word: "t1500", Start: 1.5, End: 1.9, Speaker: 1}})
	td.Cmp(t, msgs[1].SpeechFinal, true)
	// CloseStream flushes the last burst, which had no trailing silence.
	td.Cmp(t, msgs[2], td.SStruct(message{Type: "Results", IsFinal: true}, td.StructFields{
		"Start":    td.N(1.9, 1e-9),
		"Duration": td.N(0.7, 1e-9),
		"Channel":  td.Ignore(),
		"Raw":      td.Ignore(),
	}))
	td.Cmp(t, msgs[2].words(), []wordJSON{{Word: "t2500", Start: 2.5, End: 2.6}})
	checkContiguous(t, msgs, 2.6)
	td.Cmp(t, msgs[3].Raw, td.JSON(`{
		"type": "Metadata",
		"transaction_key": "deprecated",
		"request_id": $1,
		"sha256": "incomplete",
		"created": $2,
		"duration": 2.6,
		"channels": 1,
		"models": [$3],
		"model_info": $4
	}`, td.Re(uuidRe), td.Re(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`), td.Tag("uuid", td.Re(`^[0-9a-f-]{36}$`)), td.Len(1)))

	s := h.summary(t)
	td.Cmp(t, s, td.SStruct(emulate.StreamSummary{
		End:         emulate.EndCloseStream,
		AudioBytes:  int64(len(sig.pcm)),
		CloseStream: true,
	}, td.StructFields{
		"ID":     msgs[3].RequestID,
		"Params": td.Smuggle(func(v map[string][]string) string { return v["sample_rate"][0] }, "16000"),
		"Opened": td.Between(time.Now().Add(-time.Minute), time.Now()),
		"Ended":  td.Gte(s.Opened),
	}))
}

func TestPlainWordsWithoutPunctuateOrDiarize(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c, _, err := h.dial(ctx, "encoding=linear16&sample_rate=16000", "")
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	sendAudio(t, ctx, c, (&signal{}).tone(100, 20000).silence(300).pcm, 3200)
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, _ := readAll(t, ctx, c)
	td.Require(t).Cmp(msgs, td.Len(3))
	td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"channel": {"alternatives": [{"transcript": "t0", "confidence": 1,
		"words": [{"word": "t0", "start": 0, "end": 0.1, "confidence": 1}]}]}}`),
		"no punctuated_word, speaker or speaker_confidence")
	td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"metadata": {"model_info": {"name": "general-nova-3", "version": "emulate", "arch": "nova-3"},
		"model_uuid": Ignore(), "request_id": Ignore()}}`), "default model")
}

func TestFinalize(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(200).tone(300, 8000).pcm, 3200)
	sendText(t, ctx, c, `{"type":"Finalize"}`)
	_, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(b), td.JSON(`{"type": "Results", "start": 0, "duration": 0.5,
		"is_final": true, "speech_final": false, "from_finalize": true,
		"channel": {"alternatives": [{"transcript": "t200", "confidence": 1, "words": [
			{"word": "t200", "start": 0.2, "end": 0.5, "confidence": 1, "punctuated_word": "t200",
			 "speaker": 0, "speaker_confidence": 1}]}]},
		"channel_index": [0, 1], "metadata": Ignore()}`))

	// A Finalize with nothing new still gets an (empty) final.
	sendAudio(t, ctx, c, (&signal{}).silence(300).pcm, 3200)
	sendText(t, ctx, c, `{"type":"Finalize"}`)
	_, b, err = c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(b), td.SuperJSONOf(`{"start": 0.5, "duration": 0.3, "from_finalize": true, "speech_final": false,
		"channel": {"alternatives": [{"transcript": "", "confidence": 0, "words": []}]}}`))

	td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
		End: emulate.EndClientGone, AudioBytes: 25600, Finalizes: 2,
	}, td.StructFields{"=*": td.Ignore()}))
}

func TestEmptyBinaryFrameEndsLikeCloseStream(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).tone(100, 8000).pcm, 3200)
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Require(t).Cmp(msgs, td.Len(2))
	td.Cmp(t, msgs[0].words(), []wordJSON{{Word: "t0", End: 0.1}})
	td.Cmp(t, msgs[1].Type, "Metadata")
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndCloseStream, AudioBytes: 3200},
		td.StructFields{"=*": td.Ignore()}))
}

func TestControlMessagesAndJunk(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	for _, m := range []string{`{"type":"KeepAlive"}`, `not json`, `{"type":"keepalive"}`, `{"type":"Unknown"}`,
		`[]`, `{"type":"KeepAlive","extra":1}`, ``} {
		sendText(t, ctx, c, m)
	}
	sendText(t, ctx, c, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, len(msgs), 2, "junk gets no reply")
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndCloseStream, KeepAlives: 2, CloseStream: true},
		td.StructFields{"=*": td.Ignore()}))
}

// TestIdleTimeout checks the idle close over real TCP; the exact timing and
// the KeepAlive resets are in TestSynctestIdleResetByKeepAlive.
func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, emulate.Config{IdleTimeoutMs: 200})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	sendAudio(t, ctx, c, (&signal{}).silence(100).pcm, 3200)
	sendText(t, ctx, c, `{"type":"KeepAlive"}`)
	sent := time.Now()
	msgs, err := readAll(t, ctx, c)
	td.Cmp(t, time.Since(sent), td.Gte(200*time.Millisecond))
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusInternalError)
	td.Cmp(t, closeReason(err), emulate.ReasonIdle)
	td.Cmp(t, len(emulate.ReasonIdle), td.Lte(123), "fits a close frame")
	td.Require(t).Cmp(msgs, td.Len(1))
	td.Cmp(t, msgs[0].Raw, td.SuperJSONOf(`{"type": "Metadata", "duration": 0.1}`))
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndIdleTimeout, AudioBytes: 3200, KeepAlives: 1},
		td.StructFields{"=*": td.Ignore()}))
}

func TestReadLimit(t *testing.T) {
	h := newHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.mustDial(t, ctx)
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, make([]byte, 512<<10)), "512 KiB is fine")
	_ = c.Write(ctx, websocket.MessageBinary, make([]byte, 1<<20+2))
	_, err := readAll(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusMessageTooBig)
	td.Cmp(t, h.summary(t).End, emulate.EndClientGone)
}
