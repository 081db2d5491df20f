package stagestest

import (
	"encoding/binary"

	"earshot/stages"
)

// Stretch is a run of speech (loud samples) or silence (quiet ones) in a
// scripted capture.
type Stretch struct {
	Speech bool
	Ms     int
}

// Speech is ms of loud samples.
func Speech(ms int) Stretch { return Stretch{true, ms} }

// Silence is ms of quiet samples.
func Silence(ms int) Stretch { return Stretch{false, ms} }

// Capture renders stretches at rateHz as PCM. Speech samples are 8000 +
// i%1000 (loud), silence samples i%1000 (quiet, under the fake Detector's
// level), so that every sample sent can be traced back to its place.
func Capture(rateHz int, script ...Stretch) []byte {
	var b []byte
	i := 0
	for _, s := range script {
		for range s.Ms * rateHz / 1000 {
			v := i % 1000
			if s.Speech {
				v += 8000
			}
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
			i++
		}
	}
	return b
}

// Cut slices src into frames of the given sizes in samples, used in turn,
// placed on the capture clock from 0; each frame owns a copy of its bytes.
func Cut(src []byte, rateHz int, sizes ...int) []stages.Audio {
	var frames []stages.Audio
	for i, at := 0, 0; at < len(src)/2; i++ {
		n := min(sizes[i%len(sizes)], len(src)/2-at)
		frames = append(frames, stages.Audio{
			PCM:   append([]byte(nil), src[2*at:2*(at+n)]...),
			Start: int64(at), SampleRateHz: rateHz,
		})
		at += n
	}
	return frames
}
