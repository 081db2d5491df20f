package pipeline

import (
	"container/list"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"earshot/stages"
)

// HTTPConfig limits the HTTP server in front of a Server, so that a flood
// of idle or half-open connections never stops new sessions, /healthz or
// /metrics. Zero fields take the documented defaults.
type HTTPConfig struct {
	// MaxConns caps the connections open at once, upgraded sessions
	// included. At the cap a new connection first takes the place of
	// the longest-idle keep-alive connection, else of the oldest one
	// that has sent nothing yet; only when every connection is busy (a
	// request being read or served, or a session) is it refused with 503.
	// (A connection that sends its headers slowly is cut off by
	// ReadHeaderTimeoutMs.) Default DefaultMaxConns(): half the process's
	// descriptor limit less 64 (a session also holds its upstream
	// socket), at most 20000.
	MaxConns int
	// IdleTimeoutMs closes a keep-alive connection idle this long between
	// requests. Default 30000.
	IdleTimeoutMs int
	// ReadHeaderTimeoutMs bounds the reading of a request's headers.
	// Default 10000.
	ReadHeaderTimeoutMs int
	// ReadTimeoutMs bounds the reading of a whole request, body included
	// (a client trickling a body it was never asked for). Default 10000,
	// at least ReadHeaderTimeoutMs. It ends at the upgrade (net/http
	// clears a hijacked connection's deadlines; pinned by
	// TestHTTPReadTimeoutEndsAtTheUpgrade): an upgraded WebSocket keeps
	// its own liveness rules (pings, inactivity).
	ReadTimeoutMs int
}

// Defaults of HTTPConfig.
const (
	DefaultIdleTimeoutMs       = 30_000
	DefaultReadHeaderTimeoutMs = 10_000
	DefaultReadTimeoutMs       = 10_000
	maxDefaultConns            = 20_000
)

// DefaultMaxConns is HTTPConfig.MaxConns's default for this process: half
// of its open-file limit (RLIMIT_NOFILE) less 64, between 64 and 20000.
func DefaultMaxConns() int {
	n := (openFileLimit() - 64) / 2
	return max(64, min(n, maxDefaultConns))
}

func (c HTTPConfig) withDefaults() HTTPConfig {
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns()
	}
	stages.Default(&c.IdleTimeoutMs, DefaultIdleTimeoutMs)
	stages.Default(&c.ReadHeaderTimeoutMs, DefaultReadHeaderTimeoutMs)
	stages.Default(&c.ReadTimeoutMs, DefaultReadTimeoutMs)
	c.ReadTimeoutMs = max(c.ReadTimeoutMs, c.ReadHeaderTimeoutMs)
	return c
}

// NewHTTPServer returns the http.Server that serves h on ln within cfg's
// limits, and the listener to pass to its Serve. set, if not nil, gets the
// gauge earshot_http_connections and the counters
// earshot_http_connections_evicted_total{state="idle"|"new"} and
// earshot_http_connections_refused_total (one set per server).
func NewHTTPServer(h http.Handler, ln net.Listener, cfg HTTPConfig, set *metrics.Set) (*http.Server, net.Listener) {
	cfg = cfg.withDefaults()
	l := &limitListener{Listener: ln, max: cfg.MaxConns, byConn: map[net.Conn]*list.Element{}}
	if set != nil {
		set.NewGauge(`earshot_http_connections`, func() float64 { return float64(l.open()) })
		l.evictedIdle = set.NewCounter(`earshot_http_connections_evicted_total{state="idle"}`)
		l.evictedNew = set.NewCounter(`earshot_http_connections_evicted_total{state="new"}`)
		l.refused = set.NewCounter(`earshot_http_connections_refused_total`)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeoutMs) * time.Millisecond,
		ReadTimeout:       time.Duration(cfg.ReadTimeoutMs) * time.Millisecond,
		IdleTimeout:       time.Duration(cfg.IdleTimeoutMs) * time.Millisecond,
		ConnState:         l.state,
	}
	return hs, l
}

// limitListener counts the connections it accepted until they close, and
// keeps the cap: see HTTPConfig.MaxConns. Safe for concurrent use.
type limitListener struct {
	net.Listener
	max int

	mu     sync.Mutex
	conns  list.List // *tracked, oldest first
	byConn map[net.Conn]*list.Element

	evictedIdle, evictedNew, refused *metrics.Counter
}

// tracked is one accepted connection and its HTTP state.
type tracked struct {
	net.Conn
	l     *limitListener
	state http.ConnState
	once  sync.Once
}

// refusal is what a connection over the cap gets before it is closed.
var refusal = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n" +
	"Content-Length: 25\r\nConnection: close\r\n\r\ntoo many connections now\n")

// Accept returns the next connection, making room for it at the cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if t := l.admit(c); t != nil {
			return t, nil
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(refusal)
		_ = c.Close()
		inc(l.refused)
	}
}

// admit tracks c, evicting an idle or a half-open connection at the cap;
// nil means every connection is busy and c is refused.
func (l *limitListener) admit(c net.Conn) *tracked {
	l.mu.Lock()
	var victim *tracked
	idle := false
	if l.conns.Len() >= l.max {
		victim = l.victimLocked()
		if victim == nil {
			l.mu.Unlock()
			return nil
		}
		idle = victim.state == http.StateIdle
		l.removeLocked(victim)
	}
	t := &tracked{Conn: c, l: l, state: http.StateNew}
	l.byConn[t] = l.conns.PushBack(t)
	l.mu.Unlock()
	if victim != nil {
		if idle {
			inc(l.evictedIdle)
		} else {
			inc(l.evictedNew)
		}
		_ = victim.Conn.Close()
	}
	return t
}

// victimLocked is the longest-idle keep-alive connection, else the oldest
// one that has sent nothing yet, else nil. l.mu held.
func (l *limitListener) victimLocked() *tracked {
	var fresh *tracked
	for e := l.conns.Front(); e != nil; e = e.Next() {
		t := e.Value.(*tracked)
		switch {
		case t.state == http.StateIdle:
			return t
		case t.state == http.StateNew && fresh == nil:
			fresh = t
		}
	}
	return fresh
}

// state follows a connection's HTTP state (http.Server.ConnState). An
// idle connection moves to the back, so the front is the longest idle.
func (l *limitListener) state(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byConn[c]
	if !ok {
		return
	}
	e.Value.(*tracked).state = s
	if s == http.StateIdle {
		l.conns.MoveToBack(e)
	}
}

// open is the number of connections tracked.
func (l *limitListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns.Len()
}

func (l *limitListener) removeLocked(t *tracked) {
	if e, ok := l.byConn[t]; ok {
		l.conns.Remove(e)
		delete(l.byConn, t)
	}
}

// Close closes the connection and stops counting it; an upgraded
// WebSocket's Close comes here too (Hijack hands back this conn).
func (t *tracked) Close() error {
	t.once.Do(func() {
		t.l.mu.Lock()
		t.l.removeLocked(t)
		t.l.mu.Unlock()
	})
	err := t.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func inc(c *metrics.Counter) {
	if c != nil {
		c.Inc()
	}
}
