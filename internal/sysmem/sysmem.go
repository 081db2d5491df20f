// Package sysmem reports how much memory the process may use: the
// machine's memory, or the memory limit of its control group (a
// container's limit) when that is smaller.
package sysmem

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Files read by Limit, in order; variables so that tests can point them
// elsewhere.
var (
	meminfoPath  = "/proc/meminfo"
	cgroupV2Path = "/sys/fs/cgroup/memory.max"
	cgroupV1Path = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
)

// Limit returns the bytes of memory the process may use: the smaller of
// the machine's total memory (/proc/meminfo) and its control group's
// limit (cgroup v2 memory.max, or v1 memory.limit_in_bytes), and false
// when neither can be read (not Linux, or /proc not mounted).
func Limit() (int64, bool) {
	total, ok := memTotal(meminfoPath)
	for _, p := range []string{cgroupV2Path, cgroupV1Path} {
		if n, found := cgroupLimit(p); found && (!ok || n < total) {
			total, ok = n, true
		}
	}
	return total, ok
}

// memTotal parses the MemTotal line of a meminfo file ("MemTotal: N kB").
func memTotal(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// cgroupLimit reads a cgroup memory limit file: a byte count, or "max"
// (cgroup v2) or a huge number (v1) for no limit, which are not limits.
func cgroupLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}
