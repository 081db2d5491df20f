package hostile_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/emulate"
	"earshot/internal/rawws"
	"earshot/internal/testrig"
)

var (
	long    = flag.Bool("hostile.long", false, "run every case at full scale (minutes)")
	binFlag = flag.String("hostile.bin", "", "earshot binary to test instead of building this one")
	measure = flag.Bool("hostile.measure", false, "log the measurements only, assert nothing")
)

var earshotBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if runtime.GOOS != "linux" {
		fmt.Println("hostile: Linux only (descriptors are counted in /proc)")
		os.Exit(0)
	}
	earshotBin = *binFlag
	remove := func() {}
	if earshotBin == "" {
		var err error
		if earshotBin, remove, err = testrig.BuildEarshot(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	remove()
	os.Exit(code)
}

// Keys between the parts.
const (
	clientKey   = "hostile-client-key"
	upstreamKey = "hostile-upstream-key"
)

// check is td.Cmp unless -hostile.measure, when it only logs a
// mismatch; it reports whether got matched.
func check(t *testing.T, got, want any, what string) bool {
	t.Helper()
	if *measure {
		ok := td.EqDeeply(got, want)
		if !ok {
			t.Logf("(measure) %s: got %v", what, got)
		}
		return ok
	}
	return td.Cmp(t, got, want, what)
}

// scale picks the default or the -hostile.long value.
func scale(short, full int) int {
	if *long {
		return full
	}
	return short
}

// upstream is the Deepgram emulator on a fixed loopback port, stopped and
// started again on the same port to play an upstream restart.
type upstream struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	emu  *emulate.Server
	hs   *http.Server
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	td.Require(t).CmpNoError(err)
	u := &upstream{t: t, addr: ln.Addr().String()}
	u.serve(ln)
	t.Cleanup(u.stop)
	return u
}

func (u *upstream) serve(ln net.Listener) {
	emu, err := emulate.NewServer(emulate.Config{APIKey: upstreamKey}, nil)
	td.Require(u.t).CmpNoError(err)
	hs := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	u.mu.Lock()
	u.emu, u.hs = emu, hs
	u.mu.Unlock()
}

// url is the emulator's listen URL.
func (u *upstream) url() string { return "ws://" + u.addr + "/v1/listen" }

// stop ends every stream (close 1001) and closes the port: new dials are
// refused (connection refused) until start.
func (u *upstream) stop() {
	u.mu.Lock()
	emu, hs := u.emu, u.hs
	u.emu, u.hs = nil, nil
	u.mu.Unlock()
	if emu == nil {
		return
	}
	_ = hs.Close()
	_ = emu.Close()
}

// start listens on the same port again.
func (u *upstream) start() {
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment
		if ln, err = net.Listen("tcp", u.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	td.Require(u.t).CmpNoError(err)
	u.serve(ln)
}

// accepted is the streams the emulator accepted since its last start.
func (u *upstream) accepted() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.emu == nil {
		return 0
	}
	return u.emu.Stats().Accepted
}

// gateway is a running earshot serve.
type gateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs []string
}

var addrRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// startGateway runs earshot serve against up with env (EARSHOT_...
// settings) and at most nofile open descriptors (0: inherited).
func startGateway(t *testing.T, up *upstream, nofile int, env ...string) *gateway {
	t.Helper()
	args := []string{earshotBin, "serve"}
	if nofile > 0 {
		args = append([]string{"sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"EARSHOT_ADDR=127.0.0.1:0", "EARSHOT_API_KEYS="+clientKey, "EARSHOT_STT=deepgram",
		"DEEPGRAM_URL="+up.url(), "DEEPGRAM_API_KEY="+upstreamKey, "EARSHOT_VAD_GATE=off",
		"EARSHOT_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	td.Require(t).CmpNoError(err)
	td.Require(t).CmpNoError(cmd.Start())
	g := &gateway{t: t, cmd: cmd}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			g.mu.Lock()
			g.logs = append(g.logs, line)
			g.mu.Unlock()
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case g.addr = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("earshot did not report its address:\n%s", strings.Join(g.lines(""), "\n"))
	}
	return g
}

// lines returns the log lines logged so far that contain s.
func (g *gateway) lines(s string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, l := range g.logs {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// listenURL is the /v4/listen URL with query.
func (g *gateway) listenURL(query string) string {
	return "ws://" + g.addr + "/v4/listen?" + query
}

// fds counts the gateway's open descriptors.
func (g *gateway) fds() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", g.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// rssBytes is the gateway's resident memory.
func (g *gateway) rssBytes() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// get makes one request on a fresh connection, within 5 s; the status,
// or 0 and the error.
func (g *gateway) get(path string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + g.addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// metric is one sample of /metrics by its full name, or -1 if it is not
// there (an older build) or /metrics did not answer.
func (g *gateway) metric(name string) float64 {
	code, body, err := g.get("/metrics")
	if err != nil || code != http.StatusOK {
		return -1
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// sessionsEnded is how many "session ended" lines the gateway logged.
func (g *gateway) sessionsEnded() int { return len(g.lines(`msg="session ended"`)) }

// waitFor polls cond every 20 ms for at most d; it reports whether cond
// came true.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawListen opens a /v4/listen session with query by hand (rawws), for
// clients that break the protocol, over a connection from d (nil: a
// plain one). The connection is closed at the test's end.
func (g *gateway) rawListen(t *testing.T, d *net.Dialer, query string) *rawws.Conn {
	t.Helper()
	if d == nil {
		d = &net.Dialer{Timeout: 5 * time.Second}
	}
	nc, err := d.DialContext(context.Background(), "tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	c, err := rawws.Handshake(nc, g.addr, "/v4/listen?"+query, http.Header{"Authorization": {"Bearer " + clientKey}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctxFor is a context that ends after d, cancelled at the test's end.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
