package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// finish finalizes the conversation for w, as a 104 asks, and returns
// its meta once it is durably DIR/<id>/ (again tells that an earlier 104
// had finished it), or the error that stopped it (ErrOwner for another
// uid's conversation). A conversation with
// nothing staged is finished empty. Steps, each fsynced before the next,
// so that a crash anywhere leaves a staged, a prepared or a finished
// conversation (see recover):
//
//  1. audio.wav (header + audio.pcm), segments.jsonl, speakers.jsonl and
//     the final meta.json in the staging directory;
//  2. audio.pcm removed (the conversation is now "prepared");
//  3. the staging directory renamed to DIR/<id>, and both parents synced.
func (c *conv) finish(w who, language string) (m Meta, again bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ensure(); err != nil {
		return m, false, err
	}
	if c.state != stNew && c.meta.UID != w.uid {
		return m, false, fmt.Errorf("%w: conversation %s", ErrOwner, c.id)
	}
	switch c.state {
	case stFinished:
		if !c.durable {
			if err := c.syncParents(); err != nil {
				return m, false, err
			}
		}
		return c.meta, true, nil
	case stNew:
		if err := c.stage(w); err != nil {
			return m, false, err
		}
		fallthrough
	case stStaged:
		if err := c.prepare(language); err != nil {
			return m, false, fmt.Errorf("finish %s: %w", c.id, err)
		}
	}
	if err := c.commit(); err != nil {
		return m, false, fmt.Errorf("finish %s: %w", c.id, err)
	}
	return c.meta, false, nil
}

// prepare is step 1 and 2 of finish (mu held, state stStaged).
func (c *conv) prepare(language string) error {
	dir := c.stagingDir()
	if err := c.writeWAV(dir); err != nil {
		return err
	}
	// Sync through fresh handles: an open one may be missing (never
	// written) and the files may not exist (speakers.jsonl).
	for _, name := range []string{fileSegments, fileSpeakers} {
		if err := syncPath(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	lines, err := countLines(filepath.Join(dir, fileSegments))
	if err != nil {
		return fmt.Errorf("count segment lines: %w", err)
	}
	m := c.meta
	m.Language = language
	m.Samples = c.written
	m.DurationSec = float64(c.written) / float64(m.SampleRate)
	m.SegmentLines = lines
	m.FinishedAt = time.Now().UTC()
	if err := writeMeta(dir, &m, true); err != nil {
		return err
	}
	c.closeFiles()
	if err := os.Remove(filepath.Join(dir, filePCM)); err != nil {
		return fmt.Errorf("remove %s: %w", filePCM, err)
	}
	c.state, c.meta = stPrepared, m
	return syncPath(dir)
}

// commit is step 3 of finish (mu held, state stPrepared).
func (c *conv) commit() error {
	if err := os.Rename(c.stagingDir(), c.finalDir()); err != nil {
		return err
	}
	c.state = stFinished
	return c.syncParents()
}

// syncParents fsyncs the directories a commit renamed between (mu held).
func (c *conv) syncParents() error {
	if err := syncPath(c.st.staging); err != nil {
		return err
	}
	if err := syncPath(c.st.root); err != nil {
		return err
	}
	c.durable = true
	return nil
}
