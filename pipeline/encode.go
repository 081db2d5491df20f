package pipeline

import (
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

// encodeMessage renders a fan-out message in the client protocol: a bare
// JSON array of the changed segments, then a segments_deleted event if
// merging removed segments; or the service_status event of an upstream
// state change; or, when the upstream failed for good, a close (1013 when
// it had no capacity, else 1011) with the reason. Segments go first so
// that a client never holds less text than before.
func encodeMessage(m stages.Message) (clientFrames, error) {
	var out clientFrames
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
		out.close, out.closeReason = failureClose(m.Failure, m.Reason)
		return out, nil
	}
	if status, text, ok := eventStatus(m.Event, m.Reason); ok {
		b, err := protocol.EncodeEvent(protocol.ServiceStatus(status, text))
		if err != nil {
			return out, err
		}
		out.frames = append(out.frames, b)
	}
	return out, nil
}

// eventStatus is the service_status a client sees for an upstream state
// change.
func eventStatus(k stages.EventKind, reason string) (status, text string, ok bool) {
	switch k {
	case stages.EventConnecting:
		return protocol.StatusSTTInitiating, "STT Service Starting", true
	case stages.EventConnected:
		return protocol.StatusReady, "", true
	case stages.EventDegraded:
		return protocol.StatusSTTDegraded, reason, true
	case stages.EventRecovered:
		return protocol.StatusSTTRecovered, "", true
	}
	return "", "", false
}

// failureClose is how a client is told the upstream failed for good: 1013
// (try again later) when it had no capacity, else 1011, with the reason.
func failureClose(f stages.Failure, reason string) (code int, text string) {
	code = protocol.CloseInternalError
	if f == stages.FailureCapacity {
		code = protocol.CloseTryAgainLater
	}
	text = "speech-to-text unavailable"
	if reason != "" {
		text = "stt failed: " + reason
	}
	return code, text
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
