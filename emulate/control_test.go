package emulate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
)

func TestParseControl(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"KeepAlive"}`:                 "KeepAlive",
		`{"type":"Finalize"}`:                  "Finalize",
		`{"type":"CloseStream"}`:               "CloseStream",
		"\t{ \"type\" : \"Finalize\" }\n":      "Finalize",
		`{"type":"CloseStream","extra":[1,2]}`: "CloseStream",
	} {
		got, err := emulate.ParseControl([]byte(in))
		td.CmpNoError(t, err, in)
		td.Cmp(t, got, want, in)
	}
	for _, in := range []string{
		``, `null`, `[]`, `"KeepAlive"`, `{}`, `{"type":null}`, `{"type":1}`,
		`{"type":"keepalive"}`, `{"TYPE":"KeepAlive"}`, `{"type":"KeepAlive"`,
		`{"type":"KeepAlive"}x`, `{"type":"Close"}`, `{"Type":"Finalize"}`,
		`{"type":"KeepAlive","pad":"` + strings.Repeat("x", 5000) + `"}`,
	} {
		_, err := emulate.ParseControl([]byte(in))
		td.Cmp(t, err, td.ErrorIs(emulate.ErrBadControl), "%.40q", in)
	}
}

// FuzzControl checks that the parser never panics and accepts exactly the
// JSON objects whose "type" member is one of the three control names.
func FuzzControl(f *testing.F) {
	for _, seed := range []string{
		`{"type":"KeepAlive"}`, `{"type":"Finalize"}`, `{"type":"CloseStream"}`,
		`{"type":"CloseStream","x":{"type":"KeepAlive"}}`, `{"type":"Keep\u0041live"}`,
		`{"type":"KeepAlive","type":"Finalize"}`, `{"TYPE":"KeepAlive"}`,
		``, `null`, `[]`, `{`, `{"type":"KeepAlive"`, "\xff\xfe", `{"type":"Finalize\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := emulate.ParseControl(b)
		if err != nil {
			if !td.Cmp(t, err, td.ErrorIs(emulate.ErrBadControl)) {
				t.FailNow()
			}
			return
		}
		// Accepted: it must be a JSON object whose "type" names the result.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatalf("accepted %q, which is not a JSON object: %v", b, err)
		}
		var typ string
		if err := json.Unmarshal(obj["type"], &typ); err != nil || typ != got {
			t.Fatalf("accepted %q as %q, but its type is %q (%v)", b, got, typ, err)
		}
		td.Cmp(t, got, td.Any("KeepAlive", "Finalize", "CloseStream"))
	})
}
