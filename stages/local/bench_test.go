//go:build pocketsphinx

package local_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/testfix"
	"earshot/stages/local"
)

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	td.Require(b).CmpNoError(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchDecode decodes clips (streamed in 100 ms frames) b.N times on one
// reused decoder and reports CPU seconds per audio second and the speed
// relative to real time (on one core: decoding runs in the caller's
// goroutine).
func benchDecode(b *testing.B, clips []clip) {
	p := testfix.LocalProvider(b, local.Config{PoolSize: 1})
	var audio float64
	for _, c := range clips {
		audio += c.seconds()
	}
	b.ResetTimer()
	cpu0, wall0 := cpuSeconds(b), time.Now()
	for b.Loop() {
		for _, c := range clips {
			decode(b, p, c.rate, c.pcm, frameBytes(c.rate, 100))
		}
	}
	cpu, wall := cpuSeconds(b)-cpu0, time.Since(wall0).Seconds()
	total := audio * float64(b.N)
	b.ReportMetric(cpu/total, "cpu-s/audio-s")
	b.ReportMetric(total/wall, "x-realtime")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDecodeSpeech: the shared real-speech clips (40.5 s, nearly all
// speech).
func BenchmarkDecodeSpeech(b *testing.B) {
	benchDecode(b, loadClips(b, testfix.SpeechDir(b)))
}

// BenchmarkDecodeSpeech8k: the same taken down to 8 kHz (resampling and
// the narrowband fill on top).
func BenchmarkDecodeSpeech8k(b *testing.B) {
	clips := loadClips(b, testfix.SpeechDir(b))
	for i := range clips {
		clips[i].pcm, clips[i].rate = downsample2(clips[i].pcm), 8000
	}
	benchDecode(b, clips)
}

// BenchmarkDecodeSilence: 30 s of faint noise, which the stream does not
// decode.
func BenchmarkDecodeSilence(b *testing.B) {
	pcm := make([]byte, 2*30*16000)
	for i := 0; i < len(pcm); i += 2 {
		v := int16((i*7919)%61 - 30)
		pcm[i], pcm[i+1] = byte(v), byte(uint16(v)>>8)
	}
	benchDecode(b, []clip{{name: "silence", rate: 16000, pcm: pcm}})
}

// rssMiB is the process's resident memory.
func rssMiB(b testing.TB) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	td.Require(b).CmpNoError(err)
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			td.Require(b).CmpNoError(err)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// memChildEnv makes TestDecoderMemoryChild measure (in a process of its
// own: memory that C frees stays in the process, so a second measurement
// in one process would see it reused).
const memChildEnv = "EARSHOT_LOCAL_MEM_CHILD"

// TestDecoderMemoryChild loads $EARSHOT_LOCAL_MEM_CHILD decoders, has
// every one decode a clip, and prints the resident memory before, after
// loading and after decoding. BenchmarkDecoderMemory runs it.
func TestDecoderMemoryChild(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(memChildEnv))
	if err != nil {
		t.Skip("run by BenchmarkDecoderMemory")
	}
	c := clipNamed(t, "librivox_0870.wav")
	runtime.GC()
	before := rssMiB(t)
	start := time.Now()
	p, err := local.New(local.Config{ModelDir: testfix.ModelDir(t), PoolSize: n}, quiet)
	td.Require(t).CmpNoError(err)
	load := time.Since(start)
	loaded := rssMiB(t)
	for range n { // every decoder in use at once
		s, err := p.Dial(t.Context(), streamConfig(c.rate))
		td.Require(t).CmpNoError(err)
		td.Require(t).CmpNoError(s.SendAudio(t.Context(), c.pcm))
		defer s.Close()
	}
	fmt.Printf("MEM %f %f %f %f\n", before, loaded, rssMiB(t), load.Seconds())
}

// BenchmarkDecoderMemory reports the resident memory of a decoder,
// loaded and after use, from fresh processes with 1 and 4 decoders (the
// difference, per decoder, leaves out what the process has anyway), and
// the load time per decoder.
func BenchmarkDecoderMemory(b *testing.B) {
	measure := func(n int) (loaded, used, load float64) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDecoderMemoryChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), memChildEnv+"="+strconv.Itoa(n))
		out, err := cmd.CombinedOutput()
		td.Require(b).CmpNoError(err, "%s", out)
		var before float64
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "MEM "); ok {
				_, err := fmt.Sscan(rest, &before, &loaded, &used, &load)
				td.Require(b).CmpNoError(err)
				return loaded - before, used - before, load / float64(n)
			}
		}
		b.Fatalf("no measurement in %s", out)
		return 0, 0, 0
	}
	var loaded, used, load float64
	for b.Loop() {
		l1, u1, _ := measure(1)
		l4, u4, t4 := measure(4)
		loaded, used, load = (l4-l1)/3, (u4-u1)/3, t4
	}
	b.ReportMetric(loaded, "MiB/decoder-loaded")
	b.ReportMetric(used, "MiB/decoder-used")
	b.ReportMetric(load, "s/decoder-load")
	b.ReportMetric(0, "ns/op")
}
