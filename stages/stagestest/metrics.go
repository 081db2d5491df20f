package stagestest

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

// Half is a Rand for backoff jitter that always draws 0.5, so that every
// delay is half its upper bound.
func Half() float64 { return 0.5 }

// Scrape returns set's Prometheus text.
func Scrape(set *metrics.Set) string {
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	return buf.String()
}

// MetricValue reads the value of the series named exactly name (labels
// included) from set; it fails t at once if there is none or the value is
// not a number.
func MetricValue(t testing.TB, set *metrics.Set, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(Scrape(set)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("series %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}
