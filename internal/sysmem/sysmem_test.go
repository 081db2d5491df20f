package sysmem_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/sysmem"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	td.CmpNoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

func TestLimit(t *testing.T) {
	meminfo := write(t, "meminfo", "MemFree:  1000 kB\nMemTotal:       24683584 kB\nMemAvailable: 2 kB\n")
	none := filepath.Join(t.TempDir(), "absent")
	for _, c := range []struct {
		name            string
		meminfo, v2, v1 string
		want            int64
		ok              bool
	}{
		{"machine only", meminfo, none, none, 24683584 << 10, true},
		{"v2 limit below", meminfo, write(t, "v2", "1073741824\n"), none, 1 << 30, true},
		{"v2 max is no limit", meminfo, write(t, "v2", "max\n"), none, 24683584 << 10, true},
		{"v1 huge is no limit", meminfo, none, write(t, "v1", "9223372036854771712\n"), 24683584 << 10, true},
		{"v1 limit below", meminfo, none, write(t, "v1", "536870912"), 1 << 29, true},
		{"limit above the machine", meminfo, write(t, "v2", "99999999999999"), none, 24683584 << 10, true},
		{"cgroup only", none, write(t, "v2", "4096"), none, 4096, true},
		{"nothing readable", none, none, none, 0, false},
		{"malformed", write(t, "m", "MemTotal: lots\n"), none, none, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer sysmem.SetPaths(c.meminfo, c.v2, c.v1)()
			n, ok := sysmem.Limit()
			td.Cmp(t, ok, c.ok)
			td.Cmp(t, n, c.want)
		})
	}
}
