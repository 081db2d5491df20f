package client

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// RefFromTSV finds the reference text for wavPath in a transcripts.tsv
// (tab-separated; the first column names the file, the second is its
// text; a first row whose first column is "file" is a header). A row
// matches on the WAV's base name, with or without its extension.
func RefFromTSV(r io.Reader, wavPath string) (string, error) {
	base := filepath.Base(wavPath)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
		name := strings.TrimSpace(cols[0])
		if line == 1 && name == "file" {
			continue
		}
		if name != base && name != stem {
			continue
		}
		if len(cols) < 2 {
			return "", fmt.Errorf("line %d: no text column for %s", line, name)
		}
		return strings.TrimSpace(cols[1]), nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no row for %s", base)
}
