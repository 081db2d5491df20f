package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testrig"
)

var earshotBin string

func TestMain(m *testing.M) {
	bin, remove, err := testrig.BuildEarshot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	earshotBin = bin
	code := m.Run()
	remove()
	os.Exit(code)
}

var addrRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// process is a running earshot command.
type process struct {
	cmd  *exec.Cmd
	addr string
	logs chan string
}

// start runs earshot with args and env, and waits for the log line that
// names its listening address.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(earshotBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(cmd.Start())
	p := &process{cmd: cmd, logs: make(chan string, 1024)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	exited := make(chan []string, 1) // the lines logged, once stderr ends
	go func() {
		var lines []string
		defer func() { exited <- lines }()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			lines = append(lines, line)
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			select {
			case p.logs <- line:
			default:
			}
		}
		close(p.logs)
	}()
	select {
	case p.addr = <-found:
	case lines := <-exited:
		t.Fatalf("%s exited before reporting its address:\n%s", strings.Join(args, " "), strings.Join(lines, "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not report its address", strings.Join(args, " "))
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	td.CmpNoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		td.CmpNoError(t, err, "exit status after SIGTERM")
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop after SIGTERM")
	}
}

// TestServeAndEmulateBinaries runs `earshot emulate` and `earshot serve` as
// processes on loopback ports and streams the fixture through a real
// WebSocket client; SIGTERM then drains both.
func TestServeAndEmulateBinaries(t *testing.T) {
	emu := start(t, []string{"EMULATE_API_KEY=" + upstreamKey},
		"emulate", "--addr", "127.0.0.1:0", "--recognizer", "energy-test")
	gw := start(t, []string{
		"EARSHOT_API_KEYS=" + clientKey,
		"DEEPGRAM_API_KEY=" + upstreamKey,
	}, "serve", "--addr", "127.0.0.1:0", "--deepgram-url", "ws://"+emu.addr+"/v1/listen",
		"--vad-gate", "off") // the energy-test recognizer hears tones, which are not speech

	c := dialClient(t, "ws://"+gw.addr+"/v4/listen?language=en&sample_rate=16000&codec=pcm16")
	c.ReadUntil(t, 10*time.Second, func(c *client) bool { return len(c.Statuses) == 4 })
	td.CmpNoError(t, c.Stream(conversation(16000), 16000, 0))
	c.ReadUntil(t, 20*time.Second, func(c *client) bool { return c.HasText("t4000") })
	td.Cmp(t, c.Transcript(), wantConversation())
	checkGolden(t, "conversation", c.Transcript())

	// SIGTERM drains: the session is closed with 1012 and the process exits 0.
	closed := make(chan websocket.StatusCode, 1)
	go func() {
		for {
			if _, _, err := c.Conn.Read(context.Background()); err != nil {
				closed <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	gw.stop(t)
	td.Cmp(t, <-closed, websocket.StatusServiceRestart)
	emu.stop(t)
	for line := range gw.logs {
		td.CmpFalse(t, strings.Contains(line, upstreamKey) || strings.Contains(line, clientKey),
			"a key was logged: %s", line)
	}
}
