// Package testfix finds the fixtures tests run on (the Silero model, the
// primed pocketsphinx model folder, the project's synthesized speech and
// the shared real-speech clips) and loads the local recognizer on them,
// skipping a test, with the command to run, when one is missing. It
// imports no stage but the providers whose files it locates, and never
// the pipeline, so that stage and provider tests can use it.
package testfix

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"earshot/stages/local"
	"earshot/stages/silero"
)

// VADModel is the Silero VAD model file: $EARSHOT_VAD_MODEL, else
// silero.DefaultModelPath found above the working directory. The test is
// skipped, saying how to fetch it, when there is none.
func VADModel(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(silero.ModelEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Skipf("%s=%s: %v: run scripts/fetch-silero.sh", silero.ModelEnv, p, err)
		}
		return p
	}
	dir, ok := FindDir(tb, filepath.Dir(silero.DefaultModelPath))
	p := filepath.Join(dir, filepath.Base(silero.DefaultModelPath))
	if _, err := os.Stat(p); !ok || err != nil {
		tb.Skipf("no Silero VAD model %s above the working directory: run scripts/fetch-silero.sh", silero.DefaultModelPath)
	}
	return p
}

// SpeechDirEnv names the shared real-speech fixtures folder when it is
// not shared/fixtures/speech above the working directory.
const SpeechDirEnv = "EARSHOT_SPEECH_FIXTURES"

// ModelDir is the pocketsphinx model folder for tests: $EARSHOT_MODEL_DIR
// (local.ModelDirEnv), else the primed folder local.DefaultModelDir found
// by FindDir (made by local.SetupScript). Some tests need the primed
// folder: synthetic speech on a cold decoder with Debian's initial
// cepstral mean is not recognised at all. The test is skipped when the
// folder is missing.
func ModelDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(local.ModelDirEnv); d != "" {
		if !isDir(d) {
			tb.Skipf("%s=%s is not a folder: install %s and run %s", local.ModelDirEnv, d, local.AptPackages, local.SetupScript)
		}
		return d
	}
	d, ok := FindDir(tb, local.DefaultModelDir)
	if !ok {
		tb.Skipf("no primed model folder %s above the working directory: install %s and run %s (or set %s)",
			local.DefaultModelDir, local.AptPackages, local.SetupScript, local.ModelDirEnv)
	}
	return d
}

// SpeechDir is the shared real-speech fixtures folder:
// $EARSHOT_SPEECH_FIXTURES (SpeechDirEnv), else shared/fixtures/speech
// found by FindDir (it lies beside the repository). The test is skipped
// when the folder is missing.
func SpeechDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(SpeechDirEnv); d != "" {
		if !isDir(d) {
			tb.Skipf("%s=%s is not a folder", SpeechDirEnv, d)
		}
		return d
	}
	d, ok := FindDir(tb, filepath.Join("shared", "fixtures", "speech"))
	if !ok {
		tb.Skipf("shared speech fixtures not found (shared/fixtures/speech above the repository, or set %s)", SpeechDirEnv)
	}
	return d
}

// SynthDir is the repository's synthesized speech fixtures folder,
// fixtures/speech-synth found by FindDir: WAVs, their transcripts.tsv and
// the JSGF grammars (*.gram) they are said in. The test is skipped when
// the folder is missing.
func SynthDir(tb testing.TB) string {
	tb.Helper()
	d, ok := FindDir(tb, filepath.Join("fixtures", "speech-synth"))
	if !ok {
		tb.Skip("fixtures/speech-synth not found above the working directory")
	}
	return d
}

// Grammar returns the JSGF grammar (*.gram) of SynthDir whose sentences
// (the alternatives of its public rules), one after the other with single
// spaces between them, make up ref exactly, and how many sentences that
// takes (0 for an empty ref). The first such grammar in name order wins.
// The test is skipped when no grammar does.
func Grammar(tb testing.TB, ref string) (path string, sentences int) {
	tb.Helper()
	path, seq := grammarOf(tb, ref)
	return path, len(seq)
}

// Sentences returns the sentences of Grammar's grammar for ref that make
// it up, in order (none for an empty ref): a conversation's reference
// split into its sentences. The test is skipped when no grammar has them.
func Sentences(tb testing.TB, ref string) []string {
	tb.Helper()
	_, seq := grammarOf(tb, ref)
	return seq
}

// grammarOf returns Grammar's grammar for ref and the sentences of it
// that make up ref, in order.
func grammarOf(tb testing.TB, ref string) (string, []string) {
	tb.Helper()
	dir := SynthDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "*.gram"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if seq, ok := composed(ref, grammarSentences(string(raw))); ok {
			return p, seq
		}
	}
	tb.Skipf("no grammar in %s is made of sentences that make up %q", dir, ref)
	return "", nil
}

// jsgfComment matches the comments of a JSGF grammar.
var jsgfComment = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)

// grammarSentences are the alternatives of the public rules of the JSGF
// grammar gram, their words separated by single spaces. Only plain word
// sequences count: an alternative with a rule reference, an optional or
// grouped part, a repeat, a weight or a tag is left out.
func grammarSentences(gram string) []string {
	var out []string
	for _, stmt := range strings.Split(jsgfComment.ReplaceAllString(gram, ""), ";") {
		head, body, ok := strings.Cut(strings.TrimSpace(stmt), "=")
		if !ok || !strings.HasPrefix(head, "public") {
			continue
		}
		for _, alt := range strings.Split(body, "|") {
			if words := strings.Fields(alt); len(words) > 0 && !strings.ContainsAny(alt, "<>[]()*+/{}") {
				out = append(out, strings.Join(words, " "))
			}
		}
	}
	return out
}

// composed reports whether ref is a sequence of the sentences separated
// by single spaces, and which.
func composed(ref string, sentences []string) ([]string, bool) {
	if ref == "" {
		return nil, true
	}
	for _, s := range sentences {
		rest, ok := strings.CutPrefix(ref, s)
		if !ok {
			continue
		}
		if rest != "" {
			if rest, ok = strings.CutPrefix(rest, " "); !ok || rest == "" {
				continue
			}
		}
		if seq, ok := composed(rest, sentences); ok {
			return append([]string{s}, seq...), true
		}
	}
	return nil, false
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
