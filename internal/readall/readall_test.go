package readall_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/readall"
)

func TestAppendFillsThenGrows(t *testing.T) {
	msg := bytes.Repeat([]byte("abcdefgh"), 100) // 800 bytes
	buf := make([]byte, 2, 1024)
	copy(buf, "<<")
	got, err := readall.Append(buf, iotest.OneByteReader(bytes.NewReader(msg)))
	td.CmpNoError(t, err)
	td.Cmp(t, got, append([]byte("<<"), msg...))
	td.Cmp(t, &got[0], &buf[0], "fits: the caller's array is used")

	small := make([]byte, 0, 16)
	got, err = readall.Append(small, bytes.NewReader(msg))
	td.CmpNoError(t, err)
	td.Cmp(t, got, msg, "grown past the capacity")
}

func TestAppendReturnsTheError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader([]byte("part")), iotest.ErrReader(boom))
	got, err := readall.Append(nil, r)
	td.Cmp(t, err, boom)
	td.Cmp(t, got, []byte("part"), "what was read before the error")
}

func TestAppendEmpty(t *testing.T) {
	got, err := readall.Append(make([]byte, 0, 4), bytes.NewReader(nil))
	td.CmpNoError(t, err)
	td.Cmp(t, len(got), 0)
}
