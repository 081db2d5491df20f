// Package gate is the VAD gate stage: it scores a session's audio with a
// speech detector (stages.SpeechDetector; Silero VAD in production) and,
// in active mode, sends upstream only speech with its pre-roll and
// hangover, holding silence back (spec/vad.md). It states facts about what
// it sends (stages.MarkSpeech, MarkSilence, MarkHold); whether to ask the
// upstream for a Finalize is the connector's decision.
//
// It owns its config (Config, Mode), metrics (Metrics) and errors
// (errors.go); it imports package stages and internal/resample (audio at
// other rates is resampled for the detector only).
package gate
