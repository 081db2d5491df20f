// Package record is a receiver of the Omi pusher protocol
// (spec/pusher.md, wire form in earshot/protocol/pusher): the backend of
// `earshot record`. It stores each conversation's audio, segments and
// speaker samples on disk, and acknowledges a "process this
// conversation" request (104) with a 201 only once the conversation is
// durably stored.
//
// # Frames
//
// A connection (GET /v1/trigger/listen?uid=<uid>&sample_rate=<Hz>) has a
// current conversation, set by 103. Audio (101) goes to it: the first
// audio of a conversation fixes its start time, and every later frame is
// placed by its timestamp, so that audio the sender lost becomes silence
// (counted in meta.json's gap_samples) and audio it re-sends after a
// reconnect is skipped (duplicate_samples): the WAV's timeline is true
// and re-sending is idempotent. Segments (102) go to the conversation
// their memory_id names (the current one if it is empty), one compact
// JSON object per line; speaker samples (105) to the one their
// conversation_id names. A 104 finishes its conversation and is answered
// with success, again for one finished before (senders re-send
// unanswered 104s after each reconnect), or with an error text. Data for
// a finished conversation, heartbeats (100), unknown kinds, text
// messages and frames that do not parse are counted and dropped; none of
// them closes the connection. Only a message larger than
// Config.MaxFrameBytes does (1009).
//
// # Disk layout
//
//	DIR/<conversation id>/             finished (renamed into place whole)
//	    audio.wav                      mono PCM16 at the sample rate
//	    segments.jsonl                 one segment object per line
//	    speakers.jsonl                 one 105 object per line, if any
//	    meta.json                      Meta
//	DIR/.staging/<conversation id>/    in progress
//	    audio.pcm                      the raw samples so far
//	    segments.jsonl, speakers.jsonl
//	    meta.json                      uid, sample rate, start time, counters
//
// Conversation ids are directory names only after
// pusher.ValidConversationID accepted them; uids are stored in meta.json
// and never used in a path. Segment lines are kept in the order received:
// a segment re-sent with the same "id" supersedes the earlier line with
// that id (the client protocol upserts segments by id); readers keep the
// last one.
//
// # Durability and restarts
//
// Staged data is written without fsync; a 104 writes audio.wav,
// fsyncs every file, removes audio.pcm, and renames the staging directory
// into place, fsyncing both parent directories before the 201 is sent. A
// Recorder started on the same Dir repairs what a crash left (a torn
// last write, a finish cut short) and resumes staged conversations where
// they stopped: a sender that reconnects, names the conversation again
// and goes on ends with one conversation holding all its audio. A
// conversation acknowledged with a 201 is never lost or changed.
// Conversations that never get a 104 stay staged; removing old ones is
// the operator's.
//
// # Concurrency
//
// Several connections may write the same conversation at once (an old
// connection not yet noticed dead and its replacement); they serialize
// on a per-conversation lock. A conversation's files are open only while
// some connection uses it (at most three per connection's current
// conversation, plus those of one frame being handled).
package record
