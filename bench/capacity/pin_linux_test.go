//go:build linux

package main

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

// pinnable skips the test unless this machine can pin (2 or more CPUs
// and taskset), and returns the plan.
func pinnable(t *testing.T) *pinPlan {
	t.Helper()
	allowed, err := allowedCPUs()
	td.Require(t).CmpNoError(err)
	td.Require(t).Cmp(len(allowed), runtime.NumCPU(), "the affinity this process started with")
	if len(allowed) < 2 {
		t.Skipf("%d CPU: nothing to pin", len(allowed))
	}
	p, err := preparePin()
	if err != nil {
		t.Skip(err)
	}
	return p
}

// A child started with the plan's commands runs, with all its threads,
// on the plan's CPUs.
func TestTasksetPinsChildren(t *testing.T) {
	p := pinnable(t)
	grep, err := exec.LookPath("grep")
	td.Require(t).CmpNoError(err)
	for _, tc := range []struct {
		name string
		cmd  func(string, []string) (string, []string)
		want []int
	}{
		{"target", p.targetCommand, p.Target},
		{"load", p.loadCommand, p.Load},
	} {
		bin, args := tc.cmd(grep, []string{"-h", "^Cpus_allowed_list:", "/proc/self/status"})
		out, err := exec.Command(bin, args...).Output()
		td.Require(t).CmpNoError(err, tc.name)
		td.Cmp(t, strings.Fields(string(out)), []string{"Cpus_allowed_list:", cpuList(tc.want)}, tc.name)
	}
}

// pinSelf is tried in a child test process: it changes the affinity of
// the whole process.
func TestPinSelf(t *testing.T) {
	if os.Getenv("CAPACITY_PIN_SELF") == "" {
		p := pinnable(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestPinSelf$", "-test.v")
		cmd.Env = append(os.Environ(), "CAPACITY_PIN_SELF="+cpuList(p.Load))
		out, err := cmd.CombinedOutput()
		td.Cmp(t, err, nil, "child:\n%s", out)
		td.Cmp(t, string(out), td.Contains("--- PASS: TestPinSelf"))
		return
	}
	// The child: threads exist before the pinning (locked goroutines
	// keep theirs), and more are started after it.
	allowed, err := allowedCPUs()
	td.Require(t).CmpNoError(err)
	want := allowed[1:]
	td.Require(t).Cmp(cpuList(want), os.Getenv("CAPACITY_PIN_SELF"))
	threads := func(n int) (stop func()) {
		var wg sync.WaitGroup
		release := make(chan struct{})
		wg.Add(n)
		for range n {
			go func() {
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				wg.Done()
				<-release
			}()
		}
		wg.Wait()
		return func() { close(release) }
	}
	stopBefore := threads(8)
	defer stopBefore()
	before, err := selfTasks()
	td.Require(t).CmpNoError(err)
	aff, _, err := taskAffinity("self")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, aff, cpuList(allowed))

	td.Require(t).CmpNoError(pinSelf(want))
	// More locked goroutines than there were threads: at least 8 new
	// threads, whoever creates them.
	stopAfter := threads(len(before))
	defer stopAfter()
	after, err := selfTasks()
	td.Require(t).CmpNoError(err)
	fresh := 0
	for _, tid := range after {
		if !slices.Contains(before, tid) {
			fresh++
		}
	}
	td.Cmp(t, fresh, td.Gte(8), "threads started after the pinning")
	aff, _, err = taskAffinity("self")
	td.Require(t).CmpNoError(err)
	td.Cmp(t, aff, cpuList(want), "every thread, those started after the pinning too")
}

func TestPinNeedsTaskset(t *testing.T) {
	pinnable(t)
	t.Setenv("PATH", t.TempDir())
	_, err := preparePin()
	td.Require(t).CmpError(err)
	td.Cmp(t, err.Error(), td.All(td.Contains("taskset not found"), td.Contains("util-linux"), td.Contains("-pin=false")))
}
