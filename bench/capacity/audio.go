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
	out, pauses := stretchPauses(pcm, 5, pauseFrames)
	quiet := 0
	for f := range len(out) / frameBytes {
		if frameDBFS(out[f*frameBytes:(f+1)*frameBytes]) < quietDBFS {
			quiet++
		}
	}
	n := len(out) / frameBytes
	return &conversation{
		PCM: out, Seconds: float64(n) * frameMs / 1000, QuietShare: float64(quiet) / float64(n),
		Pauses: pauses, SourceFile: path, PauseSeconds: float64(pauseFrames) * frameMs / 1000,
	}, nil
}

// stretchPauses cuts pcm into whole frames, rotates it to start at its
// first loud frame (so that the trailing and leading silences of the
// recording make one pause of the loop), and stretches every run of at
// least minRun quiet frames to pauseFrames by repeating the run's frames.
//
// Why: the VAD gate (300 ms pre-roll, 700 ms hangover) holds back frames
// after a pause and sends them with the next speech onset. After a pause
// longer than hangover + pre-roll it has also dropped frames, which leaves
// a gap in the frame sequence upstream, so the frames it held (the first
// pre-roll's worth after the gap) are known exactly and measured apart. A
// pause of 1.0 s, as in the demo, would hold frames without a gap.
func stretchPauses(pcm []byte, minRun, pauseFrames int) (out []byte, pauses int) {
	n := len(pcm) / frameBytes
	frame := func(f int) []byte { return pcm[f*frameBytes : (f+1)*frameBytes] }
	quiet := make([]bool, n)
	first := -1
	for f := range n {
		quiet[f] = frameDBFS(frame(f)) < quietDBFS
		if !quiet[f] && first < 0 {
			first = f
		}
	}
	if first < 0 {
		return pcm[:n*frameBytes], 0
	}
	order := make([]int, 0, n)
	for k := range n {
		order = append(order, (first+k)%n)
	}
	out = make([]byte, 0, len(pcm)*2)
	for k := 0; k < n; {
		if !quiet[order[k]] {
			out = append(out, frame(order[k])...)
			k++
			continue
		}
		end := k
		for end < n && quiet[order[end]] {
			end++
		}
		run := order[k:end]
		total := len(run)
		if len(run) >= minRun && len(run) < pauseFrames {
			total = pauseFrames
			pauses++
		}
		for j := range total {
			out = append(out, frame(run[j%len(run)])...)
		}
		k = end
	}
	return out, pauses
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
