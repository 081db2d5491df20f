package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveWebSockets serves h on ln until ctx is done (or the server fails),
// then shuts down a server whose connections are hijacked WebSockets,
// which http.Server.Shutdown does not track: closeConns ends them first
// (a close frame, new upgrades refused), then the HTTP server gets
// shutdownTimeout to stop. It returns the server's failure or the
// shutdown's, nil on a clean stop.
func serveWebSockets(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger,
	closeConns func() error, shutdownTimeout time.Duration) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-served: // failed before ctx ended
	case <-ctx.Done():
	}
	_ = closeConns()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		_ = hs.Close()
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	if err == nil {
		err = <-served
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
