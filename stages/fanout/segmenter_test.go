package fanout_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/fanout"
	"earshot/stages/stagestest"
)

// newSeg returns a Segmenter with the default config and IDs id-1, id-2...
func newSeg() *fanout.Segmenter {
	n := 0
	return fanout.NewSegmenter(fanout.SegmenterConfig{}, "fake", func() string {
		n++
		return "id-" + strconv.Itoa(n)
	})
}

// seg expects a segment; id is a string or an operator.
func seg(id any, text string, speaker int, start, end float64) td.TestDeep {
	return td.SStruct(stages.Segment{
		Text:         text,
		Speaker:      "SPEAKER_" + strconv.Itoa(speaker),
		SpeakerID:    speaker,
		Start:        start,
		End:          end,
		Translations: []stages.Translation{},
		STTProvider:  "fake",
	}, td.StructFields{"ID": id})
}

// segs expects exactly these segments, in order.
func segs(want ...td.TestDeep) td.TestDeep {
	entries := td.ArrayEntries{}
	for i, w := range want {
		entries[i] = w
	}
	return td.Slice([]stages.Segment{}, entries)
}

// flush adds the results, flushes, and checks what Flush reported; nil
// expects nil.
func flush(t *testing.T, s *fanout.Segmenter, changed td.TestDeep, deleted []string, rs ...stages.Result) {
	t.Helper()
	for _, r := range rs {
		s.Add(r)
	}
	gotChanged, gotDeleted := s.Flush()
	if changed == nil {
		changed = td.Nil()
	}
	td.Cmp(t, gotChanged, changed, "changed")
	if deleted == nil {
		td.CmpNil(t, gotDeleted, "deleted")
	} else {
		td.Cmp(t, gotDeleted, deleted, "deleted")
	}
}

func TestSegmenterSpeakerChangeSplits(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(
		seg("id-1", "Did you get it?", 0, 0, 1),
		seg("id-2", "Yes, thanks.", 1, 1.2, 2),
		seg("id-3", "Great.", 0, 2.1, 2.5),
	), nil, stagestest.Final(
		stagestest.Say(0, 10, 11, "Did you get it?"),
		stagestest.Say(1, 11.2, 12, "Yes, thanks."),
		stagestest.Say(0, 12.1, 12.5, "Great."),
	))
}

func TestSegmenterMergesWithinGapKeepingID(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(seg("id-1", "So I was", 0, 0, 1)), nil,
		stagestest.Final(stagestest.Say(0, 5, 6, "So I was")))
	// Same speaker 2.9 s later: appended, same ID, so the client upserts.
	flush(t, s, segs(seg("id-1", "So I was thinking about it.", 0, 0, 4.9)), nil,
		stagestest.Final(stagestest.Say(0, 8.9, 9.9, "thinking about it.")))
	// Buffered segments merge with each other within one Flush too.
	flush(t, s, segs(seg("id-1", "So I was thinking about it. Then I left. Bye.", 0, 0, 7)), nil,
		stagestest.Final(stagestest.Say(0, 10, 11, "Then I left.")), stagestest.Final(stagestest.Say(0, 11.5, 12, "Bye.")))
	td.Cmp(t, s.Segments(), segs(seg("id-1", "So I was thinking about it. Then I left. Bye.", 0, 0, 7)))
	changed, deleted := s.Flush()
	td.CmpNil(t, changed, "nothing buffered")
	td.CmpNil(t, deleted, "nothing buffered")
}

func TestSegmenterGap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nextStart float64
		merged    bool
	}{
		{"just under", 3.999, true},
		{"exactly the limit", 4, false},
		{"over", 7, false},
		{"overlap", 0.5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSeg()
			s.Add(stagestest.Final(stagestest.Say(2, 0, 1, "well I")))
			s.Add(stagestest.Final(stagestest.Say(2, tc.nextStart, tc.nextStart+1, "Think so")))
			_, _ = s.Flush()
			td.Cmp(t, len(s.Segments()) == 1, tc.merged, "merged")
		})
	}
}

func TestSegmenterFinishedSentence(t *testing.T) {
	long := strings.Repeat("word ", 24) + "end" // 123 characters
	for _, tc := range []struct {
		name, prev, next string
		merged           bool
	}{
		{"short finished", "Okay.", "Then", true},
		{"long unfinished", long + " now,", "Then", true},
		{"long finished", long + " now.", "Then", false},
		{"long question", long + " ok?", "Then", false},
		{"long finished, lowercase next", long + " now.", "then", true},
		{"124 chars finished", long + ".", "Then", true},
		{"125 chars finished", long + "s.", "Then", false},
		{"multibyte counted in runes", strings.Repeat("é", 123) + ".", "Then", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSeg()
			s.Add(stagestest.Final(stagestest.Say(0, 0, 10, tc.prev)))
			s.Add(stagestest.Final(stagestest.Say(0, 11, 12, tc.next)))
			changed, deleted := s.Flush()
			want := segs(seg("id-1", tc.prev+" "+tc.next, 0, 0, 12))
			if !tc.merged {
				want = segs(seg("id-1", tc.prev, 0, 0, 10), seg("id-2", tc.next, 0, 11, 12))
			}
			td.Cmp(t, changed, want)
			td.CmpNil(t, deleted)
		})
	}
}

func TestSegmenterTimesRelativeToFirstSpeech(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(seg("id-1", "Hi.", 1, 0, 0.322)), nil,
		stagestest.Final(stagestest.Say(1, 12.3454, 12.6666, "Hi.")))
	flush(t, s, segs(seg("id-2", "Hello.", 0, 1.155, 2.155)), nil,
		stagestest.Final(stagestest.Say(0, 13.5, 14.5, "Hello.")))
}

func TestSegmenterIgnoresEmptyResults(t *testing.T) {
	s := newSeg()
	flush(t, s, nil, nil,
		stages.Result{IsFinal: true},
		stages.Result{IsFinal: true, Words: []stages.Word{{StartSec: 1, EndSec: 2}}},
		stages.Result{IsFinal: false, Words: stagestest.Say(0, 2, 3, "interim words")})
	td.Cmp(t, s.Segments(), []stages.Segment{})
	// The empty results did not define time 0.
	flush(t, s, segs(seg("id-1", "Real words", 0, 0, 1)), nil,
		stagestest.Final(stagestest.Say(0, 4, 5, "Real words")))
}

func TestSegmenterLateResultAbsorbsSentSegment(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(
		seg("id-1", "So I was thinking", 0, 0, 1),
		seg("id-2", "about the deck.", 0, 5, 6),
	), nil, stagestest.Final(stagestest.Say(0, 0, 1, "So I was thinking")), stagestest.Final(stagestest.Say(0, 5, 6, "about the deck.")))
	// A late result fills the gap: id-1 grows and absorbs id-2.
	flush(t, s, segs(seg("id-1", "So I was thinking we should talk about the deck.", 0, 0, 6)),
		[]string{"id-2"}, stagestest.Final(stagestest.Say(0, 2, 4, "we should talk")))
	td.Cmp(t, s.Segments(), segs(seg("id-1", "So I was thinking we should talk about the deck.", 0, 0, 6)))
}

func TestSegmenterLateNewSegmentTakesOverID(t *testing.T) {
	s := newSeg()
	flush(t, s, segs(seg("id-1", "Hi.", 1, 0, 1), seg("id-2", "the deck.", 0, 5, 6)), nil,
		stagestest.Final(stagestest.Say(1, 0, 1, "Hi."), stagestest.Say(0, 5, 6, "the deck.")))
	// Inserted between them, the new segment absorbs id-2 and keeps its ID:
	// the client upserts, nothing is deleted.
	flush(t, s, segs(seg("id-2", "About the deck.", 0, 2, 6)), nil,
		stagestest.Final(stagestest.Say(0, 2, 4.5, "About")))
	td.Cmp(t, s.Segments(), segs(seg("id-1", "Hi.", 1, 0, 1), seg("id-2", "About the deck.", 0, 2, 6)))
}

func TestSegmenterSegmentsIsACopy(t *testing.T) {
	s := newSeg()
	flush(t, s, td.Len(1), nil, stagestest.Final(stagestest.Say(0, 0, 1, "Hello")))
	got := s.Segments()
	got[0].Text = "changed"
	td.Cmp(t, s.Segments(), segs(seg("id-1", "Hello", 0, 0, 1)))
}

func BenchmarkSegmenter(b *testing.B) {
	s := fanout.NewSegmenter(fanout.SegmenterConfig{}, "deepgram", nil)
	text := strings.Fields("Hey, did you get the deck I sent? I think we should go over it tomorrow.")
	ws := make([]stages.Word, len(text))
	at := 0.0
	b.ReportAllocs()
	for b.Loop() {
		for i, w := range text {
			ws[i] = stages.Word{Word: w, Punctuated: w, StartSec: at, EndSec: at + 0.25, Speaker: 0}
			at += 0.3
		}
		at += 0.5
		s.Add(stages.Result{Words: ws, IsFinal: true, SpeechFinal: true})
		_, _ = s.Flush()
	}
}
