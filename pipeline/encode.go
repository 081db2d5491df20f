package pipeline

import (
	"strconv"
	"strings"
	"time"

	"earshot/protocol"
	"earshot/stages"
)

// clientFrames is how one fan-out message reaches the client: text frames
// to send, or, when close is not 0, the end of the session with that close
// code and reason (after the frames).
type clientFrames struct {
	frames      [][]byte
	close       int
	closeReason string
}

// encodeMessage renders a fan-out message in the client protocol: a
// conversation's start (conversation_session) or end
// (memory_processing_started); or a bare
// JSON array of the changed segments, then a segments_deleted event if
// merging removed segments; or the service_status event of an upstream
// state change; or, when the upstream failed for good, the stt_failed
// status and then a close (1013 when it had no capacity, else 1011). Segments go first so
// that a client never holds less text than before.
func encodeMessage(m stages.Message) (clientFrames, error) {
	var out clientFrames
	if c := m.Conversation; c != nil {
		ev := protocol.ConversationSession(c.ID)
		if c.Change == stages.ConversationEnded {
			ev = protocol.MemoryProcessingStarted(c.ID)
		}
		b, err := protocol.EncodeEvent(ev)
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
		return out, nil
	}
	if len(m.Segments) > 0 {
		b, err := protocol.EncodeSegments(wireSegments(m.Segments))
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
	}
	if len(m.Deleted) > 0 {
		b, err := protocol.EncodeEvent(protocol.SegmentsDeleted(m.Deleted))
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
	}
	if m.Event == stages.EventFailed {
		b, err := protocol.EncodeEvent(failedEvent(m))
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
		out.close, out.closeReason = failureClose(m.Failure)
		return out, nil
	}
	if ev, ok := eventStatus(m); ok {
		b, err := protocol.EncodeEvent(ev)
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
	}
	return out, nil
}

// eventStatus is the service_status a client sees for an upstream state
// change: ready carries the provider, as Omi's does, and the reason
// fallback_from_<x> when the session serves from a later provider of its
// chain (at the start, or after a failover, once the new provider
// answered); stt_degraded (with the reason as its text) and
// stt_recovered are earshot's additions.
func eventStatus(m stages.Message) (protocol.Event, bool) {
	var ev protocol.Event
	switch m.Event {
	case stages.EventConnecting:
		ev = protocol.ServiceStatus(protocol.StatusSTTInitiating, "STT Service Starting")
	case stages.EventConnected:
		ev = protocol.ServiceStatus(protocol.StatusReady, "")
		ev.Reason = fallback(m.Reason)
	case stages.EventDegraded:
		ev = protocol.ServiceStatus(protocol.StatusSTTDegraded, m.Reason)
	case stages.EventRecovered:
		ev = protocol.ServiceStatus(protocol.StatusSTTRecovered, "")
		if m.Reason == stages.ReasonFailback {
			// Back on an earlier provider of the chain.
			ev = protocol.ServiceStatus(protocol.StatusReady, "")
		}
		if r := fallback(m.Reason); r != "" {
			// A failover: the next provider serves (Omi's form).
			ev = protocol.ServiceStatus(protocol.StatusReady, "")
			ev.Reason = r
		}
	default:
		return ev, false
	}
	if m.Event != stages.EventConnecting {
		ev.Provider = m.Provider
	}
	if m.Channel > 0 && (m.Event == stages.EventDegraded || m.Event == stages.EventRecovered) {
		ev.Channel = m.Channel
		ev.StatusText = strings.TrimSuffix("channel "+strconv.Itoa(m.Channel)+": "+ev.StatusText, ": ")
	}
	return ev, true
}

// fallback is reason when it names the provider a fallback serves
// instead of ("fallback_from_<provider>"), else "".
func fallback(reason string) string {
	if strings.HasPrefix(reason, "fallback_from_") {
		return reason
	}
	return ""
}

// failedEvent is Omi's stt_failed status for an upstream that failed for
// good: a permanent refusal is a config_error nobody should retry as is;
// running out of attempts or of the provider's capacity is an
// upstream_error that may pass. The reason says whether a stream had ever
// opened; the text is the provider's client-safe reason; retry_after is
// the provider's Retry-After, rounded up to whole seconds.
func failedEvent(m stages.Message) protocol.Event {
	outcome, retryable := protocol.OutcomeUpstreamError, true
	if m.Failure == stages.FailurePermanent {
		outcome, retryable = protocol.OutcomeConfigError, false
	}
	reason := protocol.FailedInitialization
	if m.WasConnected {
		reason = protocol.FailedConnectionLost
	}
	var after *int
	if m.RetryAfter > 0 {
		sec := int((m.RetryAfter + time.Second - 1) / time.Second)
		after = &sec
	}
	text := m.Reason
	if text == "" {
		text = "speech-to-text unavailable"
	}
	return protocol.STTFailed(m.Provider, outcome, reason, text, retryable, after)
}

// failureClose is the close that follows stt_failed: 1013 (try again
// later) when the upstream had no capacity, else 1011, with Omi's reason.
func failureClose(f stages.Failure) (code int, text string) {
	if f == stages.FailureCapacity {
		return protocol.CloseTryAgainLater, protocol.CloseReasonSTTBusy
	}
	return protocol.CloseInternalError, protocol.CloseReasonSTTUnavailable
}

// encodeSegments renders segments as the client gets them (the pusher's
// 102s carry the same JSON).
func encodeSegments(segs []stages.Segment) ([]byte, error) {
	return protocol.EncodeSegments(wireSegments(segs))
}

// wireSegments converts the fan-out's segments to their wire form.
func wireSegments(segs []stages.Segment) []protocol.Segment {
	out := make([]protocol.Segment, len(segs))
	for i, s := range segs {
		tr := make([]protocol.Translation, len(s.Translations))
		for j, t := range s.Translations {
			tr[j] = protocol.Translation(t)
		}
		out[i] = protocol.Segment{
			ID: s.ID, Text: s.Text, Speaker: s.Speaker, SpeakerID: s.SpeakerID,
			IsUser: s.IsUser, PersonID: s.PersonID, Start: s.Start, End: s.End,
			Translations: tr, SpeechProfileProcessed: s.SpeechProfileProcessed,
			STTProvider: s.STTProvider,
		}
	}
	return out
}

// startFrames are the service_status events every session starts with,
// before the upstream's.
func startFrames() ([][]byte, error) {
	var frames [][]byte
	for _, e := range []protocol.Event{
		protocol.ServiceStatus(protocol.StatusInitiating, "Service Starting"),
		protocol.ServiceStatus(protocol.StatusConversationsProcessing, "Processing Conversations"),
	} {
		b, err := protocol.EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		frames = append(frames, b)
	}
	return frames, nil
}
