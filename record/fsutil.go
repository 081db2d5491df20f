package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Modes of what the Recorder creates: recordings are private.
const (
	dirMode  = 0o750
	fileMode = 0o640
)

// File names inside a conversation's directory.
const (
	stagingDirName = ".staging"
	fileMeta       = "meta.json"
	filePCM        = "audio.pcm" // staging only: the raw samples so far
	fileWAV        = "audio.wav" // finished only (a scratch copy while finishing)
	fileSegments   = "segments.jsonl"
	fileSpeakers   = "speakers.jsonl"
	tmpSuffix      = ".tmp"
	newDirPrefix   = ".new-" // a staging directory being created
)

// Meta is a conversation's meta.json. In a staging directory it holds
// only what was fixed when the conversation was staged or first got
// audio (ConversationID, UID, SampleRate, StartUnix) and the counters
// GapSamples and DuplicateSamples; a finished conversation's has every
// field. Samples is the WAV's sample count; DurationSec is Samples
// divided by SampleRate.
type Meta struct {
	// ConversationID is the conversation's id (its directory's name).
	ConversationID string `json:"conversation_id"`
	// UID is the user id of the connection that staged it.
	UID string `json:"uid"`
	// SampleRate of the audio, in Hz (the staging connection's).
	SampleRate int `json:"sample_rate"`
	// Language as the 104 that finished the conversation named it.
	Language string `json:"language"`
	// StartUnix is the unix time in seconds of the WAV's first sample:
	// the start time of the conversation's first audio frame (0 when it
	// had no audio).
	StartUnix float64 `json:"start_unix"`
	// Samples is the number of PCM16 samples in the WAV, padding included.
	Samples int64 `json:"samples"`
	// DurationSec is Samples / SampleRate.
	DurationSec float64 `json:"duration_sec"`
	// GapSamples counts zero samples padded in for audio the sender never
	// delivered.
	GapSamples int64 `json:"gap_samples"`
	// DuplicateSamples counts received samples skipped because audio for
	// their time was already written (re-sent audio).
	DuplicateSamples int64 `json:"duplicate_samples"`
	// SegmentLines counts the lines of segments.jsonl.
	SegmentLines int `json:"segment_lines"`
	// FinishedAt is when the conversation was finalized (UTC); zero in a
	// staging meta.json.
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// writeFileAtomic replaces path with data through path+".tmp" and a
// rename, so that a reader (or a restart) sees the old or the new
// content, never a mix. With sync it fsyncs the file before the rename
// (the caller fsyncs the directory when the rename itself must last).
func writeFileAtomic(path string, data []byte, sync bool) (err error) {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeMeta writes m as dir's meta.json (see writeFileAtomic).
func writeMeta(dir string, m *Meta, sync bool) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meta: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, fileMeta), append(b, '\n'), sync); err != nil {
		return fmt.Errorf("write meta: %w", err)
	}
	return nil
}

// readMeta reads dir's meta.json. A file that does not parse, or names
// another conversation than id, wraps ErrCorrupt; a missing one
// fs.ErrNotExist.
func readMeta(dir, id string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(dir, fileMeta))
	if err != nil {
		return m, fmt.Errorf("read meta: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s/%s: %w", ErrCorrupt, id, fileMeta, err)
	}
	if m.ConversationID != id {
		return m, fmt.Errorf("%w: %s/%s names conversation %q", ErrCorrupt, id, fileMeta, m.ConversationID)
	}
	return m, nil
}

// syncPath fsyncs a file or directory by name.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	return nil
}

// fileSize is path's size, 0 when it does not exist.
func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// exists reports whether path exists; other errors than fs.ErrNotExist
// are returned.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// trimPartialLine truncates path after its last '\n' (a line cut short by
// a crash); a missing file is left missing.
func trimPartialLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	buf := make([]byte, 32<<10)
	for pos := end; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if keep := pos + i + 1; keep != end {
					return f.Truncate(keep)
				}
				return nil
			}
		}
	}
	if end == 0 {
		return nil
	}
	return f.Truncate(0)
}

// countLines counts the '\n' of path (0 when it does not exist).
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, 32<<10)
	lines := 0
	for {
		n, err := f.Read(buf)
		for _, c := range buf[:n] {
			if c == '\n' {
				lines++
			}
		}
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}
