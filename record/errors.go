package record

import "errors"

// Sentinel errors of package record. Decide with errors.Is; the errors
// this package returns wrap them with details.
var (
	// ErrBadConfig means a Config field is out of range (New).
	ErrBadConfig = errors.New("record: bad config")
	// ErrBadQuery means an upgrade's query parameters are missing or out of
	// range; the upgrade is refused with HTTP 400.
	ErrBadQuery = errors.New("record: bad query parameters")
	// ErrBadConversationID means a conversation id is not one
	// pusher.ValidConversationID accepts (so it never names a file).
	ErrBadConversationID = errors.New("record: bad conversation id")
	// ErrNotFound means no finished conversation has that id
	// (ReadConversation). It is returned together with fs.ErrNotExist.
	ErrNotFound = errors.New("record: conversation not found")
	// ErrCorrupt means a conversation's files on disk are not what this
	// package writes: a meta.json that does not parse, a WAV whose header
	// or size disagrees with its meta, a staging directory without its
	// meta. The files are left as they are, for an operator.
	ErrCorrupt = errors.New("record: corrupt conversation files")
	// ErrOwner means a connection of one uid tried to write or finish a
	// conversation that another uid started, or with another sample rate.
	ErrOwner = errors.New("record: conversation belongs to another uid or sample rate")
	// ErrTooLong means the audio would not fit in a WAV file (4 GiB).
	ErrTooLong = errors.New("record: conversation too long for a WAV file")
)
