package record_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol/pusher"
	"earshot/record"
)

func TestBadQueryIs400(t *testing.T) {
	r := newRig(t, "", record.Config{})
	long := strings.Repeat("u", record.MaxUIDBytes)
	for _, tc := range []struct{ name, query string }{
		{"no uid", "sample_rate=16000"},
		{"empty uid", "uid=&sample_rate=16000"},
		{"long uid", "uid=" + long + "x&sample_rate=16000"},
		{"uid not UTF-8", "uid=%ff&sample_rate=16000"},
		{"no rate", "uid=u"},
		{"rate not a number", "uid=u&sample_rate=fast"},
		{"rate a float", "uid=u&sample_rate=16000.0"},
		{"rate too low", "uid=u&sample_rate=7999"},
		{"rate too high", "uid=u&sample_rate=48001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := websocket.Dial(t.Context(), r.wsURL(tc.query), nil)
			if c != nil {
				c.CloseNow()
			}
			td.CmpError(t, err)
			td.Require(t).NotNil(resp)
			td.Cmp(t, resp.StatusCode, http.StatusBadRequest)
		})
	}
	for _, q := range []string{"uid=" + long + "&sample_rate=8000", "uid=%C3%A9&sample_rate=48000"} {
		c, _, err := websocket.Dial(t.Context(), r.wsURL(q), nil)
		td.Require(t).CmpNoError(err, q)
		c.CloseNow()
	}
}

func TestOversizeFrameCloses1009(t *testing.T) {
	r := newRig(t, "", record.Config{MaxFrameBytes: 1024})
	c := r.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0, make([]int16, 400)) // within the limit
	c.barrier()
	c.send(pusher.AppendAudio(nil, t0, make([]byte, 1024)))
	td.Cmp(t, c.closeStatus(), websocket.StatusMessageTooBig)
}

func TestCloseEndsConnectionsAndRefusesNewOnes(t *testing.T) {
	r := newRig(t, "", record.Config{})
	c := r.dial(t, "u", 16000)
	c.barrier()
	td.Cmp(t, r.metricsOf(t)[`earshot_record_connections`], "1")
	td.CmpNoError(t, r.rec.Close())
	td.Cmp(t, c.closeStatus(), websocket.StatusGoingAway)
	td.CmpNoError(t, r.rec.Close()) // idempotent
	td.Cmp(t, r.metricsOf(t)[`earshot_record_connections`], "0")

	_, resp, err := websocket.Dial(t.Context(), r.wsURL("uid=u&sample_rate=16000"), nil)
	td.CmpError(t, err)
	td.Require(t).NotNil(resp)
	td.Cmp(t, resp.StatusCode, http.StatusServiceUnavailable)
	code, _ := get(t, r.srv.URL+"/healthz")
	td.Cmp(t, code, http.StatusServiceUnavailable)
}

func TestHealthzAndMetrics(t *testing.T) {
	r := newRig(t, "", record.Config{})
	code, body := get(t, r.srv.URL+"/healthz")
	td.Cmp(t, code, http.StatusOK)
	td.Cmp(t, body, "ok\n")
	code, body = get(t, r.srv.URL+"/metrics")
	td.Cmp(t, code, http.StatusOK)
	td.Cmp(t, body, td.All(
		td.Contains(`earshot_record_connections 0`),
		td.Contains(`earshot_record_frames_total{kind="speaker_samples"} 0`),
		td.Contains(`earshot_record_audio_bytes_total 0`),
		td.Contains(`earshot_record_segments_total 0`),
		td.Contains(`earshot_record_conversations_finished_total{result="error"} 0`),
		td.Contains(`earshot_record_dropped_frames_total{reason="disk_error"} 0`),
		td.Contains(`process_`),
	))
	code, _ = get(t, r.srv.URL+"/nope")
	td.Cmp(t, code, http.StatusNotFound)
}

// Recorders sharing a metrics set share its series (no duplicate-name
// panic).
func TestRecordersMayShareASet(t *testing.T) {
	set := metrics.NewSet()
	for range 2 {
		rec, err := record.New(record.Config{Dir: t.TempDir()}, record.Deps{Metrics: set})
		td.Require(t).CmpNoError(err)
		td.CmpNoError(t, rec.Close())
	}
}

func TestNewBadConfig(t *testing.T) {
	for name, cfg := range map[string]record.Config{
		"no dir":       {},
		"tiny frames":  {Dir: t.TempDir(), MaxFrameBytes: 3},
		"negative gap": {Dir: t.TempDir(), MaxGapSec: -1},
	} {
		_, err := record.New(cfg, record.Deps{})
		td.Cmp(t, err, td.ErrorIs(record.ErrBadConfig), name)
	}
	file := filepath.Join(t.TempDir(), "file")
	td.Require(t).CmpNoError(os.WriteFile(file, nil, 0o640))
	_, err := record.New(record.Config{Dir: file}, record.Deps{})
	td.CmpError(t, err)
}

func TestReadConversationErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := record.ReadConversation(dir, "../x")
	td.Cmp(t, err, td.ErrorIs(record.ErrBadConversationID))
	_, err = record.ReadConversation(dir, "missing")
	td.Cmp(t, err, td.All(td.ErrorIs(record.ErrNotFound), td.ErrorIs(os.ErrNotExist)))
	_, err = record.Finished(filepath.Join(dir, "nope"))
	td.Cmp(t, err, td.ErrorIs(os.ErrNotExist))

	// A WAV that disagrees with its meta.
	r := newRig(t, dir, record.Config{})
	c := r.dial(t, "u", 16000)
	c.conversation("c")
	c.audio(t0, ramp(1, 10))
	td.Cmp(t, c.process("c", ""), pusher.Result{ConversationID: "c", Success: true})
	appendTo(t, filepath.Join(dir, "c", "audio.wav"), "\x00\x00")
	_, err = record.ReadConversation(dir, "c")
	td.Cmp(t, err, td.ErrorIs(record.ErrCorrupt))
}
