package stages

// SpeakerAssignment is a client's naming of a diarized speaker (Omi's
// speaker_assigned message, spec/listen-protocol.md): from now on, in this
// conversation, the speaker SpeakerID is the known person PersonID.
//
// The fan-out applies it at once:
//
//   - Every segment of SpeakerID, already sent or to come, carries
//     PersonID (wire person_id).
//   - Every segment whose ID is in SegmentIDs carries PersonID too,
//     whatever its speaker (the client has named those segments).
//   - The segments the client had already been sent and whose person
//     changed are sent again with the same IDs (clients upsert); a segment
//     whose person did not change is not re-sent.
//   - IsUser stays what the provider said: naming a speaker never makes
//     its segments the user's, nor the reverse.
//   - The latest assignment wins: an assignment of a speaker overrides
//     the person of every segment of that speaker, including one named
//     earlier by ID.
//
// An empty PersonID clears: the speaker has no known person any more, and
// its segments (and those listed in SegmentIDs) go back to a null
// person_id, again re-sent when they change.
//
// The message's person_name is not part of a segment and is deliberately
// not carried: the gateway neither stores nor logs it.
type SpeakerAssignment struct {
	// SpeakerID is the diarized speaker index (a Segment's SpeakerID).
	SpeakerID int
	// PersonID names the person; "" clears the speaker's assignment.
	PersonID string
	// SegmentIDs lists segments that carry PersonID whatever their
	// speaker; unknown IDs are ignored.
	SegmentIDs []string
}
