package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"regexp"
	"testing"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

// recordListening finds the listen URL in record's start-up log line.
var recordListening = regexp.MustCompile(`msg="record: listening".* url=(\S+)`)

func TestRecordHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	td.Cmp(t, run(context.Background(), []string{"record", "-h"}, &stdout, &stderr), 0)
	td.Cmp(t, stderr.String(), td.All(td.HasPrefix("Usage of record:\n"), td.Contains("-dir"), td.Contains("RECORD_MAX_GAP_SEC")))
	td.Cmp(t, runRecord(context.Background(), []string{"-h"}, &stderr), td.ErrorIs(flag.ErrHelp))

	stdout.Reset()
	td.Cmp(t, run(context.Background(), []string{"help"}, &stdout, &stderr), 0)
	td.Cmp(t, stdout.String(), td.Contains("\n  record "))
}

func TestRecordNeedsADir(t *testing.T) {
	t.Setenv("RECORD_DIR", "")
	var stderr bytes.Buffer
	td.Cmp(t, runRecord(context.Background(), nil, &stderr), td.String("no --dir (or RECORD_DIR): where to store the conversations"))
	td.Cmp(t, runRecord(context.Background(), []string{"--dir", t.TempDir(), "extra"}, &stderr),
		td.String(`unexpected arguments ["extra"]`))
}

// The subcommand on a free port: a conversation sent to it is answered
// with a 201 and is on disk.
func TestRecordReceivesAConversation(t *testing.T) {
	dir := t.TempDir()
	r := startCmd(t, "record", runRecord, recordListening, "--dir", dir)
	td.Require(t).Cmp(r.url, td.Re(`^ws://127\.0\.0\.1:\d+/v1/trigger/listen$`))

	u, err := pusher.URL(r.url[:len(r.url)-len(pusher.Path)], "user", 16000)
	td.Require(t).CmpNoError(err)
	ctx := t.Context()
	c, _, err := websocket.Dial(ctx, u, nil)
	td.Require(t).CmpNoError(err)
	defer c.CloseNow()
	send := func(frame []byte) { td.Require(t).CmpNoError(c.Write(ctx, websocket.MessageBinary, frame)) }
	send(pusher.AppendFrame(nil, pusher.KindConversation, []byte("conv-1")))
	send(pusher.AppendAudio(nil, 1_700_000_000, []byte{1, 0, 2, 0, 3, 0}))
	send(pusher.AppendFrame(nil, pusher.KindSegments, []byte(`{"segments":[{"id":"s1","text":"hi"}],"memory_id":"conv-1"}`)))
	send(pusher.AppendFrame(nil, pusher.KindProcess, []byte(`{"conversation_id":"conv-1","language":"en"}`)))
	typ, b, err := c.Read(ctx)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, typ, websocket.MessageBinary)
	kind, payload, err := pusher.Parse(b)
	td.Require(t).CmpNoError(err)
	td.Cmp(t, kind, pusher.KindResult)
	td.Cmp(t, json.RawMessage(payload), td.JSON(`{"conversation_id":"conv-1","success":true}`))

	conv, err := record.ReadConversation(dir, "conv-1")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, conv.Samples, []int16{1, 2, 3})
	td.Cmp(t, conv.Meta.Language, "en")
	td.Cmp(t, conv.Segments, []json.RawMessage{json.RawMessage(`{"id":"s1","text":"hi"}`)})

	// Stopping closes the connection with 1001 ("going away"), which the
	// client must be reading to answer.
	readDone := make(chan error, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		readDone <- err
	}()
	log, err := r.stop()
	td.CmpNoError(t, err)
	td.Cmp(t, websocket.CloseStatus(<-readDone), websocket.StatusGoingAway)
	td.Cmp(t, log, td.All(
		td.Re(`msg="record: conversation finished" .*conversation_id=conv-1 samples=3 `),
		td.Contains(`msg="record: stopped"`),
		td.Not(td.Contains("uid=user")),
	))
}
