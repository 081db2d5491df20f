package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// measureLevel runs one capacity level of kind with n sessions. With
// -outside-retries r > 0, a run during which the rest of the machine used
// -max-outside cores or more is marked Spoiled (kept in the results, left
// out of the summary and the ratios) and the level is run again once the
// machine is quiet (see waitIdleCPU), at most r times; the last run is
// returned, spoiled or not.
func (h *harness) measureLevel(kind string, n int) (*Run, error) {
	o := h.o
	for try := 0; ; try++ {
		r, err := h.runLevel(kind, n, purposeCapacity, 0, o.window)
		if err != nil || o.outsideRetries <= 0 || r.OutsideCores < o.maxOutside {
			return r, err
		}
		r.Spoiled = true
		if err := h.save(); err != nil {
			return nil, err
		}
		if try >= o.outsideRetries {
			fmt.Printf("%s %d: outside %.2f cores ≥ %.2f after %d retries; not counted\n",
				kind, n, r.OutsideCores, o.maxOutside, try)
			return r, nil
		}
		fmt.Printf("%s %d: outside %.2f cores ≥ %.2f, not counted; waiting for a quiet machine to run it again\n",
			kind, n, r.OutsideCores, o.maxOutside)
		idle := waitIdleCPU(o.maxOutside, o.quietWait)
		fmt.Printf("machine busy %.2f cores; retrying\n", idle)
	}
}

// waitIdleCPU waits until the machine, less this process, uses under limit
// cores over 3 s (between levels, when no child of the harness runs), at
// most maxWait, and returns the last reading (-1 if /proc cannot be
// read). The load average cannot tell: it still counts the levels just
// run for minutes.
func waitIdleCPU(limit float64, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		used, err := busyCores(3 * time.Second)
		if err != nil {
			return -1
		}
		if used < limit || !time.Now().Before(deadline) {
			return used
		}
		fmt.Printf("capacity: the machine uses %.2f cores outside the harness, waiting (until %s)\n",
			used, deadline.Format("15:04:05"))
		time.Sleep(10 * time.Second)
	}
}

// busyCores is the cores the machine used over d, less this process.
func busyCores(d time.Duration) (float64, error) {
	b0, _, err := machineCPU()
	if err != nil {
		return 0, err
	}
	s0, err := cpuSeconds("self")
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	b1, _, err := machineCPU()
	if err != nil {
		return 0, err
	}
	s1, err := cpuSeconds("self")
	if err != nil {
		return 0, err
	}
	return (b1 - b0 - (s1 - s0)) / time.Since(t0).Seconds(), nil
}

// load1 is the 1-minute load average, or -1.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// waitQuiet waits until the 1-minute load average is below limit, at most
// maxWait, and returns the load average then.
func waitQuiet(limit float64, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		l := load1()
		if l < limit || !time.Now().Before(deadline) {
			return l
		}
		fmt.Printf("capacity: load average %.2f ≥ %.2f, waiting for a quiet machine (until %s)\n",
			l, limit, deadline.Format("15:04:05"))
		time.Sleep(15 * time.Second)
	}
}
