//go:build unix

package pipeline

import "syscall"

// openFileLimit is the process's soft limit on open descriptors (which the
// Go runtime raises to the hard limit at start-up on Linux).
func openFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1 << 30
	}
	return int(r.Cur)
}
