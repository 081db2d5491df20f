package record

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// state is where a conversation is on disk.
type state int

const (
	stNew      state = iota // nothing on disk yet
	stStaged                // DIR/.staging/<id>/ with audio.pcm
	stPrepared              // the staging directory holds the finished files; the rename is pending
	stFinished              // DIR/<id>/ exists
)

// store is the set of conversations connections are using. Each
// conversation has one *conv at a time, shared by the connections that
// use it and dropped (its files closed) when the last one releases it;
// its state is reloaded from disk when it is needed again. It is safe
// for concurrent use.
type store struct {
	root    string // Config.Dir
	staging string // root/.staging
	maxGap  int    // Config.MaxGapSec
	log     *slog.Logger

	mu    sync.Mutex
	convs map[string]*conv
}

// who is the connection writing to a conversation: the conversation
// takes its uid and sample rate when it is staged, and refuses others.
type who struct {
	uid  string
	rate int
}

// conv is one conversation in use, shared by the connections that hold
// a reference. appendAudio, appendLines and finish take mu, so that those
// connections serialize their disk work; the helpers marked "mu held"
// expect it taken. refs is the store's.
type conv struct {
	id string
	st *store

	refs int // guarded by st.mu

	mu       sync.Mutex
	loaded   bool
	state    state
	durable  bool  // stFinished: the rename and its directories are fsynced
	meta     Meta  // staging fields, or the whole finished meta
	written  int64 // samples in audio.pcm
	segBytes int64 // size of segments.jsonl
	spkBytes int64 // size of speakers.jsonl
	// Open while the conversation is staged and in use; closed by
	// release and when it is finished.
	pcm, segs, spks *os.File
}

func newStore(root string, maxGapSec int, log *slog.Logger) *store {
	return &store{
		root: root, staging: filepath.Join(root, stagingDirName), maxGap: maxGapSec, log: log,
		convs: map[string]*conv{},
	}
}

// acquire returns id's conversation (a valid id) with a reference the
// caller must release.
func (s *store) acquire(id string) *conv {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[id]
	if c == nil {
		c = &conv{id: id, st: s}
		s.convs[id] = c
	}
	c.refs++
	return c
}

// release drops a reference from acquire; the last one closes the
// conversation's files and forgets it.
func (s *store) release(c *conv) {
	s.mu.Lock()
	c.refs--
	last := c.refs == 0
	if last {
		delete(s.convs, c.id)
	}
	s.mu.Unlock()
	if last {
		c.mu.Lock()
		c.closeFiles()
		c.mu.Unlock()
	}
}

// inUse is the number of conversations some connection holds.
func (s *store) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}

func (c *conv) stagingDir() string { return filepath.Join(c.st.staging, c.id) }
func (c *conv) finalDir() string   { return filepath.Join(c.st.root, c.id) }

// closeFiles closes the open handles (mu held). Nothing was written
// through them that is not also accounted for, so close errors only
// matter to finish, which syncs first.
func (c *conv) closeFiles() {
	for _, f := range []**os.File{&c.pcm, &c.segs, &c.spks} {
		if *f != nil {
			_ = (*f).Close()
			*f = nil
		}
	}
}

// ensure loads the conversation's state from disk once (mu held): a
// finished directory wins over a staging one. A failed load is retried
// by the next call.
func (c *conv) ensure() error {
	if c.loaded {
		return nil
	}
	if err := c.load(); err != nil {
		return fmt.Errorf("load conversation %s: %w", c.id, err)
	}
	c.loaded = true
	return nil
}

func (c *conv) load() error {
	fin, err := exists(c.finalDir())
	if err != nil {
		return err
	}
	if fin {
		m, err := readMeta(c.finalDir(), c.id)
		if err != nil {
			return err
		}
		c.state, c.meta, c.written = stFinished, m, m.Samples
		return nil
	}
	dir := c.stagingDir()
	staged, err := exists(dir)
	if err != nil || !staged {
		c.state = stNew
		return err
	}
	m, err := readMeta(dir, c.id)
	if err != nil {
		return err
	}
	pcm, err := os.Stat(filepath.Join(dir, filePCM))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if pcm == nil {
		// finish removed audio.pcm only after the WAV and the final meta
		// were synced; the rename is all that is left.
		if m.FinishedAt.IsZero() {
			return fmt.Errorf("%w: staged %s has neither %s nor a finished meta", ErrCorrupt, c.id, filePCM)
		}
		c.state, c.meta, c.written = stPrepared, m, m.Samples
		return nil
	}
	if c.segBytes, err = fileSize(filepath.Join(dir, fileSegments)); err != nil {
		return err
	}
	if c.spkBytes, err = fileSize(filepath.Join(dir, fileSpeakers)); err != nil {
		return err
	}
	// An odd trailing byte (a torn write) is ignored here and cut by
	// the next append or by New's recovery.
	c.state, c.meta, c.written = stStaged, m, pcm.Size()/2
	c.meta.FinishedAt, c.meta.Language = time.Time{}, ""
	return nil
}

// stage creates the staging directory of a new conversation (mu held,
// state stNew) for w: it is built under a temporary name (meta.json,
// an empty audio.pcm and segments.jsonl, synced) and renamed into place,
// so that a staging directory is always whole.
func (c *conv) stage(w who) (err error) {
	tmp, err := os.MkdirTemp(c.st.staging, newDirPrefix+c.id+"-")
	if err != nil {
		return fmt.Errorf("stage %s: %w", c.id, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
			err = fmt.Errorf("stage %s: %w", c.id, err)
		}
	}()
	if err := os.Chmod(tmp, dirMode); err != nil {
		return err
	}
	m := Meta{ConversationID: c.id, UID: w.uid, SampleRate: w.rate}
	if err := writeMeta(tmp, &m, true); err != nil {
		return err
	}
	for _, name := range []string{filePCM, fileSegments} {
		f, err := os.OpenFile(filepath.Join(tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if err := syncPath(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.stagingDir()); err != nil {
		return err
	}
	if err := syncPath(c.st.staging); err != nil {
		return err
	}
	c.state, c.meta, c.written, c.segBytes, c.spkBytes = stStaged, m, 0, 0, 0
	return nil
}

// open returns the handle *f of the staging file name, opening it (and
// creating it) when needed (mu held, state stStaged).
func (c *conv) open(f **os.File, name string) (*os.File, error) {
	if *f != nil {
		return *f, nil
	}
	h, err := os.OpenFile(filepath.Join(c.stagingDir(), name), os.O_WRONLY|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	*f = h
	return h, nil
}

// errFinished: the conversation is finished; data for it is dropped.
var errFinished = errors.New("conversation already finished")
