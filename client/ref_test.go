package client_test

import (
	"strings"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/client"
)

func TestRefFromTSV(t *testing.T) {
	const tsv = "file\ttext\tsample_rate\tduration_s\n" +
		"fox-16k.wav\tthe quick brown fox\t16000\t4.0\r\n" +
		"call\tplease call me\t8000\t3.2\n" +
		"bare\n"
	for _, tc := range []struct{ path, want string }{
		{"fixtures/speech-synth/fox-16k.wav", "the quick brown fox"},
		{"/tmp/call.wav", "please call me"},
	} {
		got, err := client.RefFromTSV(strings.NewReader(tsv), tc.path)
		td.CmpNoError(t, err, tc.path)
		td.Cmp(t, got, tc.want, tc.path)
	}
	_, err := client.RefFromTSV(strings.NewReader(tsv), "dog.wav")
	td.CmpString(t, err, "no row for dog.wav")
	_, err = client.RefFromTSV(strings.NewReader(tsv), "bare.wav")
	td.CmpString(t, err, "line 4: no text column for bare")
	_, err = client.RefFromTSV(strings.NewReader(tsv), "file.wav")
	td.CmpString(t, err, "no row for file.wav", "the header is not a row")
}

func TestRefFromFixtures(t *testing.T) {
	dir, rows := fixtures(t)
	for _, r := range rows {
		got, err := client.RefFromTSV(strings.NewReader(readFile(t, dir+"/transcripts.tsv")), dir+"/"+r.file)
		td.CmpNoError(t, err)
		td.Cmp(t, got, r.text)
	}
}
