package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"earshot/protocol/pusher"
)

// recovered counts what recover found.
type recovered struct {
	staged, committed, skipped int
}

// recover repairs what a previous process left in the staging directory
// (creating the directories first), before any connection: half-built
// staging directories are removed; a staged conversation loses a torn
// write's odd trailing byte of audio.pcm and partial last JSONL line,
// and a leftover scratch audio.wav or meta.json.tmp; a prepared one (the
// WAV and the final meta synced, audio.pcm removed) is renamed into
// place. What it cannot make sense of is logged and left alone;
// connections then fail on that conversation (reason "unreadable").
// Everything else (samples written, StartUnix, counters) is read back
// from the files when a connection uses the conversation again.
func (s *store) recover() (recovered, error) {
	var rc recovered
	if err := os.MkdirAll(s.staging, dirMode); err != nil {
		return rc, fmt.Errorf("create %s: %w", s.staging, err)
	}
	entries, err := os.ReadDir(s.staging)
	if err != nil {
		return rc, fmt.Errorf("read %s: %w", s.staging, err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(s.staging, name)
		switch {
		case strings.HasPrefix(name, newDirPrefix):
			if err := os.RemoveAll(path); err != nil {
				return rc, fmt.Errorf("remove %s: %w", path, err)
			}
			continue
		case !e.IsDir() || !pusher.ValidConversationID(name):
			s.log.Warn("record: unexpected entry in the staging directory, left alone", "name", name)
			rc.skipped++
			continue
		}
		committed, err := s.repair(name)
		switch {
		case errors.Is(err, ErrCorrupt):
			s.log.Error("record: staged conversation left alone", "conversation_id", name, "err", err)
			rc.skipped++
		case err != nil:
			return rc, fmt.Errorf("recover %s: %w", name, err)
		case committed:
			rc.committed++
		default:
			rc.staged++
		}
	}
	return rc, nil
}

// repair repairs staged conversation id (see recover); committed tells
// that it was prepared and is now finished.
func (s *store) repair(id string) (committed bool, err error) {
	dir := filepath.Join(s.staging, id)
	if err := os.Remove(filepath.Join(dir, fileMeta+tmpSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	m, err := readMeta(dir, id)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("%w: staging %s has no %s", ErrCorrupt, id, fileMeta)
	}
	if err != nil {
		return false, err
	}
	pcmPath := filepath.Join(dir, filePCM)
	st, err := os.Stat(pcmPath)
	if errors.Is(err, fs.ErrNotExist) {
		return s.commitPrepared(id, m)
	}
	if err != nil {
		return false, err
	}
	if st.Size()%2 != 0 {
		if err := os.Truncate(pcmPath, st.Size()-1); err != nil {
			return false, err
		}
	}
	if err := os.Remove(filepath.Join(dir, fileWAV)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	for _, name := range []string{fileSegments, fileSpeakers} {
		if err := trimPartialLine(filepath.Join(dir, name)); err != nil {
			return false, fmt.Errorf("trim %s: %w", name, err)
		}
	}
	return false, nil
}

// commitPrepared renames prepared conversation id into place.
func (s *store) commitPrepared(id string, m Meta) (bool, error) {
	dir := filepath.Join(s.staging, id)
	wav, err := exists(filepath.Join(dir, fileWAV))
	if err != nil {
		return false, err
	}
	if m.FinishedAt.IsZero() || !wav {
		return false, fmt.Errorf("%w: staging %s has no %s and is not prepared", ErrCorrupt, id, filePCM)
	}
	dup, err := exists(filepath.Join(s.root, id))
	if err != nil {
		return false, err
	}
	if dup {
		return false, fmt.Errorf("%w: %s is both prepared and finished", ErrCorrupt, id)
	}
	c := &conv{id: id, st: s, state: stPrepared, meta: m, loaded: true}
	if err := c.commit(); err != nil {
		return false, err
	}
	return true, nil
}
