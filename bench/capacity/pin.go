package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// pinPlan splits the CPUs this process may use between the target (the
// first CPU) and everything else (the upstream and the harness, the load
// generator), so that "per core" is the target's one core (-pin).
type pinPlan struct {
	Target []int // the target's CPU: the first allowed one
	Load   []int // the upstream's and the harness's: the rest
	// taskset is the path of util-linux's taskset, which starts the
	// children on their CPUs: every thread they create inherits them.
	taskset string
}

// planPin splits allowed (ascending CPU numbers) into the target's first
// CPU and the rest.
func planPin(allowed []int) (*pinPlan, error) {
	if len(allowed) < 2 {
		return nil, fmt.Errorf("-pin needs at least 2 CPUs (one for the target, the others for the upstream and "+
			"the load generator), this process may use %d (%s); run with -pin=false", len(allowed), cpuList(allowed))
	}
	return &pinPlan{Target: allowed[:1:1], Load: slices.Clone(allowed[1:])}, nil
}

// preparePin plans the pinning on this machine and finds taskset.
func preparePin() (*pinPlan, error) {
	allowed, err := allowedCPUs()
	if err != nil {
		return nil, fmt.Errorf("-pin: %w; run with -pin=false", err)
	}
	p, err := planPin(allowed)
	if err != nil {
		return nil, err
	}
	if p.taskset, err = exec.LookPath("taskset"); err != nil {
		return nil, errors.New("-pin: taskset not found: install util-linux (apt-get install util-linux), or run with -pin=false")
	}
	return p, nil
}

// targetCommand is the target's bin and args, under taskset on the
// target's CPU when pinned (p non-nil).
func (p *pinPlan) targetCommand(bin string, args []string) (string, []string) {
	if p == nil {
		return bin, args
	}
	return p.command(p.Target, bin, args)
}

// loadCommand is the upstream's bin and args, under taskset on the load
// CPUs when pinned (p non-nil).
func (p *pinPlan) loadCommand(bin string, args []string) (string, []string) {
	if p == nil {
		return bin, args
	}
	return p.command(p.Load, bin, args)
}

// command is `taskset -c <cpus> bin args...`. taskset stops reading its
// options at the CPU list, so args starting with "-" reach bin; it execs
// bin, which keeps taskset's pid.
func (p *pinPlan) command(cpus []int, bin string, args []string) (string, []string) {
	return p.taskset, append([]string{"-c", cpuList(cpus), bin}, args...)
}

// targetEnv is the environment the target gets from the pinning: one
// GOMAXPROCS for its one CPU. -gateway-env comes after it, so it wins for
// earshot serve.
func (p *pinPlan) targetEnv() []string {
	if p == nil {
		return nil
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(len(p.Target))}
}

// cpuList formats ascending CPU numbers as the kernel's Cpus_allowed_list
// and taskset -c do: ranges of consecutive CPUs, comma-separated ("0",
// "1-3", "0,2-3").
func cpuList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}

// taskAffinity is the Cpus_allowed_list of every thread of a process
// ("self" for this one), from /proc/<pid>/task/*/status: the distinct
// lists (" | " between them when threads differ) and the number of
// threads.
func taskAffinity(pid string) (string, int, error) {
	tasks, err := filepath.Glob("/proc/" + pid + "/task/*/status")
	if err != nil {
		return "", 0, err
	}
	var lists []string
	n := 0
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // the thread exited
				continue
			}
			return "", 0, err
		}
		l, err := parseStatusField(b, "Cpus_allowed_list")
		if err != nil {
			return "", 0, err
		}
		n++
		if !slices.Contains(lists, l) {
			lists = append(lists, l)
		}
	}
	if n == 0 {
		return "", 0, fmt.Errorf("no threads in /proc/%s/task", pid)
	}
	return strings.Join(lists, " | "), n, nil
}
