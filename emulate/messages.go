package emulate

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"time"

	"earshot/stages"
)

// modelInfo is Deepgram's description of the model that served a stream.
type modelInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
}

// model is the (fake) model a stream reports, derived from its model param.
type model struct {
	uuid string
	info modelInfo
}

// newModel names the model for the "model" query parameter: arch is the
// parameter, name "general-<arch>", version "emulate", and uuid a stable
// UUID-shaped hash of the parameter.
func newModel(param string) model {
	h := sha256.Sum256([]byte("earshot-emulate-model/" + param))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return model{
		uuid: fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]),
		info: modelInfo{Name: "general-" + param, Version: "emulate", Arch: param},
	}
}

// resultsMsg is Deepgram's "Results" message. The emulator sends finals
// only (is_final is always true).
type resultsMsg struct {
	Type         string         `json:"type"`
	ChannelIndex [2]int         `json:"channel_index"`
	Duration     float64        `json:"duration"`
	Start        float64        `json:"start"`
	IsFinal      bool           `json:"is_final"`
	SpeechFinal  bool           `json:"speech_final"`
	FromFinalize bool           `json:"from_finalize"`
	Channel      resultsChannel `json:"channel"`
	Metadata     resultsMeta    `json:"metadata"`
}

type resultsChannel struct {
	Alternatives []alternative `json:"alternatives"`
}

type alternative struct {
	Transcript string    `json:"transcript"`
	Confidence float64   `json:"confidence"`
	Words      []wordMsg `json:"words"`
}

// wordMsg is one word. punctuated_word is present only with punctuate or
// smart_format (see wordForm), speaker and speaker_confidence only with
// diarize, as with Deepgram. Times are whole milliseconds (see msSpan).
type wordMsg struct {
	Word              string   `json:"word"`
	Start             float64  `json:"start"`
	End               float64  `json:"end"`
	Confidence        float64  `json:"confidence"`
	PunctuatedWord    string   `json:"punctuated_word,omitempty"`
	Speaker           *int     `json:"speaker,omitempty"`
	SpeakerConfidence *float64 `json:"speaker_confidence,omitempty"`
}

type resultsMeta struct {
	RequestID string    `json:"request_id"`
	ModelInfo modelInfo `json:"model_info"`
	ModelUUID string    `json:"model_uuid"`
}

// span is a run of stream audio in samples: [start, end).
type span struct{ start, end int64 }

// samplesToMs converts a sample count at rateHz to milliseconds, rounding
// half up. It is monotonic, so ordered sample counts stay ordered.
func samplesToMs(samples int64, rateHz int) int64 {
	r := int64(rateHz)
	return (samples*1000 + r/2) / r
}

// secToMs rounds seconds to the nearest millisecond (half away from zero).
func secToMs(sec float64) int64 { return int64(math.Round(sec * 1000)) }

// msToSec is the float64 nearest to ms/1000, which encoding/json writes
// with at most three decimals (its shortest form that reads back the same).
func msToSec(ms int64) float64 { return float64(ms) / 1000 }

// msSpan is a Results span in milliseconds: [start, end]. It carries the
// emulator's rule for times on the wire.
//
// Deepgram's messages give times as JSON numbers of seconds since the
// start of the stream. spec/deepgram.md sets no precision for them, so the
// emulator sends every time (Results start and duration, word start and
// end, Metadata duration) as a whole number of milliseconds: at most three
// decimals, e.g. 3.27, never float noise such as 3.2700000000000005.
//
// Results boundaries are rounded from sample counts with integer
// arithmetic (spanMs), so contiguous finals stay exactly contiguous (each
// one's start is the previous one's start plus duration, in milliseconds)
// and rounding opens no gap and makes no overlap. Word times are rounded,
// then clamped into their Results' rounded span (wordMs), so a word keeps
// start ≤ end and rounding never moves it out of its Results.
type msSpan struct{ start, end int64 }

// spanMs rounds a span of samples at rateHz to milliseconds.
func spanMs(sp span, rateHz int) msSpan {
	return msSpan{start: samplesToMs(sp.start, rateHz), end: samplesToMs(sp.end, rateHz)}
}

// wordMs rounds w's times to milliseconds and clamps them into s, with
// start ≤ end.
func (s msSpan) wordMs(w stages.Word) (start, end int64) {
	start = min(max(secToMs(w.StartSec), s.start), s.end)
	end = min(max(secToMs(w.EndSec), start), s.end)
	return start, end
}

// newResults builds a final Results covering sp (samples at
// p.sampleRateHz) of a stream, writing its words in form f. Times are
// rounded to milliseconds (see msSpan); the transcript joins the words'
// punctuated forms, or the bare words in formBare, as Deepgram's does.
func newResults(id string, m model, p streamParams, f wordForm, sp span, words []stages.Word, speechFinal, fromFinalize bool) resultsMsg {
	rounded := spanMs(sp, p.sampleRateHz)
	forms := punctuatedForms(words, f)
	alt := alternative{Words: make([]wordMsg, 0, len(words))}
	texts := make([]string, 0, len(words))
	var conf float64
	for i, w := range words {
		start, end := rounded.wordMs(w)
		wm := wordMsg{Word: w.Word, Start: msToSec(start), End: msToSec(end), Confidence: w.Confidence}
		text := w.Word
		if forms != nil {
			wm.PunctuatedWord = forms[i]
			text = forms[i]
		}
		if p.diarize {
			speaker, one := w.Speaker, 1.0
			wm.Speaker, wm.SpeakerConfidence = &speaker, &one
		}
		alt.Words = append(alt.Words, wm)
		texts = append(texts, text)
		conf += w.Confidence
	}
	if len(words) > 0 {
		alt.Confidence = conf / float64(len(words))
	}
	alt.Transcript = strings.Join(texts, " ")
	return resultsMsg{
		Type:         "Results",
		ChannelIndex: [2]int{0, 1},
		Start:        msToSec(rounded.start),
		Duration:     msToSec(rounded.end - rounded.start),
		IsFinal:      true,
		SpeechFinal:  speechFinal,
		FromFinalize: fromFinalize,
		Channel:      resultsChannel{Alternatives: []alternative{alt}},
		Metadata:     resultsMeta{RequestID: id, ModelInfo: m.info, ModelUUID: m.uuid},
	}
}

// metadataMsg is Deepgram's "Metadata" message, sent once at the end.
type metadataMsg struct {
	Type           string               `json:"type"`
	TransactionKey string               `json:"transaction_key"`
	RequestID      string               `json:"request_id"`
	SHA256         string               `json:"sha256"`
	Created        string               `json:"created"`
	Duration       float64              `json:"duration"`
	Channels       int                  `json:"channels"`
	Models         []string             `json:"models"`
	ModelInfo      map[string]modelInfo `json:"model_info"`
}

// newMetadata builds the Metadata of a stream that opened at created and
// received audioSamples samples at rateHz; duration is in milliseconds,
// rounded as the Results' times are.
func newMetadata(id string, m model, created time.Time, audioSamples int64, rateHz int) metadataMsg {
	return metadataMsg{
		Type:           "Metadata",
		TransactionKey: "deprecated",
		RequestID:      id,
		SHA256:         "incomplete",
		Created:        created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Duration:       msToSec(samplesToMs(audioSamples, rateHz)),
		Channels:       1,
		Models:         []string{m.uuid},
		ModelInfo:      map[string]modelInfo{m.uuid: m.info},
	}
}
