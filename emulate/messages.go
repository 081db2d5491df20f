package emulate

import (
	"crypto/sha256"
	"fmt"
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
// smart_format, speaker and speaker_confidence only with diarize, as with
// Deepgram.
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

// newResults builds a final Results covering sp of a stream at rateHz.
func newResults(id string, m model, p streamParams, sp span, words []stages.Word, speechFinal, fromFinalize bool) resultsMsg {
	alt := alternative{Words: make([]wordMsg, 0, len(words))}
	texts := make([]string, 0, len(words))
	var conf float64
	for _, w := range words {
		wm := wordMsg{Word: w.Word, Start: w.StartSec, End: w.EndSec, Confidence: w.Confidence}
		text := w.Word
		if p.punctuate {
			wm.PunctuatedWord = w.Punctuated
			if wm.PunctuatedWord == "" {
				wm.PunctuatedWord = w.Word
			}
			text = wm.PunctuatedWord
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
	rate := float64(p.sampleRateHz)
	return resultsMsg{
		Type:         "Results",
		ChannelIndex: [2]int{0, 1},
		Start:        float64(sp.start) / rate,
		Duration:     float64(sp.end-sp.start) / rate,
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
// received audioSamples samples at rateHz.
func newMetadata(id string, m model, created time.Time, audioSamples int64, rateHz int) metadataMsg {
	return metadataMsg{
		Type:           "Metadata",
		TransactionKey: "deprecated",
		RequestID:      id,
		SHA256:         "incomplete",
		Created:        created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Duration:       float64(audioSamples) / float64(rateHz),
		Channels:       1,
		Models:         []string{m.uuid},
		ModelInfo:      map[string]modelInfo{m.uuid: m.info},
	}
}
