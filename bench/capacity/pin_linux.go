//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// allowedCPUs is the CPUs this thread may run on, ascending.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	return cpusOf(&set), nil
}

func cpusOf(set *unix.CPUSet) []int {
	var cpus []int
	for c := range len(set) * 64 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// pinSelf restricts every thread of this process to cpus. A thread
// inherits its creator's affinity when it is created, so threads the Go
// runtime starts afterwards stay on cpus too. Threads created while the
// existing ones are being pinned are caught by listing /proc/self/task
// again until a pass finds no thread it has not pinned: every thread
// created after that pass began comes from a pinned one.
func pinSelf(cpus []int) error {
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	pinned := map[int]bool{}
	for pass := 0; ; pass++ {
		if pass == 100 {
			return errors.New("pinning the harness's threads: new threads keep appearing")
		}
		tids, err := selfTasks()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if pinned[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				if errors.Is(err, unix.ESRCH) { // the thread exited
					continue
				}
				return fmt.Errorf("pinning thread %d to CPUs %s: %w", tid, cpuList(cpus), err)
			}
			pinned[tid] = true
			fresh++
		}
		if fresh == 0 {
			break
		}
	}
	// Check: every thread's affinity is cpus.
	tids, err := selfTasks()
	if err != nil {
		return err
	}
	for _, tid := range tids {
		var got unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &got); err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			return err
		}
		if g := cpusOf(&got); !slices.Equal(g, cpus) {
			return fmt.Errorf("thread %d runs on CPUs %s after pinning to %s", tid, cpuList(g), cpuList(cpus))
		}
	}
	return nil
}

// selfTasks is the thread ids of this process.
func selfTasks() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			return nil, fmt.Errorf("/proc/self/task/%s: not a thread id", e.Name())
		}
		tids = append(tids, tid)
	}
	return tids, nil
}
