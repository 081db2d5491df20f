//go:build !pocketsphinx

package local_test

import (
	"context"
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages"
	"earshot/stages/local"
)

func TestUnavailableWithoutTag(t *testing.T) {
	td.CmpFalse(t, local.Available)
	p, err := local.New(local.Config{}, nil)
	td.CmpNil(t, p)
	td.Cmp(t, err, td.Smuggle(func(e error) bool { return errors.Is(e, local.ErrUnavailable) }, true))
	td.Cmp(t, err, td.Smuggle(func(e error) string { return e.Error() }, td.Contains("build with -tags pocketsphinx")))

	var zero *local.Provider
	td.Cmp(t, zero.Name(), "local")
	_, err = zero.Dial(context.Background(), stages.StreamConfig{SampleRateHz: 16000})
	td.Cmp(t, stages.Classify(err), stages.ClassPermanent)
	td.CmpNoError(t, zero.Close())
}
