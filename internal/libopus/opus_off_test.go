//go:build !libcodecs || !cgo

package libopus_test

import (
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/libopus"
)

func TestUnavailableWithoutTag(t *testing.T) {
	td.CmpFalse(t, libopus.Available)
	enc, err := libopus.NewEncoder(16000, libopus.AppVoIP)
	td.CmpNil(t, enc)
	td.CmpTrue(t, errors.Is(err, libopus.ErrUnavailable))
	td.Cmp(t, err.Error(), "libopus: not in this build (needs -tags libcodecs and cgo)")
	dec, err := libopus.NewDecoder(16000)
	td.CmpNil(t, dec)
	td.CmpTrue(t, errors.Is(err, libopus.ErrUnavailable))

	var e *libopus.Encoder
	_, err = e.Encode(nil, nil)
	td.CmpTrue(t, errors.Is(err, libopus.ErrUnavailable))
	td.CmpTrue(t, errors.Is(e.SetBitrate(1), libopus.ErrUnavailable))
	e.Close()
	var d *libopus.Decoder
	_, err = d.Decode(nil, nil)
	td.CmpTrue(t, errors.Is(err, libopus.ErrUnavailable))
	d.Close()
}
