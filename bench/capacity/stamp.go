package main

import (
	"encoding/binary"
	"strconv"
)

// Audio frames: 100 ms of 16 kHz mono 16-bit PCM, as the Omi app sends.
const (
	sampleRate   = 16000
	frameMs      = 100
	frameSamples = sampleRate * frameMs / 1000
	frameBytes   = 2 * frameSamples
)

// A stamp rides in every audio frame the load generator sends: the low
// byte of the frame's first stampBytes samples carries a magic, the
// session, the frame's sequence number and its send time (wall clock, Unix
// nanoseconds; every process is on one machine). The high bytes keep the
// audio, so a stamp changes those samples by at most 255/32768 (-42 dBFS)
// and the VAD gate hears the same conversation.
const stampBytes = 20

var stampMagic = [4]byte{'E', 'S', 'H', '1'}

// stamp identifies one frame.
type stamp struct {
	Session uint32
	Seq     uint32
	SentNs  int64
}

// putStamp writes st into pcm's first stampBytes samples (pcm holds at
// least that many).
func putStamp(pcm []byte, st stamp) {
	var b [stampBytes]byte
	copy(b[:4], stampMagic[:])
	binary.LittleEndian.PutUint32(b[4:], st.Session)
	binary.LittleEndian.PutUint32(b[8:], st.Seq)
	binary.LittleEndian.PutUint64(b[12:], uint64(st.SentNs))
	for i, v := range b {
		pcm[2*i] = v
	}
}

// readStamp reads the stamp at the start of pcm; ok is false when pcm is
// too short or does not start with one.
func readStamp(pcm []byte) (st stamp, ok bool) {
	if len(pcm) < 2*stampBytes {
		return stamp{}, false
	}
	var b [stampBytes]byte
	for i := range b {
		b[i] = pcm[2*i]
	}
	if [4]byte(b[:4]) != stampMagic {
		return stamp{}, false
	}
	return stamp{
		Session: binary.LittleEndian.Uint32(b[4:]),
		Seq:     binary.LittleEndian.Uint32(b[8:]),
		SentNs:  int64(binary.LittleEndian.Uint64(b[12:])),
	}, true
}

// Results carry their send time back to the client as a word: "t" and the
// upstream's wall clock in Unix nanoseconds (19 digits), e.g.
// "t1764201234567890123". The gateway puts the word into a segment's text,
// the bare relay passes the Results message itself; either way the client
// finds it in the text frame.
const stampWordDigits = 19

// appendStampWord appends the word for ns (a time after 2001, so 19
// digits).
func appendStampWord(b []byte, ns int64) []byte {
	b = append(b, 't')
	return strconv.AppendInt(b, ns, 10)
}

// scanStampWords calls fn with every stamp word in text, in order: a 't'
// not preceded by a letter or digit, then exactly 19 digits not followed
// by another digit.
func scanStampWords(text []byte, fn func(ns int64)) {
	for i := 0; i+1+stampWordDigits <= len(text); i++ {
		if text[i] != 't' || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		j := i + 1
		var ns int64
		for j < len(text) && j-i-1 < stampWordDigits && isDigit(text[j]) {
			ns = ns*10 + int64(text[j]-'0')
			j++
		}
		if j-i-1 != stampWordDigits || (j < len(text) && isDigit(text[j])) {
			continue
		}
		fn(ns)
		i = j - 1
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
