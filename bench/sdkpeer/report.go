package sdkpeer

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Column is one client's results in a scenario.
type Column struct {
	Name       string
	Dials      int64
	Connect    time.Duration // the application's connect call
	Writes     Writes
	A          Analysis
	LostMetric string // the gateway's own earshot_audio_lost_seconds_total
	Outcome    string
	Pace       float64
}

// Table renders the columns side by side as a Markdown table.
func Table(cols ...Column) string {
	var b strings.Builder
	b.WriteString("| |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.Name)
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	row := func(label string, f func(Column) string) {
		fmt.Fprintf(&b, "| %s |", label)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", f(c))
		}
		b.WriteString("\n")
	}
	row("upstream dials (streams opened, of which never got audio)", func(c Column) string {
		return fmt.Sprintf("%d (%d, %d)", c.Dials, c.A.Streams, c.A.NoAudio)
	})
	row("connect call blocked", func(c Column) string { return ms(c.Connect) })
	row("write stall max / p99", func(c Column) string {
		return ms(c.Writes.Durs.Max()) + " / " + ms(c.Writes.Durs.Quantile(0.99))
	})
	row("writes ≥ 100 ms / errors", func(c Column) string {
		return fmt.Sprintf("%d / %d", c.Writes.Durs.Over(100*time.Millisecond), c.Writes.Errors)
	})
	row("audio the app had to queue itself (max; wall time behind schedule)", func(c Column) string {
		return fmt.Sprintf("%.1f s (%s)", c.Writes.MaxLate.Seconds()*c.Pace, ms(c.Writes.MaxLate))
	})
	row("audio received upstream / signal", func(c Column) string {
		return fmt.Sprintf("%.1f s / %.1f s", bytesToSec(c.A.Audio.ReceivedBytes), bytesToSec(c.A.Audio.SignalBytes))
	})
	row("audio lost (never reached upstream)", func(c Column) string {
		a := c.A.Audio
		return fmt.Sprintf("%.2f s (%.1f%%)", a.LostSec(), 100*a.LostSec()/bytesToSec(a.SignalBytes))
	})
	row("audio sent twice", func(c Column) string { return fmt.Sprintf("%.2f s", c.A.Audio.ResentSec()) })
	row("earshot_audio_lost_seconds_total", func(c Column) string { return c.LostMetric })
	row("reconnect: drop → next stream's first audio, mean / max", func(c Column) string {
		if len(c.A.Reconnects) == 0 {
			return "–"
		}
		var sum time.Duration
		for _, d := range c.A.Reconnects {
			sum += d
		}
		return ms(sum/time.Duration(len(c.A.Reconnects))) + " / " + ms(Durations(c.A.Reconnects).Max())
	})
	row("start → first audio upstream", func(c Column) string {
		if c.A.FirstAudio < 0 {
			return "never"
		}
		return ms(c.A.FirstAudio)
	})
	row("words heard / expected (recall)", func(c Column) string {
		w := c.A.Words
		return fmt.Sprintf("%d / %d (%.1f%%)", w.Heard, w.Expected, 100*w.Recall())
	})
	row("words produced upstream / delivered to the app", func(c Column) string {
		return fmt.Sprintf("%d / %d", c.A.Words.Emitted, c.A.Words.Received)
	})
	row("duplicate / spurious words", func(c Column) string {
		return fmt.Sprintf("%d / %d", c.A.Words.Dups, c.A.Words.Spurious)
	})
	row("word times off by > 250 ms", func(c Column) string {
		return fmt.Sprintf("%d of %d", c.A.Words.TimeWrong, c.A.Words.TimeCheck)
	})
	row("KeepAlives received upstream", func(c Column) string { return fmt.Sprint(c.A.KeepAlives) })
	row("upstream stream ends", func(c Column) string { return ends(c.A.Ends) })
	row("outcome", func(c Column) string { return c.Outcome })
	return b.String()
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", math.Max(v, 0))
	}
}

func ends(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
