package fanout

import (
	"math"

	"earshot/stages"
)

// Conversation timeouts (spec/listen-protocol.md, conversation_timeout).
const (
	// DefaultConversationTimeoutSec is Config.ConversationTimeoutSec's
	// default, and its least value: shorter timeouts are raised to it.
	DefaultConversationTimeoutSec = 120
	// ForeverConversationTimeoutSec is the timeout a negative
	// Config.ConversationTimeoutSec stands for (Omi's -1): 4 hours.
	ForeverConversationTimeoutSec = 4 * 60 * 60
	// DefaultConversationCheckMs is Config.ConversationCheckMs's default.
	DefaultConversationCheckMs = 500
)

// conversationTimeout is the timeout, in seconds, that a configured value
// stands for: 0 the default, negative 4 hours, anything under the
// default raised to it.
func conversationTimeout(sec int) float64 {
	switch {
	case sec < 0:
		return ForeverConversationTimeoutSec
	case sec < DefaultConversationTimeoutSec:
		return DefaultConversationTimeoutSec
	default:
		return float64(sec)
	}
}

// conversations splits a session's speech into conversations on the
// capture clock: a conversation opens with its first segment and ends
// once the silence after its last word reaches the timeout. It is the
// fan-out's bookkeeping, not safe for concurrent use.
type conversations struct {
	timeout float64 // seconds
	newID   func() string

	open     bool
	id       string
	startSec float64 // capture second of the open conversation's time 0
	// lastEnd is the capture second where the latest word ended, of the
	// open conversation or of words buffered to open the next.
	lastEnd float64
	// prevEnd is where the last conversation ended: the next one starts
	// no earlier.
	prevEnd float64
}

func newConversations(timeoutSec float64, newID func() string) *conversations {
	return &conversations{timeout: timeoutSec, newID: newID, lastEnd: math.Inf(-1)}
}

// wordSpan returns the capture seconds of the first word's start and the
// last word's end of r, ok false when r has no words.
func wordSpan(r stages.Result) (first, last float64, ok bool) {
	if len(r.Words) == 0 {
		return 0, 0, false
	}
	first, last = math.Inf(1), math.Inf(-1)
	for _, w := range r.Words {
		first = min(first, w.StartSec)
		last = max(last, w.EndSec, w.StartSec)
	}
	return first, last, true
}

// splits reports whether speech starting at first begins a new
// conversation: the silence since the last word heard (of the open
// conversation, or buffered to open it) reached the timeout.
func (c *conversations) splits(first float64) bool {
	return !math.IsInf(c.lastEnd, -1) && first-c.lastEnd >= c.timeout
}

// heardWords records words ending at last.
func (c *conversations) heardWords(last float64) {
	c.lastEnd = max(c.lastEnd, last)
}

// quiet reports whether the silence reached the timeout at capture
// second now.
func (c *conversations) quiet(now float64) bool {
	return c.open && now-c.lastEnd >= c.timeout
}

// start opens the next conversation with time 0 at originSec (no earlier
// than where the last one ended) and returns its start.
func (c *conversations) start(originSec float64) stages.Conversation {
	c.open, c.id = true, c.newID()
	c.startSec = max(originSec, c.prevEnd)
	return stages.Conversation{Change: stages.ConversationStarted, ID: c.id, StartSec: c.startSec}
}

// end closes the open conversation where its timeout ran out, or at
// capture second audioEnd when the session's audio ended before that
// (audioEnd < 0: not known), and returns its end.
func (c *conversations) end(audioEnd float64, segments int) stages.Conversation {
	endSec := c.lastEnd + c.timeout
	if audioEnd >= 0 {
		endSec = min(endSec, max(audioEnd, c.lastEnd))
	}
	endSec = max(endSec, c.startSec)
	ev := stages.Conversation{Change: stages.ConversationEnded, ID: c.id, StartSec: c.startSec, EndSec: endSec, Segments: segments}
	c.open, c.id, c.prevEnd, c.lastEnd = false, "", endSec, math.Inf(-1)
	return ev
}
