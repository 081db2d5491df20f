package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var addrRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// child is a process the harness started: the gateway, the relay or the
// upstream. It reports its listening address on stderr ("addr=...").
type child struct {
	name string
	cmd  *exec.Cmd
	pid  string
	addr string

	mu       sync.Mutex
	tail     []string // the last lines logged
	warnings int      // lines at level WARN or ERROR
	samples  []string // the first few of them
	exited   chan struct{}
}

// startChild runs bin with args (and env added to the harness's) and waits
// for its address.
func startChild(name, bin string, args, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, pid: strconv.Itoa(cmd.Process.Pid), exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.log(sc.Text(), found)
		}
		_ = cmd.Wait()
		close(c.exited)
	}()
	select {
	case c.addr = <-found:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before reporting its address:\n%s", name, c.logTail())
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not report its address in 30 s", name)
	}
}

func (c *child) log(line string, found chan<- string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := addrRe.FindStringSubmatch(line); m != nil {
		select {
		case found <- m[1]:
		default:
		}
	}
	if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
		c.warnings++
		if len(c.samples) < 3 {
			c.samples = append(c.samples, clipString(line, 300))
		}
	}
	c.tail = append(c.tail, line)
	if len(c.tail) > 30 {
		c.tail = c.tail[1:]
	}
}

func (c *child) logTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// logWarnings returns the count of WARN and ERROR lines and the first few.
func (c *child) logWarnings() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.warnings, append([]string(nil), c.samples...)
}

// stop sends SIGTERM and waits up to 20 s for the exit, then kills.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
