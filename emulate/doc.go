// Package emulate is a server that speaks Deepgram's live-transcription
// WebSocket protocol (spec/deepgram.md), or Soniox's real-time protocol
// (spec/soniox.md, see "Soniox" below), with fault injection. End-to-end
// tests of the gateway run it over loopback TCP, and users rehearse outages
// with `earshot emulate`.
//
// # Recognition
//
// The Recognizer is pluggable. The default, EnergyTest (`--recognizer
// energy-test`), does not recognise speech: it finds bursts of loud audio
// and names each after its start time ("t1500"), so that a test can
// account for every second of audio it sent. Its rules are on EnergyTest.
//
// FromProvider turns a synchronous stages.Provider into recognizers: with
// the embedded local recognizer (earshot/stages/local, `--recognizer
// pocketsphinx` in binaries built with the pocketsphinx tag) the emulator
// transcribes real speech, so that the Deepgram provider can be exercised
// end to end. Each stream then holds one of its decoders; when all are
// busy the upgrade is refused with 429, as Deepgram refuses a project over
// its concurrency limit.
//
// # Handshake
//
// GET /v1/listen upgrades to a WebSocket. After Server.Close every attempt
// is refused with 503. Otherwise, in order, an attempt is: delayed
// (Faults.HandshakeDelayMs), refused by fault (Faults.RefuseFirst), refused
// with 401 INVALID_AUTH without a valid key (Config.APIKey), refused with 400
// for parameters the emulator cannot serve (only encoding=linear16 with a
// sample_rate, mono), and refused when its recognizer cannot be made (see
// NewRecognizer): 429 TOO_MANY_REQUESTS when the recognizer is at capacity
// (stages.ErrCapacity), else 500. Refusals are plain HTTP responses with
// Deepgram's dg-error and dg-request-id headers and JSON body. The upgrade
// response also carries dg-request-id. Any origin is allowed and
// compression is off.
//
// # Stream
//
//   - Binary frames are audio. An odd trailing byte is carried over to the
//     next frame. An empty binary frame is answered like CloseStream (real
//     Deepgram historically took it as the end of audio), but
//     StreamSummary.CloseStream stays false.
//   - Text frames {"type":"KeepAlive"|"Finalize"|"CloseStream"} are control
//     messages; any other text is ignored (logged at debug level).
//   - Every frame resets the idle timer; after IdleTimeoutMs without one the
//     server sends Metadata and closes 1011 with ReasonIdle (Deepgram's
//     NET-0001 text, 108 bytes, so it is sent whole).
//   - When the recognizer completes words the server sends one final Results
//     (is_final and speech_final true) covering the audio from the previous
//     final's end to the end of the last completed word; the silence after
//     it belongs to the next final. Finals are contiguous: each starts where
//     the previous ended (to the millisecond: start + duration of one is
//     the next one's start, up to the float addition of the reader).
//   - Finalize flushes the recognizer and always gets a final Results
//     (from_finalize true, speech_final false) up to the end of the audio
//     received, even when it holds no words.
//   - CloseStream flushes and sends a final Results (from_finalize false,
//     speech_final false) up to the end of the audio, one Metadata, then
//     close 1000.
//   - Interim results are never sent, even with interim_results=true, nor
//     UtteranceEnd, SpeechStarted or in-band Error messages.
//   - Times (Results start and duration, word start and end, Metadata
//     duration) are whole milliseconds, at most three decimals in the
//     JSON; spec/deepgram.md gives no precision. Word times are clamped
//     into their Results, and finals tile the stream exactly.
//   - punctuated_word appears only with punctuate=true or smart_format=true,
//     speaker and speaker_confidence (always 1) only with diarize=true, as
//     with Deepgram; the transcript joins the punctuated forms when they
//     are present, else the bare words. For a Speech recognizer (the
//     pocketsphinx one) the punctuated forms are Deepgram's: the first
//     word of each final capitalised and a period after its last, without
//     doubling what the recognizer already wrote. Other recognizers' words
//     (EnergyTest's "t1500") keep their own spelling. smart_format's
//     rewrites (numerals, currency) are not emulated.
//   - A server-initiated close (idle, drop, shutdown) is preceded by one
//     Metadata. Server.Close closes with 1001 ReasonShutdown.
//
// Not emulated: the 1.25× real-time intake limit (the emulator takes audio as
// fast as it comes, which suits tests), the NET-0000 close of a stream that
// only ever got KeepAlives, regional hosts, and encodings other than
// linear16.
//
// # Faults
//
// See Faults. Stall keeps the connection open and reading but sends nothing:
// no Results, no Metadata, no answer to Finalize or CloseStream. A stalled
// stream still ends on the idle timeout (with a bare close frame), so a
// client that sent CloseStream and waits is closed IdleTimeoutMs later.
//
// # Soniox
//
// With Config.Protocol ProtocolSoniox the Server speaks Soniox's real-time
// protocol (spec/soniox.md) instead, on GET /transcribe-websocket (SonioxPath),
// with the same recognizers, faults, Stats and StreamSummary:
//
//   - Handshake: as above (delay, fault refusal with RefuseStatus and
//     Retry-After, 503 after Close), but the key is taken as
//     "Authorization: Bearer <key>" or "Sec-WebSocket-Protocol:
//     soniox-api-key, <key>", and refusals carry Soniox's error fields as
//     their JSON body: {"error_code", "error_message", "request_id"}.
//   - Errors in the stream are an error response {"error_code",
//     "error_message", "request_id"} followed at once by the close.
//     Soniox's documentation names no close code for it; the emulator
//     closes with 1000 and no reason (1001 ReasonShutdown on Server.Close),
//     so clients must decide on the error response, not on the code.
//   - The first message must be the start message, a JSON object with
//     model "stt-rt…", audio_format "pcm_s16le", sample_rate (1..384000)
//     and num_channels 1; language_hints, enable_speaker_diarization and
//     enable_endpoint_detection are read, other members ignored. Audio,
//     or anything else first, is answered with error 400. The
//     stream's recognizer is made then, not before the upgrade: one that
//     cannot be made is answered with error 429 (capacity) or 500. These
//     ends are EndRejected; the upgrade was accepted, so they count in
//     Stats.Accepted, not Refused.
//   - Binary frames are audio, fed to the recognizer as above. An empty
//     binary or text frame ends the audio: the flushed words' tokens, a
//     response with "finished": true, then close 1000 (EndCloseStream).
//     {"type":"keepalive"} is counted; {"type":"finalize"} flushes the
//     recognizer and answers its words' tokens and SonioxFinToken. Other
//     text is ignored. Every frame resets the idle timer; after
//     IdleTimeoutMs (default DefaultSonioxIdleTimeoutMs, 20 s) without one
//     the stream gets error 408 and the close.
//   - Responses {"tokens", "final_audio_proc_ms", "total_audio_proc_ms"}
//     carry final tokens only. Each word is written as with punctuate=true
//     on the Deepgram side (Speech recognizers in sentence form), then cut
//     into sub-word tokens: a leading space starts each
//     word but the stream's first, trailing punctuation is a token of its
//     own, words of more than four letters are two tokens, and the batch
//     is cut into two responses after the first piece of its last such
//     word. Tokens carry start_ms and end_ms (ms since the stream's
//     start; the word's span shared between its pieces), confidence,
//     is_final true, language (the first language hint, else "en") and,
//     with enable_speaker_diarization, speaker ("1", "2", …: the
//     recognizer's speaker index + 1). With enable_endpoint_detection,
//     SonioxEndToken follows each batch the Deepgram side would mark
//     speech_final. final_audio_proc_ms is where the Deepgram side's final
//     would end; total_audio_proc_ms is all the audio received.
//   - Faults: DropAfterMs sends error 503 SonioxDropMessage then closes
//     (DropAbrupt cuts TCP as above); Stall sends nothing at all (no
//     tokens, no "finished", no error responses, and no start check: the
//     stream takes any first message and makes no recognizer), and its
//     server-side ends are bare close frames. Server.Close sends error 503
//     SonioxShutdownMessage, then close 1001 ReasonShutdown.
//
// Not emulated: non-final tokens, audio_format "auto" and other encodings,
// translation, language identification, the start message's deprecated
// api_key (never taken as a key), trailing_silence_ms, and the intake and
// finalize rate limits.
//
// # Concurrency
//
// A stream is served by its HTTP handler goroutine, which does every write
// and close and every call to the stream's Recognizer (closing it, if it
// is an io.Closer, when the stream ends), and one reader goroutine.
// Server.Close ends all streams and waits for both goroutines of each, and
// for OnStreamEnd.
package emulate
