// Package memnet is an in-memory network for tests: a net.Listener whose
// connections are net.Pipe ends, and an http.Client that dials it. An
// http.Server serving the Listener then works inside a testing/synctest
// bubble, where real sockets cannot, so time-driven behaviour (pings,
// timeouts) is tested on fake time.
package memnet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// ErrClosed is returned by Accept and Dial after Close.
var ErrClosed = errors.New("memnet: listener closed")

// Listener is an in-memory net.Listener. It is safe for concurrent use.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

var _ net.Listener = (*Listener)(nil)

// Listen returns a new Listener.
func Listen() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next Dial.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	}
}

// Close stops Accept and Dial. It is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns a placeholder address.
func (l *Listener) Addr() net.Addr { return addr{} }

// Dial connects to the Listener, waiting for Accept or ctx.
func (l *Listener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-ctx.Done():
		_ = client.Close()
		_ = server.Close()
		return nil, ctx.Err()
	case <-l.done:
		_ = client.Close()
		_ = server.Close()
		return nil, ErrClosed
	}
}

// Client returns an http.Client whose connections all go to the Listener,
// whatever the URL's host.
func (l *Listener) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: l.Dial, DisableKeepAlives: true}}
}

type addr struct{}

func (addr) Network() string { return "memnet" }
func (addr) String() string  { return "memnet" }
