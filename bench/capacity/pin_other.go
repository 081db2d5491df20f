//go:build !linux

package main

import "errors"

var errPinLinux = errors.New("pinning needs Linux (sched_setaffinity, taskset)")

func allowedCPUs() ([]int, error) { return nil, errPinLinux }

func pinSelf([]int) error { return errPinLinux }
