package e2e_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files under fixtures/")

// checkGolden compares segments, with their random IDs replaced by their
// order ("seg-1", ...), to the golden file fixtures/e2e/<name>.json.
func checkGolden(t *testing.T, name string, segs []protocol.Segment) {
	t.Helper()
	norm := make([]protocol.Segment, len(segs))
	for i, s := range segs {
		s.ID = fmt.Sprintf("seg-%d", i+1)
		norm[i] = s
	}
	got, err := json.MarshalIndent(norm, "", "  ")
	td.Require(t).CmpNoError(err)
	path := filepath.Join("..", "fixtures", "e2e", name+".json")
	if *update {
		td.Require(t).CmpNoError(os.WriteFile(path, append(got, '\n'), 0o644))
	}
	td.Cmp(t, json.RawMessage(got), td.JSON(path))
}
