package record

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"earshot/protocol/pusher"
)

// Conversation is a finished conversation as ReadConversation reads it.
type Conversation struct {
	// Meta is its meta.json.
	Meta Meta
	// Samples are the WAV's samples (mono PCM16 at Meta.SampleRate).
	Samples []int16
	// Segments are the lines of segments.jsonl, in the order received.
	// A segment re-sent with the same "id" (the client protocol upserts
	// segments) appears again; the last line with an id supersedes the
	// earlier ones.
	Segments []json.RawMessage
	// Speakers are the lines of speakers.jsonl (pusher.SpeakerSamples
	// objects), nil when the conversation had none.
	Speakers []json.RawMessage
}

// ReadConversation reads finished conversation id under dir (a
// Config.Dir), all in memory: a one-hour 16 kHz conversation is about
// 115 MB of samples. It is safe while a Recorder runs on dir (a
// conversation is renamed into place whole). Errors wrap
// ErrBadConversationID for an id that could not be a directory name,
// ErrNotFound (and fs.ErrNotExist) when it is not finished, and
// ErrCorrupt when its files disagree with each other.
func ReadConversation(dir, id string) (Conversation, error) {
	var conv Conversation
	if !pusher.ValidConversationID(id) {
		return conv, fmt.Errorf("%w: %q", ErrBadConversationID, id)
	}
	path := filepath.Join(dir, id)
	m, err := readMeta(path, id)
	if errors.Is(err, fs.ErrNotExist) {
		return conv, fmt.Errorf("%w: %s: %w", ErrNotFound, id, err)
	}
	if err != nil {
		return conv, err
	}
	conv.Meta = m
	b, err := os.ReadFile(filepath.Join(path, fileWAV))
	if err != nil {
		return conv, fmt.Errorf("read %s of %s: %w", fileWAV, id, err)
	}
	rate, data, err := parseWAV(b)
	if err != nil {
		return conv, fmt.Errorf("%s of %s: %w", fileWAV, id, err)
	}
	if rate != m.SampleRate || int64(len(data)) != m.Samples*2 {
		return conv, fmt.Errorf("%w: %s of %s: %d Hz, %d bytes; meta says %d Hz, %d samples",
			ErrCorrupt, fileWAV, id, rate, len(data), m.SampleRate, m.Samples)
	}
	conv.Samples = make([]int16, len(data)/2)
	for i := range conv.Samples {
		conv.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	if conv.Segments, err = readLines(filepath.Join(path, fileSegments)); err != nil {
		return conv, fmt.Errorf("read %s of %s: %w", fileSegments, id, err)
	}
	if len(conv.Segments) != m.SegmentLines {
		return conv, fmt.Errorf("%w: %s of %s has %d lines; meta says %d",
			ErrCorrupt, fileSegments, id, len(conv.Segments), m.SegmentLines)
	}
	conv.Speakers, err = readLines(filepath.Join(path, fileSpeakers))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return conv, fmt.Errorf("read %s of %s: %w", fileSpeakers, id, err)
	}
	return conv, nil
}

// readLines returns the lines of a JSONL file, each checked to be JSON.
func readLines(path string) ([]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			return nil, fmt.Errorf("%w: line %d is not JSON", ErrCorrupt, len(lines)+1)
		}
		lines = append(lines, json.RawMessage(line))
	}
	return lines, sc.Err()
}

// Finished lists the ids of the finished conversations under dir (a
// Config.Dir), sorted. Directories whose names are not conversation ids
// (the staging directory among them) are skipped.
func Finished(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record: list finished conversations: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && pusher.ValidConversationID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
