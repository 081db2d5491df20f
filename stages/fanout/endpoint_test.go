package fanout_test

import (
	"strings"
	"testing"

	"earshot/stages"
	"earshot/stages/stagestest"
)

// endpoint is a final result of bare words (no punctuation, no casing)
// that ends where the speaker paused.
func endpoint(start, end float64, text string) stages.Result {
	r := stagestest.Final(stagestest.Say(0, start, end, text))
	r.SpeechFinal = true
	return r
}

// TestSegmenterEndpointEndsUnpunctuatedSentences: a provider without
// punctuation never ends a sentence with '.', so an endpoint does: long
// utterances split at pauses into segments of their own, as punctuated
// text does at a period; short ones still merge (Omi's rule wants 125
// characters); without endpoints everything is one segment.
func TestSegmenterEndpointEndsUnpunctuatedSentences(t *testing.T) {
	long1 := strings.Repeat("we went over the deck and the numbers ", 4)[:140]
	long2 := strings.Repeat("then we talked about the launch plan ", 4)[:140]
	long1, long2 = strings.TrimSpace(long1), strings.TrimSpace(long2)

	s := newSeg()
	flush(t, s, segs(seg("id-1", long1, 0, 0, 10), seg("id-2", long2, 0, 11, 20)), nil,
		endpoint(0, 10, long1), endpoint(11, 20, long2))

	s = newSeg()
	flush(t, s, segs(seg("id-1", "hello there how are you", 0, 0, 2)), nil,
		endpoint(0, 1, "hello there"), endpoint(1.5, 2, "how are you"))

	s = newSeg()
	flush(t, s, segs(seg("id-1", long1+" "+long2, 0, 0, 20)), nil,
		noEndpoint(0, 10, long1), noEndpoint(11, 20, long2))
}

// TestSegmenterEndpointLeavesPunctuatedTextToItsPunctuation: with
// punctuation, Omi's rule alone decides: an endpoint after a comma does
// not end the sentence.
func TestSegmenterEndpointLeavesPunctuatedTextToItsPunctuation(t *testing.T) {
	text := strings.TrimSpace(strings.Repeat("We went over the deck, and the numbers ", 4)[:140]) + ","
	r := stagestest.Final(stagestest.Say(0, 0, 10, text))
	r.SpeechFinal = true
	s := newSeg()
	flush(t, s, segs(seg("id-1", text+" then the plan.", 0, 0, 12)), nil,
		r, stagestest.Final(stagestest.Say(0, 11, 12, "then the plan.")))
}

// TestSegmenterEndpointCarriesAcrossMerges: after a short unpunctuated
// sentence merged into the previous one, the merged segment ends at that
// sentence's endpoint, so the next long one starts a segment of its own.
func TestSegmenterEndpointCarriesAcrossMerges(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("we went over the deck and the numbers ", 4)[:140])
	s := newSeg()
	flush(t, s, segs(seg("id-1", "so anyway "+long, 0, 0, 11), seg("id-2", "next topic", 0, 12, 13)), nil,
		noEndpoint(0, 1, "so anyway"), endpoint(1, 11, long), endpoint(12, 13, "next topic"))
}

// noEndpoint is a final result of bare words with no pause after them.
func noEndpoint(start, end float64, text string) stages.Result {
	return stagestest.Final(stagestest.Say(0, start, end, text))
}
