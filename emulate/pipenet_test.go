package emulate_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

// pipeNet is an in-memory network: Dial hands the server end of a net.Pipe
// to Accept. Blocking on it is durable, so a testing/synctest bubble can
// run the emulator over it with exact fake time (loopback TCP cannot: a
// goroutine blocked on a socket is not durably blocked).
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeNet() *pipeNet {
	return &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (p *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (p *pipeNet) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Addr implements net.Listener.
func (p *pipeNet) Addr() net.Addr { return pipeAddr{} }

// DialContext is an http.Transport dialer onto the pipe network.
func (p *pipeNet) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	cli, srv := net.Pipe()
	select {
	case p.conns <- srv:
		return cli, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// newPipeHarness serves an emulator over a pipeNet. Call it inside a
// synctest bubble; cleanup closes the emulator, the HTTP server and the
// client's idle connections so that the bubble's goroutines all exit.
func newPipeHarness(t *testing.T, cfg emulate.Config) *harness {
	t.Helper()
	h := &harness{ends: make(chan emulate.StreamSummary, 16), base: "http://emulate.test"}
	cfg.OnStreamEnd = func(s emulate.StreamSummary) { h.ends <- s }
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := emulate.NewServer(cfg, logger)
	td.Require(t).CmpNoError(err)
	h.srv = srv

	pn := newPipeNet()
	hs := &http.Server{Handler: srv.Handler()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(pn)
	}()
	tr := &http.Transport{DialContext: pn.DialContext}
	h.client = &http.Client{Transport: tr}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = hs.Close()
		tr.CloseIdleConnections()
		<-served
	})
	return h
}
