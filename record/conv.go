package record

import (
	"fmt"
	"math"
)

// writable readies the conversation to take data from w (mu held): it
// is loaded, staged if new, still staged, and w's (its uid, and with
// rate its sample rate too). A reason says why the data must be
// dropped; an error is a disk error.
func (c *conv) writable(w who, rate bool) (dropReason, error) {
	if err := c.ensure(); err != nil {
		return dropUnreadable, err
	}
	switch c.state {
	case stNew:
		if err := c.stage(w); err != nil {
			return dropDiskError, err
		}
	case stPrepared, stFinished:
		return dropFinished, errFinished
	}
	if c.meta.UID != w.uid || rate && c.meta.SampleRate != w.rate {
		return dropOwner, fmt.Errorf("%w: conversation %s", ErrOwner, c.id)
	}
	return "", nil
}

// appendAudio places pcm (mono PCM16 little-endian, an even number of
// bytes) whose first sample was captured at unix time t (seconds) in the
// conversation's audio, for w. The first audio of a conversation fixes
// its StartUnix; a sample's index is then round((t−StartUnix)×rate)
// plus its offset in pcm. Samples before the end of the audio written so
// far are skipped (re-sent audio: DuplicateSamples); a frame that starts
// after it is preceded by zeros (audio the sender lost: GapSamples),
// unless that gap exceeds MaxGapSec. On a reason the frame left no trace
// on disk.
func (c *conv) appendAudio(w who, t float64, pcm []byte) (dropReason, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, err := c.writable(w, true); r != "" {
		return r, err
	}
	n := int64(len(pcm) / 2)
	if n == 0 {
		return "", nil
	}
	rate := float64(c.meta.SampleRate)
	if c.meta.StartUnix == 0 {
		// Written before any sample, so that a restart finds the start
		// of every sample in audio.pcm. (written is 0 unless a previous
		// meta update was lost; keep the samples where they are.)
		m := c.meta
		m.StartUnix = t - float64(c.written)/rate
		if err := writeMeta(c.stagingDir(), &m, true); err != nil {
			return dropDiskError, err
		}
		c.meta = m
	}
	// Placement in float64 first: t is any finite positive number, so
	// pos may be huge or -Inf; it is an int64 only once bounded.
	pos := math.Round((t - c.meta.StartUnix) * rate)
	if pos > float64(c.written)+float64(c.st.maxGap)*rate {
		return dropGapTooLarge, nil
	}
	if pos+float64(n) <= float64(c.written) {
		c.count(0, n)
		return "", nil
	}
	at := int64(pos)
	var pad, skip int64
	if at > c.written {
		pad = at - c.written
	} else {
		skip = c.written - at
	}
	end := c.written + pad + n - skip
	if end*2 > maxDataBytes {
		return dropTooLong, fmt.Errorf("%w: conversation %s", ErrTooLong, c.id)
	}
	f, err := c.open(&c.pcm, filePCM)
	if err != nil {
		return dropDiskError, err
	}
	// The padding is a hole (zeros) made by WriteAt past the end; on a
	// failed write the file is cut back to the samples accounted for.
	if _, err := f.WriteAt(pcm[skip*2:], (c.written+pad)*2); err != nil {
		if terr := f.Truncate(c.written * 2); terr != nil {
			c.loaded = false // reload the size from disk next time
		}
		return dropDiskError, fmt.Errorf("write audio of %s: %w", c.id, err)
	}
	c.written = end
	c.count(pad, skip)
	return "", nil
}

// count adds to the gap and duplicate counters and, when they changed,
// records them in the staging meta.json (mu held). The audio is already
// written: a failed update only loses counts across a restart, so it is
// logged, not returned.
func (c *conv) count(gap, dup int64) {
	if gap == 0 && dup == 0 {
		return
	}
	c.meta.GapSamples += gap
	c.meta.DuplicateSamples += dup
	if err := writeMeta(c.stagingDir(), &c.meta, false); err != nil {
		c.st.log.Warn("record: updating a staging meta", "conversation_id", c.id, "err", err)
	}
}

// appendLines appends lines (each a compact JSON object ending in '\n')
// to the conversation's segments.jsonl, or with speakers to its
// speakers.jsonl, for w. On a reason nothing was appended.
func (c *conv) appendLines(w who, lines []byte, speakers bool) (dropReason, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, err := c.writable(w, false); r != "" {
		return r, err
	}
	fp, name, size := &c.segs, fileSegments, &c.segBytes
	if speakers {
		fp, name, size = &c.spks, fileSpeakers, &c.spkBytes
	}
	f, err := c.open(fp, name)
	if err != nil {
		return dropDiskError, err
	}
	if _, err := f.WriteAt(lines, *size); err != nil {
		if terr := f.Truncate(*size); terr != nil {
			c.loaded = false
		}
		return dropDiskError, fmt.Errorf("append to %s of %s: %w", name, c.id, err)
	}
	*size += int64(len(lines))
	return "", nil
}
