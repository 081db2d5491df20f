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
//
// The word of a periodic Results goes on, without a space, with "a" and
// the arrival time (the upstream's wall clock, 19 digits) of the last audio
// frame the Results covers, or "p" and that time when the frame was the
// gate's pre-roll (see upStream.audio): "t1764201234567890123a1764201234512345678".
// The client maps the segment's end to the frame whose end it is and
// subtracts that frame's send time (see arrival.go): the client → upstream
// latency of codecs, whose frames cannot carry a stamp. One word, not two,
// so that the gateway handles as many words as before the suffix.
const stampWordDigits = 19

// stampWord is one stamp word as the client finds it.
type stampWord struct {
	SentNs int64 // t: the Results' send time
	// ArrivalNs (a or p; 0 when absent) is the arrival at the upstream of
	// the last audio frame the Results covers; Preroll (p) says that frame
	// was the gate's pre-roll.
	ArrivalNs int64
	Preroll   bool
}

// appendStampWord appends the word for ns (a time after 2001, so 19
// digits).
func appendStampWord(b []byte, ns int64) []byte {
	b = append(b, 't')
	return strconv.AppendInt(b, ns, 10)
}

// appendStampWordArrival appends w: its t word, and its a or p suffix when
// w.ArrivalNs is set.
func appendStampWordArrival(b []byte, w stampWord) []byte {
	b = appendStampWord(b, w.SentNs)
	if w.ArrivalNs <= 0 {
		return b
	}
	if w.Preroll {
		b = append(b, 'p')
	} else {
		b = append(b, 'a')
	}
	return strconv.AppendInt(b, w.ArrivalNs, 10)
}

// scanStampWords calls fn with every stamp word's send time in text, in
// order: a 't' not preceded by a letter or digit, then exactly 19 digits
// not followed by another digit (an a or p suffix may follow).
func scanStampWords(text []byte, fn func(ns int64)) {
	scanStampWordsFull(text, func(w stampWord) { fn(w.SentNs) })
}

// scanStampWordsFull calls fn with every stamp word in text, in order, with
// its suffix when it has one: 'a' or 'p' right after the t word's digits,
// then exactly 19 digits not followed by another digit.
func scanStampWordsFull(text []byte, fn func(w stampWord)) {
	for i := 0; i+1+stampWordDigits <= len(text); i++ {
		if text[i] != 't' || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		ns, j, ok := digits19(text, i+1)
		if !ok {
			continue
		}
		w := stampWord{SentNs: ns}
		if j < len(text) && (text[j] == 'a' || text[j] == 'p') {
			if a, k, ok := digits19(text, j+1); ok {
				w.ArrivalNs, w.Preroll, j = a, text[j] == 'p', k
			}
		}
		fn(w)
		i = j - 1
	}
}

// lastStampWord is the last stamp word in text.
func lastStampWord(text []byte) (w stampWord, ok bool) {
	scanStampWordsFull(text, func(v stampWord) { w, ok = v, true })
	return w, ok
}

// digits19 reads exactly stampWordDigits digits of text from i, not
// followed by another digit, and returns their value and the index after
// them.
func digits19(text []byte, i int) (v int64, next int, ok bool) {
	j := i
	for j < len(text) && j-i < stampWordDigits && isDigit(text[j]) {
		v = v*10 + int64(text[j]-'0')
		j++
	}
	if j-i != stampWordDigits || (j < len(text) && isDigit(text[j])) {
		return 0, 0, false
	}
	return v, j, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
