package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// wavHeaderBytes is the size of the canonical RIFF/WAVE header this
// package writes: RIFF, a 16-byte PCM fmt chunk, the data chunk's header.
const wavHeaderBytes = 44

// maxDataBytes bounds a WAV's data: the RIFF size field (uint32) counts
// the header's 36 bytes after it too. Even, since samples are 2 bytes.
const maxDataBytes = (math.MaxUint32 - (wavHeaderBytes - 8)) &^ 1

// wavHeader is the header of a mono PCM16 WAV file at rate Hz holding
// dataBytes bytes of samples (at most maxDataBytes).
func wavHeader(rate int, dataBytes int64) []byte {
	h := make([]byte, 0, wavHeaderBytes)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(dataBytes+wavHeaderBytes-8))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)             // fmt chunk size
	h = binary.LittleEndian.AppendUint16(h, 1)              // PCM
	h = binary.LittleEndian.AppendUint16(h, 1)              // mono
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))   // sample rate
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*2)) // byte rate
	h = binary.LittleEndian.AppendUint16(h, 2)              // block align
	h = binary.LittleEndian.AppendUint16(h, 16)             // bits per sample
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, uint32(dataBytes))
}

// parseWAV checks that b is a WAV file exactly as wavHeader starts it,
// with its sizes matching len(b), and returns its rate and data (aliasing
// b). Anything else wraps ErrCorrupt.
func parseWAV(b []byte) (rate int, data []byte, err error) {
	if len(b) < wavHeaderBytes {
		return 0, nil, fmt.Errorf("%w: wav of %d bytes", ErrCorrupt, len(b))
	}
	rate = int(binary.LittleEndian.Uint32(b[24:28]))
	data = b[wavHeaderBytes:]
	if !bytes.Equal(b[:wavHeaderBytes], wavHeader(rate, int64(len(data)))) {
		return 0, nil, fmt.Errorf("%w: wav header is not mono PCM16 or its sizes disagree with the file's %d bytes", ErrCorrupt, len(b))
	}
	return rate, data, nil
}

// writeWAV writes dir's audio.wav from the first c.written samples of
// its audio.pcm, and syncs it.
func (c *conv) writeWAV(dir string) (err error) {
	src, err := os.Open(filepath.Join(dir, filePCM))
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(filepath.Join(dir, fileWAV), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := dst.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", fileWAV, cerr)
		}
	}()
	want := c.written * 2
	if _, err := dst.Write(wavHeader(c.meta.SampleRate, want)); err != nil {
		return fmt.Errorf("write %s: %w", fileWAV, err)
	}
	n, err := dst.ReadFrom(&io.LimitedReader{R: src, N: want})
	if err != nil {
		return fmt.Errorf("write %s: %w", fileWAV, err)
	}
	if n != want {
		return fmt.Errorf("%w: %s of %s holds %d bytes, %d expected", ErrCorrupt, filePCM, c.id, n, want)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", fileWAV, err)
	}
	return nil
}
