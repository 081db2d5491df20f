package main

import (
	"context"
	"net/http"
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
type relay struct {
	upstreamURL string
	key         string // sent upstream as "Authorization: Token <key>"
}

func (rl *relay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	hdr := http.Header{}
	if rl.key != "" {
		hdr.Set("Authorization", "Token "+rl.key)
	}
	up, _, err := websocket.Dial(dctx, rl.upstreamURL, &websocket.DialOptions{
		HTTPHeader: hdr, CompressionMode: websocket.CompressionDisabled,
	})
	cancel()
	if err != nil {
		_ = c.Close(websocket.StatusInternalError, "upstream unavailable")
		return
	}
	defer up.CloseNow()
	up.SetReadLimit(1 << 20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pump(up, c, websocket.MessageText)
		_ = c.CloseNow()
	}()
	pump(c, up, websocket.MessageBinary)
	_ = up.CloseNow()
	<-done
}

// pump copies messages of type typ from src to dst until either fails.
func pump(src, dst *websocket.Conn, typ websocket.MessageType) {
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
		if t != typ {
			continue
		}
		if err := dst.Write(ctx, t, buf); err != nil {
			return
		}
	}
}
