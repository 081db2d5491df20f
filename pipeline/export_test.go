package pipeline

import "earshot/stages"

// EncodeMessage exposes encodeMessage to the black-box tests: the text
// frames a fan-out message becomes, and the close (code 0: none) it asks
// for.
func EncodeMessage(m stages.Message) (frames [][]byte, closeCode int, closeReason string, err error) {
	out, err := encodeMessage(m)
	return out.frames, out.close, out.closeReason, err
}
