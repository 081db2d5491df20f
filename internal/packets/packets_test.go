package packets_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/packets"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"one", []byte{0, 3, 'a', 'b', 'c'}, [][]byte{[]byte("abc")}},
		{"lost packet", []byte{0, 1, 'a', 0, 0, 0, 1, 'b'}, [][]byte{[]byte("a"), {}, []byte("b")}},
		{"only lost", []byte{0, 0}, [][]byte{{}}},
		{"big-endian length", append([]byte{1, 0}, make([]byte, 256)...), [][]byte{make([]byte, 256)}},
	} {
		got, err := packets.Parse(tc.in)
		td.CmpNoError(t, err, tc.name)
		td.Cmp(t, got, tc.want, tc.name)
	}
}

func TestParseTruncated(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"half a length", []byte{0, 1, 'a', 0}},
		{"short payload", []byte{0, 1, 'a', 0, 3, 'b', 'c'}},
		{"length only", []byte{0, 1, 'a', 0, 1}},
	} {
		got, err := packets.Parse(tc.in)
		td.CmpErrorIs(t, err, packets.ErrTruncated, tc.name)
		td.Cmp(t, got, [][]byte{[]byte("a")}, "%s: the packets before the bad record", tc.name)
	}
}

func TestParseCapsEachPacket(t *testing.T) {
	b := []byte{0, 1, 'a', 0, 1, 'b'}
	got, err := packets.Parse(b)
	td.CmpNoError(t, err)
	td.Cmp(t, cap(got[0]), 1)
	_ = append(got[0], 'X')
	td.Cmp(t, got[1], []byte("b"), "appending to one packet leaves the next alone")
	td.Cmp(t, &got[1][0], &b[5], "the packets alias the input")
}

func TestWriteRead(t *testing.T) {
	pkts := [][]byte{[]byte("first"), {}, bytes.Repeat([]byte{7}, packets.MaxPacket), nil, []byte("x")}
	var buf bytes.Buffer
	td.CmpNoError(t, packets.Write(&buf, pkts))
	td.Cmp(t, buf.Len(), 5*2+5+packets.MaxPacket+1)
	td.Cmp(t, buf.Bytes()[:7], []byte("\x00\x05first"))

	got, err := packets.Read(iotest.OneByteReader(&buf))
	td.CmpNoError(t, err)
	td.Cmp(t, got, [][]byte{[]byte("first"), {}, pkts[2], {}, []byte("x")}, "nil is written as a lost packet")
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	td.CmpNoError(t, packets.Write(&buf, nil))
	td.Cmp(t, buf.Len(), 0)
}

func TestWriteTooLong(t *testing.T) {
	var buf bytes.Buffer
	err := packets.Write(&buf, [][]byte{[]byte("ok"), make([]byte, packets.MaxPacket+1)})
	td.CmpErrorIs(t, err, packets.ErrTooLong)
	td.Cmp(t, buf.Len(), 0, "nothing written")
}

func TestWriteReadErrors(t *testing.T) {
	boom := errors.New("boom")
	td.CmpErrorIs(t, packets.Write(errWriter{boom}, [][]byte{[]byte("a")}), boom)

	_, err := packets.Read(io.MultiReader(bytes.NewReader([]byte{0, 1}), iotest.ErrReader(boom)))
	td.CmpErrorIs(t, err, boom)

	_, err = packets.Read(bytes.NewReader([]byte{0, 2, 'a'}))
	td.CmpErrorIs(t, err, packets.ErrTruncated)
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// entry is what the tests use of a fixtures/codecs/manifest.json entry.
type entry struct {
	Name       string `json:"name"`
	Codec      string `json:"codec"`
	Packets    int    `json:"packets"`
	Pkt        string `json:"pkt"`
	Encoded    string `json:"encoded"`
	RefSamples int    `json:"ref_samples"`
	PreSkip    *int   `json:"pre_skip"`
}

const codecsDir = "../../fixtures/codecs"

func manifest(tb testing.TB) []entry {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(codecsDir, "manifest.json"))
	if err != nil {
		tb.Fatalf("the codec fixtures (bash scripts/make-codec-fixtures.sh): %v", err)
	}
	var es []entry
	if err := json.Unmarshal(b, &es); err != nil {
		tb.Fatal(err)
	}
	return es
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(codecsDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestFixtures reads every .pkt of the manifest and, where the encoder's
// container is kept beside it, checks that demuxing that gives the same
// packets.
func TestFixtures(t *testing.T) {
	es := manifest(t)
	td.Cmp(t, len(es), td.Gte(10))
	for _, e := range es {
		t.Run(e.Name, func(t *testing.T) {
			pkts, err := packets.Parse(fixture(t, e.Pkt))
			td.CmpNoError(t, err)
			td.Cmp(t, len(pkts), e.Packets)
			switch e.Codec {
			case "lc3_fs1030":
				td.Cmp(t, pkts, td.ArrayEach(td.Len(30)), "30-byte frames")
			case "mulaw8", "mulaw16":
				if e.RefSamples > 0 {
					td.Cmp(t, len(bytes.Join(pkts, nil)), e.RefSamples, "one byte a sample")
				}
			}
			if e.Encoded == "" {
				return
			}
			var got [][]byte
			enc := fixture(t, e.Encoded)
			switch filepath.Ext(e.Encoded) {
			case ".opus":
				var pre int
				got, pre, err = packets.OggOpusPackets(bytes.NewReader(enc))
				td.Cmp(t, &pre, e.PreSkip, "pre-skip")
			case ".lc3":
				_, got, err = packets.ParseLC3File(enc)
			case ".aac":
				got, err = packets.SplitADTS(enc)
				td.Cmp(t, bytes.Join(got, nil), enc, "the frames make up the stream")
			default:
				t.Fatalf("unknown container %s", e.Encoded)
			}
			td.CmpNoError(t, err)
			td.Cmp(t, got, pkts)
		})
	}
}
