//go:build !libcodecs || !cgo

package liblc3_test

import (
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/liblc3"
)

func TestUnavailableWithoutTag(t *testing.T) {
	td.CmpFalse(t, liblc3.Available)
	enc, err := liblc3.NewEncoder(16000, 10000)
	td.CmpNil(t, enc)
	td.CmpTrue(t, errors.Is(err, liblc3.ErrUnavailable))
	td.Cmp(t, err.Error(), "liblc3: not in this build (needs -tags libcodecs and cgo)")
	dec, err := liblc3.NewDecoder(16000, 10000)
	td.CmpNil(t, dec)
	td.CmpTrue(t, errors.Is(err, liblc3.ErrUnavailable))

	var e *liblc3.Encoder
	td.Cmp(t, e.FrameSamples(), 0)
	td.CmpTrue(t, errors.Is(e.Encode(nil, nil), liblc3.ErrUnavailable))
	e.Close()
	var d *liblc3.Decoder
	_, err = d.Decode(nil, nil)
	td.CmpTrue(t, errors.Is(err, liblc3.ErrUnavailable))
	d.Close()
}
