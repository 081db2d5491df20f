package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"earshot/internal/readall"
)

// relay is the baseline: a bare WebSocket relay built from the same
// library as the gateway (github.com/coder/websocket). For each client
// WebSocket it dials one upstream stream, copies binary frames client →
// upstream and text frames upstream → client, and nothing else: no
// authentication, parameters, decoding, gate, replay ring, segments or
// metrics. It is written the lean way STYLE.md measured (a reused read
// buffer, a context without a Done channel on the data path, teardown by
// closing both connections), so the ratio to it is the gateway's whole
// overhead over the cheapest relay this library allows.
//
// The one parameter it reads is the listen URL's channels=N (1 when
// absent): with N of 2 or more it dials N upstream streams, one per
// channel as the gateway does, and demuxes the client's binary frames by
// their first byte (the channel id, 1..N): the payload after it goes to
// that channel's stream; a frame with another id, or the id alone, is
// dropped. Every stream's text frames go to the client (one writer
// goroutine per stream; the library allows concurrent writes).
type relay struct {
	upstreamURL string
	key         string // sent upstream as "Authorization: Token <key>"
}

func (rl *relay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	channels := 1
	if v := r.URL.Query().Get("channels"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxChannels {
			http.Error(w, "bad channels", http.StatusBadRequest)
			return
		}
		channels = n
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	ups := make([]*websocket.Conn, 0, channels)
	defer func() {
		for _, up := range ups {
			_ = up.CloseNow()
		}
	}()
	for range channels {
		up, err := rl.dial()
		if err != nil {
			_ = c.Close(websocket.StatusInternalError, "upstream unavailable")
			return
		}
		ups = append(ups, up)
	}
	var wg sync.WaitGroup
	for _, up := range ups {
		wg.Go(func() {
			pump(up, c, websocket.MessageText)
			_ = c.CloseNow()
		})
	}
	if channels == 1 {
		pump(c, ups[0], websocket.MessageBinary)
	} else {
		demux(c, ups)
	}
	for _, up := range ups {
		_ = up.CloseNow()
	}
	wg.Wait()
}

// dial opens one upstream stream.
func (rl *relay) dial() (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hdr := http.Header{}
	if rl.key != "" {
		hdr.Set("Authorization", "Token "+rl.key)
	}
	up, _, err := websocket.Dial(dctx, rl.upstreamURL, &websocket.DialOptions{
		HTTPHeader: hdr, CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	up.SetReadLimit(1 << 20)
	return up, nil
}

// pump copies messages of type typ from src to dst until either fails.
func pump(src, dst *websocket.Conn, typ websocket.MessageType) {
	forward(src, func(t websocket.MessageType, b []byte) (*websocket.Conn, []byte) {
		if t != typ {
			return nil, nil
		}
		return dst, b
	})
}

// demux copies src's binary messages [id][payload] to dsts[id-1] as the
// payload alone, until src or a dst fails; other messages are dropped.
func demux(src *websocket.Conn, dsts []*websocket.Conn) {
	forward(src, func(t websocket.MessageType, b []byte) (*websocket.Conn, []byte) {
		if t != websocket.MessageBinary || len(b) < 2 || b[0] == 0 || int(b[0]) > len(dsts) {
			return nil, nil
		}
		return dsts[b[0]-1], b[1:]
	})
}

// forward reads src's messages into one reused buffer and writes what route
// returns for each (nil: drop it) as a message of the same type, until
// src or a destination fails.
func forward(src *websocket.Conn, route func(websocket.MessageType, []byte) (*websocket.Conn, []byte)) {
	ctx := context.Background()
	buf := make([]byte, 0, frameBytes+64)
	for {
		t, r, err := src.Reader(ctx)
		if err != nil {
			return
		}
		if buf, err = readall.Append(buf[:0], r); err != nil {
			return
		}
		dst, b := route(t, buf)
		if dst == nil {
			continue
		}
		if err := dst.Write(ctx, t, b); err != nil {
			return
		}
	}
}
