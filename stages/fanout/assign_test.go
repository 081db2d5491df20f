package fanout_test

import (
	"strconv"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

// pseg expects a segment of person (a *string, nil, or an operator); id is
// a string or an operator.
func pseg(id any, text string, speaker int, start, end float64, person any) td.TestDeep {
	if person == nil {
		person = td.Nil()
	}
	return td.SStruct(stages.Segment{
		Text:         text,
		Speaker:      "SPEAKER_" + strconv.Itoa(speaker),
		SpeakerID:    speaker,
		Start:        start,
		End:          end,
		Translations: []stages.Translation{},
		STTProvider:  "fake",
	}, td.StructFields{"ID": id, "PersonID": person})
}

// threeTurns is a conversation of speakers 0, 1, 0: id-1, id-2, id-3.
func threeTurns(t *testing.T) *fanout.Segmenter {
	t.Helper()
	s := newSeg()
	flush(t, s, td.Len(3), nil, stagestest.Final(
		stagestest.Say(0, 10, 11, "Did you get it?"),
		stagestest.Say(1, 11.2, 12, "Yes, thanks."),
		stagestest.Say(0, 12.1, 12.5, "Great."),
	))
	return s
}

// TestSegmenterAssignSentSegments: naming speaker 0 re-reports its sent
// segments with the person, leaves speaker 1's alone, and shows in the
// conversation.
func TestSegmenterAssignSentSegments(t *testing.T) {
	s := threeTurns(t)
	got := s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann"})
	td.Cmp(t, got, segs(
		pseg("id-1", "Did you get it?", 0, 0, 1, td.Ptr("p-ann")),
		pseg("id-3", "Great.", 0, 2.1, 2.5, td.Ptr("p-ann")),
	))
	td.Cmp(t, s.Segments(), segs(
		pseg("id-1", "Did you get it?", 0, 0, 1, td.Ptr("p-ann")),
		pseg("id-2", "Yes, thanks.", 1, 1.2, 2, nil),
		pseg("id-3", "Great.", 0, 2.1, 2.5, td.Ptr("p-ann")),
	))
	// Each copy has a pointer of its own: changing one changes nothing else.
	*got[0].PersonID = "changed"
	td.Cmp(t, *got[1].PersonID, "p-ann")
	td.Cmp(t, s.Segments()[0].PersonID, td.Ptr("p-ann"))
	// is_user stays the provider's.
	td.CmpFalse(t, got[0].IsUser)
}

// TestSegmenterAssignListedSegments: segments listed by ID carry the
// person whatever their speaker; unknown IDs are ignored.
func TestSegmenterAssignListedSegments(t *testing.T) {
	s := threeTurns(t)
	got := s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann", SegmentIDs: []string{"id-2", "nope", ""}})
	td.Cmp(t, got, segs(
		pseg("id-1", "Did you get it?", 0, 0, 1, td.Ptr("p-ann")),
		pseg("id-2", "Yes, thanks.", 1, 1.2, 2, td.Ptr("p-ann")),
		pseg("id-3", "Great.", 0, 2.1, 2.5, td.Ptr("p-ann")),
	))
	// Only listed ones: speaker 7 has no segment, id-2 is listed.
	s = threeTurns(t)
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 7, PersonID: "p-bob", SegmentIDs: []string{"id-2"}}),
		segs(pseg("id-2", "Yes, thanks.", 1, 1.2, 2, td.Ptr("p-bob"))))
	// Speaker 1 itself was not named: its next segment has no person.
	flush(t, s, segs(pseg("id-4", "Sure.", 1, 10, 11, nil)), nil,
		stagestest.Final(stagestest.Say(1, 20, 21, "Sure.")))
}

// TestSegmenterAssignFutureSegments: segments flushed after the
// assignment, including ones buffered before it, carry the person of
// their speaker; other speakers' do not.
func TestSegmenterAssignFutureSegments(t *testing.T) {
	s := threeTurns(t)
	s.Add(stagestest.Final(stagestest.Say(1, 20, 21, "Buffered.")))
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 1, PersonID: "p-bob"}),
		segs(pseg("id-2", "Yes, thanks.", 1, 1.2, 2, td.Ptr("p-bob"))),
		"the buffered segment was never reported: not returned")
	flush(t, s, segs(pseg("id-4", "Buffered.", 1, 10, 11, td.Ptr("p-bob"))), nil)
	flush(t, s, segs(
		pseg("id-5", "Later.", 1, 20, 21, td.Ptr("p-bob")),
		pseg("id-6", "Me too.", 0, 21.5, 22, nil),
	), nil, stagestest.Final(stagestest.Say(1, 30, 31, "Later."), stagestest.Say(0, 31.5, 32, "Me too.")))
}

// TestSegmenterAssignUnchanged: an assignment that changes no segment's
// person returns nothing.
func TestSegmenterAssignUnchanged(t *testing.T) {
	s := threeTurns(t)
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann"}), td.Len(2))
	td.CmpNil(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann"}), "same person again")
	td.CmpNil(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 1, PersonID: ""}), "clearing a speaker never named")
	td.CmpNil(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 9, PersonID: "p-x"}), "no such speaker")
	// Re-naming to another person does change them.
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-eve"}), segs(
		pseg("id-1", "Did you get it?", 0, 0, 1, td.Ptr("p-eve")),
		pseg("id-3", "Great.", 0, 2.1, 2.5, td.Ptr("p-eve")),
	))
}

// TestSegmenterAssignClear: an empty person clears the speaker: its
// segments are re-reported with a null person, and later ones have none.
func TestSegmenterAssignClear(t *testing.T) {
	s := threeTurns(t)
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-ann", SegmentIDs: []string{"id-2"}}), td.Len(3))
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0}), segs(
		pseg("id-1", "Did you get it?", 0, 0, 1, nil),
		pseg("id-3", "Great.", 0, 2.1, 2.5, nil),
	))
	td.Cmp(t, s.Segments()[1].PersonID, td.Ptr("p-ann"), "id-2, of speaker 1, was named by ID: kept")
	flush(t, s, segs(pseg("id-4", "Again.", 0, 10, 11, nil)), nil,
		stagestest.Final(stagestest.Say(0, 20, 21, "Again.")))
}

// TestSegmenterAssignDifferentPersonsDoNotMerge: within the gap, two
// segments of one speaker merge only when their persons agree.
func TestSegmenterAssignDifferentPersonsDoNotMerge(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(pseg("id-1", "So I was", 0, 0, 1, nil)), nil,
		stagestest.Final(stagestest.Say(0, 5, 6, "So I was")))
	// id-1 is named by ID; speaker 0 is not.
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 3, PersonID: "p-ann", SegmentIDs: []string{"id-1"}}), td.Len(1))
	flush(t, s, segs(pseg("id-2", "thinking about it.", 0, 1.5, 2.5, nil)), nil,
		stagestest.Final(stagestest.Say(0, 6.5, 7.5, "thinking about it.")))

	// Same person: the merge rule as before; the segment keeps its person.
	td.Cmp(t, s.Assign(stages.SpeakerAssignment{SpeakerID: 0, PersonID: "p-bob"}), td.Len(2))
	flush(t, s, segs(pseg("id-2", "thinking about it. Then", 0, 1.5, 3.5, td.Ptr("p-bob"))), nil,
		stagestest.Final(stagestest.Say(0, 8, 8.5, "Then")))
	td.Cmp(t, s.Segments(), segs(
		pseg("id-1", "So I was", 0, 0, 1, td.Ptr("p-bob")),
		pseg("id-2", "thinking about it. Then", 0, 1.5, 3.5, td.Ptr("p-bob")),
	), "Assign itself never merges")
}
