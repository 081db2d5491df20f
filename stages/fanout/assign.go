package fanout

import "earshot/stages"

// Assign applies a client's naming of a speaker (see
// stages.SpeakerAssignment for the contract) and returns copies of the
// segments to send again: those that past Flush calls had reported and
// whose person changed, in conversation order; nil when none did.
//
// It records the speaker's person (or forgets it, for an empty PersonID)
// for the segments to come: a segment gets its speaker's person when Flush
// places it in the conversation, so segments buffered by Add and not yet
// flushed carry it when they are, and are not returned here. It sets the
// person on every segment of the conversation of that speaker and on every
// segment listed in SegmentIDs, whatever its speaker.
//
// Assign never merges or splits segments: neighbours that now have the
// same person stay apart. Later merges only join segments of the same
// person (see mergeable), so a merge never changes a segment's person.
func (s *Segmenter) Assign(a stages.SpeakerAssignment) []stages.Segment {
	if a.PersonID == "" {
		delete(s.persons, a.SpeakerID)
	} else {
		if s.persons == nil {
			s.persons = make(map[int]string)
		}
		s.persons[a.SpeakerID] = a.PersonID
	}
	var listed map[string]struct{}
	if len(a.SegmentIDs) > 0 {
		listed = make(map[string]struct{}, len(a.SegmentIDs))
		for _, id := range a.SegmentIDs {
			if id != "" {
				listed[id] = struct{}{}
			}
		}
	}

	var changed []stages.Segment
	for i := range s.conv {
		sp := &s.conv[i]
		if sp.speakerID != a.SpeakerID {
			if _, ok := listed[sp.id]; !ok {
				continue
			}
		}
		if sp.personID == a.PersonID {
			continue
		}
		sp.personID = a.PersonID
		if sp.sent { // always, between Flush calls
			changed = append(changed, s.export(sp))
		}
	}
	return changed
}

// personRef is the client form of a span's person: a fresh pointer, so
// that no two exported segments share one, or nil when there is none.
func personRef(personID string) *string {
	if personID == "" {
		return nil
	}
	return &personID
}
