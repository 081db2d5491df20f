package connector_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/connector"
)

func TestClockMapContiguousIsOffset(t *testing.T) {
	m := connector.NewClockMap(1000)
	td.Cmp(t, m.Capture(0.3), 0.3, "before any audio: unchanged")
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 5000})
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 6000})
	td.Cmp(t, m.Capture(0.5), td.N(5.5, 1e-9))
	td.Cmp(t, m.Capture(1.5), td.N(6.5, 1e-9))
	td.Cmp(t, m.SentSamples(), int64(2000))
}

func TestClockMapGapAddsCheckpoint(t *testing.T) {
	m := connector.NewClockMap(1000)
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 0})     // provider 0-1 s = capture 0-1 s
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 10000}) // provider 1-2 s = capture 10-11 s
	td.Cmp(t, m.Capture(0.25), td.N(0.25, 1e-9))
	td.Cmp(t, m.Capture(1.25), td.N(10.25, 1e-9))
	r := m.MapResult(stages.Result{StartSec: 1, DurationSec: 0.5,
		Words: []stages.Word{{StartSec: 1.1, EndSec: 1.4}}})
	td.Cmp(t, r, td.Struct(stages.Result{}, td.StructFields{
		"StartSec":    td.N(10.0, 1e-9),
		"DurationSec": td.N(0.5, 1e-9),
		"Words":       []stages.Word{{StartSec: 10.1, EndSec: 10.4}},
	}))
}

// TestClockMapEndsStayBeforeAGap: a span ending where a gap begins ends
// there in capture time too, instead of stretching over the gap; a span
// starting there starts after the gap.
func TestClockMapEndsStayBeforeAGap(t *testing.T) {
	m := connector.NewClockMap(1000)
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 0})     // provider 0-1 s = capture 0-1 s
	m.Sent(stages.Audio{PCM: make([]byte, 2000), Start: 10000}) // provider 1-2 s = capture 10-11 s
	td.Cmp(t, m.Capture(1), td.N(10.0, 1e-9))
	td.Cmp(t, m.CaptureEnd(1), td.N(1.0, 1e-9))
	td.Cmp(t, m.CaptureEnd(1.5), td.N(10.5, 1e-9))
	td.Cmp(t, m.CaptureEnd(0), 0.0)
	r := m.MapResult(stages.Result{StartSec: 0.5, DurationSec: 0.5,
		Words: []stages.Word{{StartSec: 0.8, EndSec: 1}, {StartSec: 1, EndSec: 1}}})
	td.Cmp(t, r, td.Struct(stages.Result{}, td.StructFields{
		"StartSec":    td.N(0.5, 1e-9),
		"DurationSec": td.N(0.5, 1e-9),
		"Words":       []stages.Word{{StartSec: 0.8, EndSec: 1}, {StartSec: 10, EndSec: 10}},
	}))
}
