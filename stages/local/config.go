package local

import (
	"errors"
	"fmt"

	"earshot/stages"
)

// Defaults of Config.
const (
	// ModelDirEnv names the environment variable that gives the default
	// model folder.
	ModelDirEnv = "EARSHOT_MODEL_DIR"
	// DefaultModelDir is the model folder used when neither
	// Config.ModelDir nor EARSHOT_MODEL_DIR is set, relative to the
	// working directory; scripts/setup-pocketsphinx.sh builds it.
	DefaultModelDir = ".cache/pocketsphinx-model"
	// DebianModelDir is Debian's en-us acoustic model (package
	// pocketsphinx-en-us), which the primed folder links to.
	DebianModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	// DefaultDictPath is Debian's CMU pronouncing dictionary.
	DefaultDictPath = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	// DefaultLMPath is Debian's en-us trigram language model.
	DefaultLMPath = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
	// DefaultPoolSize is the number of loaded decoders (about 97 MiB
	// each; four real-time streams use half of two cores).
	DefaultPoolSize = 4
	// DefaultChunkMs is the decode chunk.
	DefaultChunkMs = 100
	// DefaultPauseMs is the silence that ends an utterance: the best
	// word error rate on the shared clips joined into one stream with
	// 0, 0.3 and 0.8 s between them (200 to 1000 ms tried; shorter
	// pauses split sentences, longer ones join them).
	DefaultPauseMs = 500
	// ModelRateHz is the sample rate of the acoustic model; streams at
	// other rates are resampled to it.
	ModelRateHz = 16000
	// SetupScript builds the primed model folder.
	SetupScript = "scripts/setup-pocketsphinx.sh"
	// AptPackages are the Debian packages a tagged build needs (the C
	// compiler, the static libraries and headers, and the model).
	AptPackages = "gcc libc6-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us"
	// ModelPackage is the Debian package a tagged binary needs at run
	// time (the libraries are linked in statically).
	ModelPackage = "pocketsphinx-en-us"
)

// Languages are the session languages a gateway serving the local
// recognizer accepts: the model is American English, so the English
// variants are decoded with it, and "multi" (what a client asks for when it
// does not know) is transcribed as English. Other languages are refused.
var Languages = []string{"multi", "en", "en-US", "en-GB", "en-AU", "en-IN", "en-NZ"}

// Sentinel errors of package local. Decide with errors.Is.
var (
	// ErrUnavailable means the binary was built without the pocketsphinx
	// build tag (New always fails then).
	ErrUnavailable = errors.New("local recognizer unavailable: built without the pocketsphinx tag; build with -tags pocketsphinx")
	// ErrCapacity is wrapped by the retryable *stages.UpstreamError that
	// Dial returns when every decoder is busy (HTTP 429, code CAPACITY).
	// The gateway maps it to WebSocket close 1013 (try again later).
	ErrCapacity = fmt.Errorf("local recognizer: %w", stages.ErrCapacity)
	// ErrNoModel wraps New's error when a model, dictionary, language
	// model or grammar file is missing.
	ErrNoModel = errors.New("local recognizer model missing")
	// ErrInvalidConfig wraps New's other configuration errors.
	ErrInvalidConfig = errors.New("invalid local recognizer config")
	// ErrInvalidStreamConfig means Dial got a StreamConfig it cannot
	// decode (no sample rate, several channels). It wraps
	// stages.ErrPermanent.
	ErrInvalidStreamConfig = fmt.Errorf("invalid stream config: %w", stages.ErrPermanent)
	// ErrUnknownControl means SendControl got a Control it does not know.
	// It wraps stages.ErrPermanent.
	ErrUnknownControl = fmt.Errorf("unknown control message: %w", stages.ErrPermanent)
	// ErrClosed is returned by a stream's methods after its Close, and by
	// Dial after the Provider's Close.
	ErrClosed = errors.New("local stream closed")
)

// Config configures the local recognizer. Zero fields take the
// documented defaults.
type Config struct {
	// ModelDir is the acoustic model folder (pocketsphinx -hmm). Default:
	// $EARSHOT_MODEL_DIR, else DefaultModelDir. scripts/setup-pocketsphinx.sh
	// builds it; New fails with ErrNoModel, naming the package and the
	// script, when it is missing.
	ModelDir string
	// DictPath is the pronouncing dictionary. Default DefaultDictPath.
	DictPath string
	// LMPath is the n-gram language model (ignored with JSGFPath).
	// Default DefaultLMPath.
	LMPath string
	// JSGFPath, when set, restricts recognition to a JSGF grammar instead
	// of the language model (tests use it for exact transcripts).
	JSGFPath string
	// PoolSize is the number of decoders loaded by New; it bounds the
	// number of open streams. Default DefaultPoolSize; at most 256.
	PoolSize int
	// ChunkMs is how much audio one decoder call takes (results come at
	// this granularity). Default DefaultChunkMs; a multiple of 10 up to
	// 1000.
	ChunkMs int
	// PauseMs is how long without speech ends an utterance (and gives its
	// final result). Default DefaultPauseMs; from 100 to 10000.
	PauseMs int
	// Partials enables interim results: a non-final Result after each
	// chunk whose best hypothesis changed.
	Partials bool
}
