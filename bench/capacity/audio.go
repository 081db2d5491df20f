package main

import (
	"fmt"
	"math"
	"os"

	"earshot/client"
)

// conversation is the audio every session streams, looped.
type conversation struct {
	PCM []byte // whole frames
	// Plan is the recording's 100 ms frame behind each frame of PCM (see
	// stretchPlan).
	Plan []int `json:"-"`
	// Seconds of audio, and the share of its frames below the quiet
	// level (pauses and the noise floor).
	Seconds      float64
	QuietShare   float64
	Pauses       int // pauses stretched
	SourceFile   string
	PauseSeconds float64
}

// quietDBFS: a frame whose RMS is below this is quiet (the demo's noise
// floor is about -56 dBFS, its speech louder than -35 dBFS).
const quietDBFS = -45

// loadConversation reads the demo conversation (8 sentences, 1.0 s apart)
// and stretches every pause of at least minPause frames to pauseFrames,
// repeating the pause's own noise: see stretchPauses.
func loadConversation(path string, pauseFrames int) (*conversation, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := client.ParseWAV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pcm := client.Prepare(w, sampleRate)
	plan, pauses := stretchPlan(pcm, 5, pauseFrames)
	out := make([]byte, 0, len(plan)*frameBytes)
	for _, f := range plan {
		out = append(out, pcm[f*frameBytes:(f+1)*frameBytes]...)
	}
	quiet := 0
	for f := range len(out) / frameBytes {
		if frameDBFS(out[f*frameBytes:(f+1)*frameBytes]) < quietDBFS {
			quiet++
		}
	}
	n := len(out) / frameBytes
	return &conversation{
		PCM: out, Plan: plan, Seconds: float64(n) * frameMs / 1000, QuietShare: float64(quiet) / float64(n),
		Pauses: pauses, SourceFile: path, PauseSeconds: float64(pauseFrames) * frameMs / 1000,
	}, nil
}

// stretchPauses cuts pcm into whole frames, rotates it to start at its
// first loud frame (so that the trailing and leading silences of the
// recording make one pause of the loop), and stretches every run of at
// least minRun quiet frames to pauseFrames by repeating the run's frames.
// It is stretchPlan applied to pcm's frames.
//
// Why: the VAD gate (300 ms pre-roll, 700 ms hangover) holds back frames
// after a pause and sends them with the next speech onset. After a pause
// longer than hangover + pre-roll it has also dropped frames, which leaves
// a gap in the frame sequence upstream, so the frames it held (the first
// pre-roll's worth after the gap) are known exactly and measured apart. A
// pause of 1.0 s, as in the demo, would hold frames without a gap.
func stretchPauses(pcm []byte, minRun, pauseFrames int) (out []byte, pauses int) {
	order, pauses := stretchPlan(pcm, minRun, pauseFrames)
	out = make([]byte, 0, len(order)*frameBytes)
	for _, f := range order {
		out = append(out, pcm[f*frameBytes:(f+1)*frameBytes]...)
	}
	return out, pauses
}

// stretchPlan is the frame order stretchPauses makes of pcm's whole
// frames (frameBytes each): the index in pcm of every frame of the
// stretched loop, in order, and the count of pauses stretched. The plan
// applies as well to anything cut on the same 100 ms grid (the packets
// of a fixture encoded from the same recording: see planPackets). All
// quiet, it is every whole frame in order.
func stretchPlan(pcm []byte, minRun, pauseFrames int) (order []int, pauses int) {
	n := len(pcm) / frameBytes
	quiet := make([]bool, n)
	first := -1
	for f := range n {
		quiet[f] = frameDBFS(pcm[f*frameBytes:(f+1)*frameBytes]) < quietDBFS
		if !quiet[f] && first < 0 {
			first = f
		}
	}
	rot := make([]int, 0, n)
	for k := range n {
		rot = append(rot, (max(first, 0)+k)%n)
	}
	if first < 0 {
		return rot, 0
	}
	order = make([]int, 0, 2*n)
	for k := 0; k < n; {
		if !quiet[rot[k]] {
			order = append(order, rot[k])
			k++
			continue
		}
		end := k
		for end < n && quiet[rot[end]] {
			end++
		}
		run := rot[k:end]
		total := len(run)
		if len(run) >= minRun && len(run) < pauseFrames {
			total = pauseFrames
			pauses++
		}
		for j := range total {
			order = append(order, run[j%len(run)])
		}
		k = end
	}
	return order, pauses
}

// frameDBFS is the RMS level of 16-bit little-endian PCM in dBFS.
func frameDBFS(pcm []byte) float64 {
	var sum float64
	n := len(pcm) / 2
	for i := range n {
		v := float64(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
		sum += v * v
	}
	if n == 0 || sum == 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(math.Sqrt(sum/float64(n))/32768)
}
