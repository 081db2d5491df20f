package stages

import "context"

// Gate decides which audio goes upstream. This first form passes every
// frame through unchanged, so provider time equals capture time; the VAD
// gate replaces it.
type Gate struct{}

// NewGate returns a pass-through gate.
func NewGate() *Gate { return &Gate{} }

// Run forwards every Audio from in to out until in is closed or ctx is
// done, and closes out on return.
func (g *Gate) Run(ctx context.Context, in <-chan Audio, out chan<- Audio) error {
	defer close(out)
	for {
		a, ok, err := Recv(ctx, in)
		if err != nil || !ok {
			return err
		}
		if err := Send(ctx, out, a); err != nil {
			return err
		}
	}
}
