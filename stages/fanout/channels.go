package fanout

import "earshot/stages"

// channelStates folds the upstream states of a multi-channel session's
// connectors (one per channel) into the session's: the first channel
// connecting and the first connected stand for the session (one
// stt_initiating, one ready); a channel that degrades or recovers is
// reported with its channel; a channel that fails for good degrades the
// session while another channel still works, and only the last channel to
// fail fails the session. In a single-channel session every state passes
// as it is.
type channelStates struct {
	channels              int
	connecting, connected bool
	failed                map[int]bool
}

func newChannelStates(channels int) *channelStates {
	return &channelStates{channels: max(channels, 1), failed: map[int]bool{}}
}

// next returns the message that state update u makes the sinks see, if
// any.
func (c *channelStates) next(u stages.Update) (stages.Message, bool) {
	if c.channels == 1 {
		return stages.StateMessage(u), true
	}
	switch u.Kind {
	case stages.EventConnecting:
		if c.connecting {
			return stages.Message{}, false
		}
		c.connecting = true
	case stages.EventConnected:
		if c.connected {
			return stages.Message{}, false
		}
		c.connected = true
		u.Channel = 0 // the session is ready
	case stages.EventFailed:
		c.failed[u.Channel] = true
		if len(c.failed) < c.channels {
			// The others go on: for the session this channel is down.
			u.Kind, u.Reason = stages.EventDegraded, "failed: "+u.Reason
			u.Failure, u.RetryAfter = 0, 0
		}
	}
	return stages.StateMessage(u), true
}
