package auth

import (
	"fmt"
	"slices"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// Labels of earshot_auth_tokens_total.
const (
	resultOK         = "ok"
	resultExpired    = "expired"
	resultInvalid    = "invalid"
	resultUnknownKey = "unknown_key"
	resultAlgorithm  = "algorithm"
	resultNoKeys     = "no_keys"
)

// Metric names.
const (
	metricTokens    = `earshot_auth_tokens_total`
	metricRefreshes = `earshot_auth_jwks_refreshes_total`
	metricKeys      = `earshot_auth_jwks_keys`
	metricAge       = `earshot_auth_jwks_age_seconds`
)

// gaugeMu serialises the check-then-register of the gauges, so two New
// calls on one set cannot both pass the check (metrics panics on a
// duplicate).
var gaugeMu sync.Mutex

// verifierMetrics are one Verifier's handles.
type verifierMetrics struct {
	set          *metrics.Set
	tokens       map[string]*metrics.Counter
	refreshOK    *metrics.Counter
	refreshError *metrics.Counter
}

// newMetrics registers the auth metrics in set. Counters are
// get-or-create, so Verifiers sharing a set add to the same series. The
// two gauges read one live Verifier through keys and age (seconds); if
// another Verifier that has not been closed already registered them, it
// is an error.
func newMetrics(set *metrics.Set, keys, age func() float64) (*verifierMetrics, error) {
	gaugeMu.Lock()
	defer gaugeMu.Unlock()
	names := set.ListMetricNames()
	for _, g := range []string{metricKeys, metricAge} {
		if slices.Contains(names, g) {
			return nil, fmt.Errorf("auth metrics: %s already registered in this set (close the other verifier first)", g)
		}
	}
	m := &verifierMetrics{set: set, tokens: map[string]*metrics.Counter{}}
	for _, r := range []string{resultOK, resultExpired, resultInvalid, resultUnknownKey, resultAlgorithm, resultNoKeys} {
		m.tokens[r] = set.GetOrCreateCounter(metricTokens + `{result="` + r + `"}`)
	}
	m.refreshOK = set.GetOrCreateCounter(metricRefreshes + `{result="ok"}`)
	m.refreshError = set.GetOrCreateCounter(metricRefreshes + `{result="error"}`)
	set.NewGauge(metricKeys, keys)
	set.NewGauge(metricAge, age)
	return m, nil
}

// token counts one Verify outcome.
func (m *verifierMetrics) token(err error) { m.tokens[result(err)].Inc() }

// refresh counts one load attempt.
func (m *verifierMetrics) refresh(err error) {
	if err != nil {
		m.refreshError.Inc()
		return
	}
	m.refreshOK.Inc()
}

// close unregisters the gauges, which read the closed Verifier; the
// counters stay.
func (m *verifierMetrics) close() {
	gaugeMu.Lock()
	defer gaugeMu.Unlock()
	m.set.UnregisterMetric(metricKeys)
	m.set.UnregisterMetric(metricAge)
}
