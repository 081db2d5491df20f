package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"
)

// cmdRun is a subcommand (serve, emulate) running in the background on a
// free loopback port.
type cmdRun struct {
	url    string // what the ready pattern captured
	cancel context.CancelFunc
	done   chan error    // the command's result
	logged chan struct{} // closed once stderr is drained
	pw     *io.PipeWriter

	mu  sync.Mutex
	log bytes.Buffer
}

// runFunc is the signature of runServe and runEmulate.
type runFunc func(ctx context.Context, args []string, stderr io.Writer) error

// startCmd runs `earshot <name> --addr 127.0.0.1:0 args...` until the test
// ends (or stop), and returns it once a log line matches ready, whose first
// group becomes url. If it fails first, the test fails with its error.
func startCmd(t *testing.T, name string, run runFunc, ready *regexp.Regexp, args ...string) *cmdRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	r := &cmdRun{cancel: cancel, done: make(chan error, 1), logged: make(chan struct{}), pw: pw}
	urls := make(chan string, 1)
	go func() {
		defer close(r.logged)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	go func() { r.done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw) }()
	t.Cleanup(func() { _, _ = r.stop() })
	select {
	case r.url = <-urls:
		return r
	case err := <-r.done:
		r.done <- err
		log, _ := r.stop()
		t.Fatalf("earshot %s ended before listening: %v\n%s", name, err, log)
	case <-time.After(20 * time.Second):
		t.Fatalf("earshot %s not listening after 20s", name)
	}
	return nil
}

// stop cancels the run and returns the command's error and everything it
// logged. Idempotent.
func (r *cmdRun) stop() (string, error) {
	r.cancel()
	err := <-r.done
	r.done <- err
	_ = r.pw.Close()
	<-r.logged
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String(), err
}
