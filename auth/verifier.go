package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks bearer tokens of one issuer against its cached JWKS.
// Build it with New and Close it when done. All methods are safe for
// concurrent use.
//
// A Verifier owns one background goroutine, which refreshes the keys
// every RefreshIntervalMs (sooner after a failure, with backoff), and at
// most one fetch goroutine at a time, shared by the refresher and by
// Verify calls that meet an unknown kid. Close stops and waits for them.
type Verifier struct {
	s      settings
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	rand   func() float64
	m      *verifierMetrics
	parser *jwt.Parser

	keys     atomic.Pointer[keySet]
	loadedAt atomic.Int64 // Now().UnixNano() of the last successful load; 0 before
	created  time.Time

	// life bounds the goroutines and fetches; Close cancels it.
	life   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu          sync.Mutex // guards the fields below
	closed      bool
	inflight    *flight       // the load under way, if any
	lastUnknown time.Time     // start of the last unknown-kid refresh
	maxAge      time.Duration // Cache-Control max-age of the last load; -1 none
}

// New validates cfg, registers the metrics, loads the keys once and
// starts the background refresher.
//
// Errors: an invalid cfg; a JWKSFile that cannot be read, parsed, or holds
// no usable key; gauges already registered in deps.Metrics by a Verifier
// not yet closed. A JWKSURL that cannot be fetched is NOT an error: New
// logs a warning and returns a Verifier without keys (Verify answers
// ErrNoKeys) whose refresher keeps trying with backoff. The initial fetch
// takes at most FetchTimeoutMs.
func New(cfg Config, deps Deps) (*Verifier, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	v := &Verifier{s: s, client: deps.HTTPClient, log: deps.Logger, now: deps.Now, maxAge: -1}
	if v.client == nil {
		v.client = &http.Client{Timeout: s.fetchTimeout}
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.rand = deps.Rand; v.rand == nil {
		v.rand = rand.Float64
	}
	v.log = v.log.With("component", "auth", "issuer", s.issuer)
	v.created = v.now()
	set := deps.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	v.m, err = newMetrics(set, func() float64 { return float64(v.Keys()) }, v.ageSeconds)
	if err != nil {
		return nil, err
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{algRS256, algES256}),
		jwt.WithIssuer(s.issuer),
		jwt.WithAudience(s.audience),
		jwt.WithLeeway(s.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(v.now),
	)
	v.life, v.cancel = context.WithCancel(context.Background())
	loadErr := v.load()
	if loadErr != nil && s.file != "" {
		v.cancel()
		v.m.close()
		return nil, loadErr
	}
	v.wg.Add(1)
	go v.refresher(loadErr != nil)
	return v, nil
}

// Close stops the background refresher and any fetch under way, waits
// for their goroutines, and unregisters the gauges. Verify keeps working
// on the cached keys afterwards but never fetches. Close is idempotent
// and always returns nil.
func (v *Verifier) Close() error {
	v.once.Do(func() {
		v.mu.Lock()
		v.closed = true
		v.mu.Unlock()
		v.cancel()
		v.wg.Wait()
		v.m.close()
	})
	return nil
}

// Keys is the number of usable keys cached now.
func (v *Verifier) Keys() int { return v.keys.Load().len() }

// Verify checks raw, a compact JWS without the "Bearer " prefix, and
// returns the identity it names. It is safe for concurrent use.
//
// It accepts only RS256 and ES256 tokens signed by a cached key, with
// the configured `iss`, the configured audience among `aud`, an `exp`
// (and `nbf`, `iat` if present) valid at Now within the leeway, and a
// `sub` of 1 to MaxSubjectBytes bytes. A token with a `kid` is checked
// against the keys of that kid; one without against every cached key of
// its algorithm's type.
//
// Verify touches the network only when no cached key fits the token
// (unknown kid, or no keys at all) and the last unknown-kid refresh
// started at least MinRefreshMs ago; then it waits up to FetchTimeoutMs
// (or until ctx is done) for a refresh that concurrent callers share. An
// unreachable JWKS endpoint thus never stalls it for long, and cached
// keys keep working.
//
// Errors wrap ErrExpired, or ErrInvalid (possibly through ErrUnknownKey,
// ErrAlgorithm or ErrNoKeys); see them. Their texts never contain the
// token or the subject.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	id, err := v.verify(ctx, raw)
	v.m.token(err)
	if err != nil {
		v.log.Debug("token refused", "result", result(err), "error", err)
	}
	return id, err
}

func (v *Verifier) verify(ctx context.Context, raw string) (Identity, error) {
	if len(raw) > MaxTokenBytes {
		return Identity{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxTokenBytes)
	}
	var claims jwt.RegisteredClaims
	tok, err := v.parser.ParseWithClaims(raw, &claims, v.keyfunc(ctx))
	if err != nil {
		var header map[string]any
		if tok != nil {
			header = tok.Header
		}
		// Only an otherwise valid token is ErrExpired; the subject
		// checks below still apply to it.
		if err = mapParseError(err, header); !errors.Is(err, ErrExpired) {
			return Identity{}, err
		}
	}
	switch {
	case claims.Subject == "":
		return Identity{}, fmt.Errorf("%w: empty subject", ErrInvalid)
	case len(claims.Subject) > MaxSubjectBytes:
		return Identity{}, fmt.Errorf("%w: subject longer than %d bytes", ErrInvalid, MaxSubjectBytes)
	case err != nil:
		return Identity{}, err
	}
	return Identity{Subject: claims.Subject, Issuer: claims.Issuer, ExpiresAt: claims.ExpiresAt.UTC()}, nil
}

// keyfunc picks the key(s) for a token whose alg jwt already checked to
// be RS256 or ES256, and waits for a bounded refresh when none fits.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		var kid string
		if raw, ok := t.Header["kid"]; ok {
			s, isString := raw.(string)
			if !isString {
				return nil, fmt.Errorf("%w: kid is not a string", ErrInvalid)
			}
			kid = s
		}
		hasKid := kid != ""
		k, err := v.keys.Load().lookup(alg, kid, hasKid)
		if (errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrNoKeys)) && v.awaitRefresh(ctx) {
			k, err = v.keys.Load().lookup(alg, kid, hasKid)
		}
		return k, err
	}
}

// ageSeconds is the age of the cached keys: since the last successful
// load, or since New before the first.
func (v *Verifier) ageSeconds() float64 {
	since := v.created
	if ns := v.loadedAt.Load(); ns != 0 {
		since = time.Unix(0, ns)
	}
	return v.now().Sub(since).Seconds()
}
