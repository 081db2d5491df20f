//go:build !libcodecs || !cgo

package libav_test

import (
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/libav"
)

func TestUnavailableWithoutTag(t *testing.T) {
	td.CmpFalse(t, libav.Available)
	d, err := libav.NewAACDecoder(16000)
	td.CmpNil(t, d)
	td.CmpTrue(t, errors.Is(err, libav.ErrUnavailable))
	td.Cmp(t, err.Error(), "libav: not in this build (needs -tags libcodecs and cgo)")

	var zero *libav.AACDecoder
	pcm, err := zero.Decode([]byte{1}, []int16{7})
	td.CmpTrue(t, errors.Is(err, libav.ErrUnavailable))
	td.Cmp(t, pcm, []int16{7})
	zero.Close()
}
