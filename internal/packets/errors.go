package packets

import "errors"

// Sentinel errors. Every error the package returns wraps one or more of
// them (test with errors.Is), with the offset or size that failed, but
// an error of the caller's io.Reader or io.Writer, which is returned
// wrapped as it is.
var (
	// ErrTruncated: the input ends inside a record, header or frame.
	ErrTruncated = errors.New("packets: truncated input")
	// ErrTooLong: a packet given to Write is longer than 65535 bytes,
	// which a 2-byte record length cannot say.
	ErrTooLong = errors.New("packets: packet longer than 65535 bytes")
	// ErrBadADTS: the input is not a sequence of whole ADTS frames (bad
	// syncword or layer, or a frame length shorter than its header, or,
	// with ErrTruncated, longer than what is left).
	ErrBadADTS = errors.New("packets: bad ADTS stream")
	// ErrBadLC3: the input is not an LC3 file as liblc3's elc3 writes it
	// (bad magic or header size, no channels, or a bad frame size; with
	// ErrTruncated when it ends early).
	ErrBadLC3 = errors.New("packets: bad LC3 file")
	// ErrBadOgg: the input is not a single-stream Ogg Opus file (bad page,
	// checksum, OpusHead or OpusTags, or a broken packet continuation;
	// with ErrTruncated when it ends inside a page or packet).
	ErrBadOgg = errors.New("packets: bad Ogg Opus stream")
)
