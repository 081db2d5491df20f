package e2e_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	streamclient "earshot/client"
	"earshot/emulate"
	"earshot/internal/testrig"
	"earshot/pipeline"
	"earshot/protocol"
	"earshot/stages/ingest"
)

// damage returns a copy of pkts with one in twenty packets damaged, in
// turn: cut to 3 bytes, replaced by random bytes, given a frame-count
// header that claims more frames than it holds, cut in half. It returns
// the packets and how many were damaged.
func damage(pkts [][]byte, seed uint64) ([][]byte, int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([][]byte, len(pkts))
	n := 0
	for i, p := range pkts {
		p = append([]byte(nil), p...)
		if i%20 == 10 {
			switch n % 4 {
			case 0:
				p = p[:3]
			case 1:
				for j := range p {
					p[j] = byte(rng.Uint32())
				}
			case 2:
				p = append([]byte{p[0] | 0x03, 0xbf}, p[1:]...) // code 3, VBR, 63 frames
			case 3:
				p = p[:len(p)/2]
			}
			n++
		}
		out[i] = p
	}
	return out, n
}

// TestOpusDamagedPacketsKeepTheSessionAndWordTimes streams the tone
// conversation as device-shaped Opus packets (libopus, restricted low
// delay, 10 ms) with 5% of them damaged: the session goes on, every packet
// the decoder refuses is concealed with 10 ms of silence and counted in
// earshot_decode_errors_total, and every word keeps its capture time to
// within the few packets a damaged one disturbs the decoder for.
func TestOpusDamagedPacketsKeepTheSessionAndWordTimes(t *testing.T) {
	for _, dec := range []ingest.OpusDecoder{ingest.OpusPion, ingest.OpusLibopus} {
		t.Run(string(dec), func(t *testing.T) {
			if err := ingest.CheckOpusDecoder(dec); err != nil {
				t.Skip(err)
			}
			damagedOpus(t, dec)
		})
	}
}

func damagedOpus(t *testing.T, dec ingest.OpusDecoder) {
	const rate = 16000
	enc, err := streamclient.Encode(context.Background(), "opus", conversation(rate), rate)
	if errors.Is(err, streamclient.ErrEncoder) {
		t.Skip(err)
	}
	td.Require(t).CmpNoError(err)
	pkts, damaged := damage(enc.Packets, 14)
	td.Cmp(t, damaged, len(pkts)/20, "5% damaged")

	_, dgURL := startEmulator(t, emulate.Config{})
	_, url := startGateway(t, dgURL, pipeline.Config{OpusDecoder: dec})
	c := dialClient(t, url+"?sample_rate=16000&codec=opus")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	for _, p := range pkts {
		td.Require(t).CmpNoError(c.Conn.Write(context.Background(), websocket.MessageBinary, p))
	}
	c.ReadUntil(t, 20*time.Second, func(c *client) bool { return len(c.Transcript()) == 3 })
	for _, s := range c.Transcript() {
		t.Logf("%q %d %.2f-%.2f", s.Text, s.SpeakerID, s.Start, s.End)
	}
	// A damaged packet at a word's onset (packet 50 is the first tone's)
	// delays the word's loud frames by up to 50 ms: CELT predicts each
	// packet's band energies from the last one's, so after a damaged
	// packet the next few decode quieter (with libopus and its loss
	// concealment just as with pion). Every word stays within that of its
	// capture time.
	td.Cmp(t, c.Transcript(), wantConversationWithin(0.06), "every word, at its capture time")
	errs := testrig.Metric(t, url, `earshot_decode_errors_total{codec="opus"}`)
	t.Logf("%d packets damaged, %v refused by the decoder (the others decoded to noise)", damaged, errs)
	td.Cmp(t, errs, td.Between(1.0, float64(damaged)), "refused packets are counted")
	td.CmpNoError(t, c.Conn.Close(websocket.StatusNormalClosure, "done"))
}

// TestOpusDroppedPacketsShiftOnlyWhatFollows: a packet the client never
// sends cannot be told from one that never existed (the socket keeps no
// sequence numbers), so each one dropped moves the words after it 10 ms
// earlier, and nothing else: the session goes on and every word comes.
func TestOpusDroppedPacketsShiftOnlyWhatFollows(t *testing.T) {
	const rate = 16000
	enc, err := streamclient.Encode(context.Background(), "opus", conversation(rate), rate)
	if errors.Is(err, streamclient.ErrEncoder) {
		t.Skip(err)
	}
	td.Require(t).CmpNoError(err)
	var sent [][]byte
	dropped := 0 // in the silence between 2.0 and 2.9 s
	for i, p := range enc.Packets {
		if i%20 == 10 && i >= 200 && i < 290 {
			dropped++
			continue
		}
		sent = append(sent, p)
	}
	_, dgURL := startEmulator(t, emulate.Config{})
	_, url := startGateway(t, dgURL, pipeline.Config{})
	c := dialClient(t, url+"?sample_rate=16000&codec=opus")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	for _, p := range sent {
		td.Require(t).CmpNoError(c.Conn.Write(context.Background(), websocket.MessageBinary, p))
	}
	c.ReadUntil(t, 20*time.Second, func(c *client) bool { return len(c.Transcript()) == 3 })
	segs := c.Transcript()
	shift := float64(dropped) * 0.010
	td.Cmp(t, dropped, 4)
	td.Cmp(t, segs[0].End, td.N(1.4, 0.011), "words before the drops keep their times")
	td.Cmp(t, segs[1].Start, td.N(2.5-shift, 0.011), "words after them come %.0f ms earlier", 1000*shift)
	td.Cmp(t, segs[2].Start, td.N(3.5-shift, 0.011))
	td.Cmp(t, testrig.Metric(t, url, `earshot_decode_errors_total{codec="opus"}`), 0.0, "nothing to decode wrongly")
}

// wantConversationWithin is wantConversation with times within tol and
// each word's name (its stream-time onset) within 50 ms.
func wantConversationWithin(tol float64) td.TestDeep {
	seg := func(text string, speaker int, start, end float64) td.TestDeep {
		return td.SStruct(protocol.Segment{
			SpeakerID: speaker, Speaker: "SPEAKER_" + string(rune('0'+speaker)),
			Translations: []protocol.Translation{}, STTProvider: "deepgram",
		}, td.StructFields{
			"ID":    td.Re(`^[0-9a-f-]{36}$`),
			"Text":  td.Re(text),
			"Start": td.N(start, tol),
			"End":   td.N(end, tol),
		})
	}
	return td.Bag(
		seg(`^t5[0-5]\d t15[0-5]\d$`, 0, 0, 1.4),
		seg(`^t30[0-5]\d$`, 1, 2.5, 2.9),
		seg(`^t40[0-5]\d$`, 0, 3.5, 3.8),
	)
}
