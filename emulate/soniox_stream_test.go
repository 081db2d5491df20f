package emulate_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/stages"
)

// TestSonioxTokens pins every response of a stream with three bursts:
// an endpoint final of one token, one of a word in two tokens cut across
// two responses, and the end of the audio.
func TestSonioxTokens(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, stdStart)
	sig := (&signal{}).silence(500).tone(300, 8000).silence(700).tone(400, 20000).silence(600).tone(100, 3000)
	sendAudio(t, ctx, c, sig.pcm, 3200)
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
	rs, err := readSoniox(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)

	raws := make([]string, len(rs))
	for i, r := range rs {
		raws[i] = string(r.Raw)
	}
	td.Cmp(t, raws, []string{
		`{"tokens":[{"text":"t500","start_ms":500,"end_ms":800,"confidence":1,"is_final":true,"speaker":"1","language":"en"},` +
			`{"text":"<end>","is_final":true}],"final_audio_proc_ms":800,"total_audio_proc_ms":1000}`,
		`{"tokens":[{"text":" t15","start_ms":1500,"end_ms":1740,"confidence":1,"is_final":true,"speaker":"2","language":"en"}],` +
			`"final_audio_proc_ms":1740,"total_audio_proc_ms":2100}`,
		`{"tokens":[{"text":"00","start_ms":1740,"end_ms":1900,"confidence":1,"is_final":true,"speaker":"2","language":"en"},` +
			`{"text":"<end>","is_final":true}],"final_audio_proc_ms":1900,"total_audio_proc_ms":2100}`,
		`{"tokens":[{"text":" t25","start_ms":2500,"end_ms":2560,"confidence":1,"is_final":true,"speaker":"1","language":"en"}],` +
			`"final_audio_proc_ms":2560,"total_audio_proc_ms":2600}`,
		`{"tokens":[{"text":"00","start_ms":2560,"end_ms":2600,"confidence":1,"is_final":true,"speaker":"1","language":"en"}],` +
			`"final_audio_proc_ms":2600,"total_audio_proc_ms":2600}`,
		`{"tokens":[],"final_audio_proc_ms":2600,"total_audio_proc_ms":2600,"finished":true}`,
	})

	words, markers := joinTokens(t, rs)
	td.Cmp(t, words, []heard{
		{"t500", 500, 800, "1"},
		{"t1500", 1500, 1900, "2"},
		{"t2500", 2500, 2600, "1"},
	})
	td.Cmp(t, markers, []string{emulate.SonioxEndToken, emulate.SonioxEndToken})
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
		End: emulate.EndCloseStream, AudioBytes: int64(len(sig.pcm)),
	}, td.StructFields{"=*": td.Ignore()}))
}

// TestSonioxJoinedTokensAreTheRecognizersWords: over many bursts sent in
// frames that straddle samples, a client joining tokens gets exactly the
// recognizer's words and times, some joined across responses, and the
// progress fields never go back.
func TestSonioxJoinedTokensAreTheRecognizersWords(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, stdStart)
	sig := &signal{}
	for i := range 12 {
		sig.silence(250+37*i).tone(60+45*i, 6000+2000*i)
	}
	const chunk = 1233 // odd: samples straddle frames
	sendAudio(t, ctx, c, sig.pcm, chunk)
	sendText(t, ctx, c, "") // empty text ends the audio too
	rs, err := readSoniox(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)

	var want []heard
	for _, w := range recognize(t, sig.pcm) {
		want = append(want, heard{w.Word, ms(w.StartSec), ms(w.EndSec), strconv.Itoa(w.Speaker + 1)})
	}
	td.Require(t).Cmp(want, td.Len(12))
	words, markers := joinTokens(t, rs)
	td.Cmp(t, words, want)
	td.Cmp(t, len(markers), 11, "an <end> after each endpoint final; the last word came with the end of the audio")

	var final, total int64
	cuts := 0
	for i, r := range rs {
		td.Cmp(t, r.FinalAudioProcMs, td.Gte(final), "response %d: final_audio_proc_ms goes on", i)
		td.Cmp(t, r.TotalAudioProcMs, td.Gte(total), "response %d: total_audio_proc_ms goes on", i)
		td.Cmp(t, r.FinalAudioProcMs, td.Lte(r.TotalAudioProcMs), "response %d", i)
		final, total = r.FinalAudioProcMs, r.TotalAudioProcMs
		if i > 0 && len(r.Tokens) > 0 && r.Tokens[0].Text[0] != ' ' && r.Tokens[0].Text[0] != '<' {
			cuts++
		}
	}
	td.Cmp(t, cuts, td.Gt(5), "words are joined across responses")
	td.Cmp(t, total, int64(len(sig.pcm)*1000/2/testRate))
	td.Cmp(t, rs[len(rs)-1].Finished, true)
}

// TestSonioxPunctuation: trailing punctuation is a token of its own, a
// Speech recognizer's words come in sentence form, and without
// diarization and endpoint detection there is no speaker and no <end>.
func TestSonioxPunctuation(t *testing.T) {
	words := []stages.Word{
		{Word: "hello", Punctuated: "Hello,", StartSec: 0.1, EndSec: 0.5, Confidence: 0.75},
		{Word: "world", Punctuated: "world.", StartSec: 0.6, EndSec: 1, Confidence: 0.5, Speaker: 1},
	}
	for _, tc := range []struct {
		name string
		rec  emulate.Recognizer
	}{
		{"given punctuation", &scripted{batches: [][]stages.Word{words}}},
		{"speech", &scriptedSpeech{scripted{batches: [][]stages.Word{{
			{Word: "hello", StartSec: 0.1, EndSec: 0.5, Confidence: 0.75},
			{Word: "world", StartSec: 0.6, EndSec: 1, Confidence: 0.5, Speaker: 1},
		}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSonioxHarness(t, emulate.Config{Recognizer: func(int) (emulate.Recognizer, error) { return tc.rec, nil }})
			ctx := testCtx(t)
			c := h.startSoniox(t, ctx, `{"model": "stt-rt-preview", "audio_format": "pcm_s16le", "sample_rate": 16000,
				"num_channels": 1, "language_hints": ["de"]}`)
			sendAudio(t, ctx, c, (&signal{}).silence(1000).pcm, 32000)
			td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
			rs, err := readSoniox(t, ctx, c)
			td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
			td.Require(t).Cmp(rs, td.Len(3))
			comma := `{"text": ",", "start_ms": 500, "end_ms": 500, "confidence": 0.75, "is_final": true, "language": "de"},`
			if tc.name == "speech" {
				comma = "" // sentence form: a period at the end only
			}
			td.Cmp(t, rs[0].Raw, td.JSON(`{"tokens": [
				{"text": "Hel", "start_ms": 100, "end_ms": 340, "confidence": 0.75, "is_final": true, "language": "de"},
				{"text": "lo", "start_ms": 340, "end_ms": 500, "confidence": 0.75, "is_final": true, "language": "de"},
				`+comma+`
				{"text": " wor", "start_ms": 600, "end_ms": 840, "confidence": 0.5, "is_final": true, "language": "de"}
			], "final_audio_proc_ms": 840, "total_audio_proc_ms": 1000}`))
			td.Cmp(t, rs[1].Raw, td.JSON(`{"tokens": [
				{"text": "ld", "start_ms": 840, "end_ms": 1000, "confidence": 0.5, "is_final": true, "language": "de"},
				{"text": ".", "start_ms": 1000, "end_ms": 1000, "confidence": 0.5, "is_final": true, "language": "de"}
			], "final_audio_proc_ms": 1000, "total_audio_proc_ms": 1000}`))
			td.Cmp(t, rs[2].Finished, true)
			got, markers := joinTokens(t, rs)
			td.Cmp(t, got, td.Smuggle(func(ws []heard) []string {
				texts := make([]string, len(ws))
				for i, w := range ws {
					texts[i] = w.Text
				}
				return texts
			}, []string{"Hello" + map[bool]string{true: ",", false: ""}[comma != ""], "world."}))
			td.CmpEmpty(t, markers)
		})
	}
}

func TestSonioxFinalize(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, stdStart)
	sendAudio(t, ctx, c, (&signal{}).silence(200).tone(300, 8000).pcm, 3200)
	sendText(t, ctx, c, `{"type": "finalize"}`)
	_, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(b), td.JSON(`{"tokens": [
		{"text": "t200", "start_ms": 200, "end_ms": 500, "confidence": 1, "is_final": true, "speaker": "1", "language": "en"},
		{"text": "<fin>", "is_final": true}
	], "final_audio_proc_ms": 500, "total_audio_proc_ms": 500}`), "every word so far is final, then <fin>")

	// A finalize with nothing new gets <fin> alone; trailing_silence_ms
	// is accepted (and ignored).
	sendAudio(t, ctx, c, (&signal{}).silence(300).pcm, 3200)
	sendText(t, ctx, c, `{"type": "finalize", "trailing_silence_ms": 300}`)
	_, b, err = c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, json.RawMessage(b), td.JSON(`{"tokens": [{"text": "<fin>", "is_final": true}], "final_audio_proc_ms": 800, "total_audio_proc_ms": 800}`))

	td.CmpNoError(t, c.Close(websocket.StatusNormalClosure, ""))
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{
		End: emulate.EndClientGone, AudioBytes: 25600, Finalizes: 2,
	}, td.StructFields{"=*": td.Ignore()}))
}

// TestSonioxControlMessagesAndJunk: keepalives are counted, other text is
// ignored (Deepgram's spellings included), and none gets an answer.
func TestSonioxControlMessagesAndJunk(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, stdStart)
	for _, m := range []string{`{"type":"keepalive"}`, `not json`, `{"type":"KeepAlive"}`, `{"type":"Finalize"}`,
		`{"type":"CloseStream"}`, `[]`, `{"type":"keepalive","extra":1}`, stdStart} {
		sendText(t, ctx, c, m)
	}
	td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, nil))
	rs, err := readSoniox(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	td.Cmp(t, len(rs), 1, "only the finished response")
	td.Cmp(t, h.summary(t), td.SStruct(emulate.StreamSummary{End: emulate.EndCloseStream, KeepAlives: 2},
		td.StructFields{"=*": td.Ignore()}))
}

// TestBothProtocolsSideBySide serves the same audio through a Deepgram
// Server and a Soniox Server: the words a client of each gets agree.
func TestBothProtocolsSideBySide(t *testing.T) {
	dg := newHarness(t, emulate.Config{APIKey: testKey})
	sx := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	sig := (&signal{}).silence(300).tone(200, 9000).silence(400).tone(700, 20000).silence(300).tone(150, 7000)

	dc := dg.mustDial(t, ctx)
	sendAudio(t, ctx, dc, sig.pcm, 3200)
	sendText(t, ctx, dc, `{"type":"CloseStream"}`)
	msgs, err := readAll(t, ctx, dc)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	var fromDeepgram []heard
	for _, m := range msgs {
		for _, w := range m.words() {
			fromDeepgram = append(fromDeepgram, heard{w.Word, ms(w.Start), ms(w.End), strconv.Itoa(w.Speaker + 1)})
		}
	}

	sc := sx.startSoniox(t, ctx, stdStart)
	sendAudio(t, ctx, sc, sig.pcm, 3200)
	td.Require(t).CmpNoError(sc.Write(ctx, websocket.MessageBinary, nil))
	rs, err := readSoniox(t, ctx, sc)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusNormalClosure)
	fromSoniox, _ := joinTokens(t, rs)

	td.Require(t).Cmp(fromDeepgram, td.Len(3))
	td.Cmp(t, fromSoniox, fromDeepgram)
	td.Cmp(t, dg.summary(t).Params.Get("encoding"), "linear16", "a Deepgram summary holds the query")
	td.Cmp(t, sx.summary(t).Params.Get("model"), "stt-rt-v4", "a Soniox summary holds the start message")
	td.Cmp(t, dg.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Accepted: 1})
	td.Cmp(t, sx.srv.Stats(), emulate.Stats{UpgradeAttempts: 1, Accepted: 1})
}

func TestSonioxShutdown(t *testing.T) {
	h := newSonioxHarness(t, emulate.Config{})
	ctx := testCtx(t)
	c := h.startSoniox(t, ctx, stdStart)
	sendText(t, ctx, c, `{"type":"keepalive"}`)
	td.Cmp(t, h.srv.Stats().Active, int64(1))
	closed := make(chan error, 1)
	go func() { closed <- h.srv.Close() }()
	rs, err := readSoniox(t, ctx, c)
	td.Cmp(t, websocket.CloseStatus(err), websocket.StatusGoingAway)
	td.Cmp(t, closeReason(err), emulate.ReasonShutdown)
	td.CmpNoError(t, <-closed)
	td.Require(t).Cmp(rs, td.Len(1))
	td.Cmp(t, rs[0].Raw, td.SuperJSONOf(`{"error_code": 503, "error_message": $1}`, emulate.SonioxShutdownMessage))
	td.Cmp(t, h.summary(t).End, emulate.EndServerShutdown)
}

func TestSonioxSplitWord(t *testing.T) {
	for form, want := range map[string][]string{
		"a":       {"a"},
		"t500":    {"t500"},
		"t1500":   {"t15", "00"},
		"hello":   {"hel", "lo"},
		"Hello,":  {"Hel", "lo", ","},
		"world.":  {"wor", "ld", "."},
		"why?!":   {"why", "?!"},
		"ok.":     {"ok", "."},
		"...":     {"..."},
		"naïveté": {"naïv", "eté"},
		"don't":   {"don", "'t"},
		"über…":   {"über", "…"},
	} {
		got := emulate.SonioxSplitWord(form)
		td.Cmp(t, got, want, form)
		td.Cmp(t, strings.Join(got, ""), form, "%s: the pieces join back", form)
	}
}
