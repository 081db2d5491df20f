//go:build !pocketsphinx

package local

import (
	"context"
	"fmt"
	"log/slog"

	"earshot/stages"
)

// Available reports whether the recognizer was compiled in (build tag
// pocketsphinx). In this build it was not.
const Available = false

// Provider is the local recognizer. In this build (without the
// pocketsphinx tag) New never returns one; the methods exist so that code
// using the package compiles either way.
type Provider struct{}

var _ stages.Provider = (*Provider)(nil)

// New always fails in this build with an error wrapping ErrUnavailable.
func New(Config, *slog.Logger) (*Provider, error) {
	return nil, fmt.Errorf("local: %w", ErrUnavailable)
}

// Name returns "local".
func (*Provider) Name() string { return "local" }

// Dial always fails with a permanent error wrapping ErrUnavailable.
func (*Provider) Dial(context.Context, stages.StreamConfig) (stages.Stream, error) {
	return nil, fmt.Errorf("local: %w: %w", ErrUnavailable, stages.ErrPermanent)
}

// Decoders reports an empty pool.
func (*Provider) Decoders() (busy, total int) { return 0, 0 }

// Close does nothing.
func (*Provider) Close() error { return nil }
