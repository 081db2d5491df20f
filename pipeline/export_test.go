package pipeline

import (
	"net"
	"net/http"

	"earshot/stages"
)

// EncodeMessage exposes encodeMessage to the black-box tests: the text
// frames a fan-out message becomes, and the close (code 0: none) it asks
// for.
func EncodeMessage(m stages.Message) (frames [][]byte, closeCode int, closeReason string, err error) {
	out, err := encodeMessage(m)
	return out.frames, out.close, out.closeReason, err
}

// ConnsIn reports, for a listener from NewHTTPServer, how many of its
// connections are open and how many of those are idle keep-alives.
func ConnsIn(ln net.Listener) (open, idle int) {
	l := ln.(*limitListener)
	l.mu.Lock()
	defer l.mu.Unlock()
	for e := l.conns.Front(); e != nil; e = e.Next() {
		if e.Value.(*tracked).state == http.StateIdle {
			idle++
		}
	}
	return l.conns.Len(), idle
}

// ParseSpeakerAssigned exposes parseSpeakerAssigned to the fuzz test.
var ParseSpeakerAssigned = parseSpeakerAssigned
