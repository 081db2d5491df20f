//go:build pocketsphinx

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"earshot/stages"
)

// Available reports whether the recognizer was compiled in (build tag
// pocketsphinx). In this build it was.
const Available = true

// maxRateHz bounds StreamConfig.SampleRateHz.
const maxRateHz = 384000

// modelFiles must be in a model folder (sendump or mixture_weights too).
var modelFiles = []string{"mdef", "means", "variances", "transition_matrices", "feat.params", "noisedict"}

// modelMagic are the possible first bytes of model files. pocketsphinx
// exits the process on a malformed acoustic model, so New looks first
// (a truncated file still gets through).
var modelMagic = map[string][]string{
	"mdef":                {"BMDF", "0.3\n"},
	"means":               {"s3\n"},
	"variances":           {"s3\n"},
	"transition_matrices": {"s3\n"},
	"mixture_weights":     {"s3\n"},
}

// Provider is the local recognizer: a bounded pool of loaded pocketsphinx
// decoders, each reset to its primed state for every session. Build it
// with New; it is safe for concurrent use.
type Provider struct {
	cfg   Config
	args  []string // the decoders' pocketsphinx arguments
	log   *slog.Logger
	fills sync.Map // input rate → narrowband fill ([]int16, read-only)

	mu     sync.Mutex
	size   int        // decoders owned: idle and in use
	free   []*decoder // idle decoders
	closed bool
}

var _ stages.Provider = (*Provider)(nil)

// New checks cfg, applies its defaults and loads cfg.PoolSize decoders
// (about 0.3 s and 90 MiB each). A missing model folder, dictionary,
// language model or grammar gives an error wrapping ErrNoModel that names
// the Debian package to install and the setup script; other invalid
// values wrap ErrInvalidConfig. A nil logger means slog.Default().
func New(cfg Config, logger *slog.Logger) (*Provider, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := cfg.checkFiles(); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	p := &Provider{cfg: cfg, args: cfg.decoderArgs(), log: logger, size: cfg.PoolSize}
	start := time.Now()
	for range cfg.PoolSize {
		d, err := loadDecoder(p.args)
		if err != nil {
			_ = p.Close()
			return nil, fmt.Errorf("local: loading the decoder (model %s): %w: %w", cfg.ModelDir, err, ErrInvalidConfig)
		}
		p.free = append(p.free, d)
	}
	logger.Info("local recognizer ready", "decoders", cfg.PoolSize, "model", cfg.ModelDir,
		"load_ms", time.Since(start).Milliseconds())
	return p, nil
}

// withDefaults fills zero fields and checks the ranges.
func (c Config) withDefaults() (Config, error) {
	if c.ModelDir == "" {
		c.ModelDir = os.Getenv(ModelDirEnv)
	}
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	if c.DictPath == "" {
		c.DictPath = DefaultDictPath
	}
	if c.LMPath == "" && c.JSGFPath == "" {
		c.LMPath = DefaultLMPath
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.ChunkMs == 0 {
		c.ChunkMs = DefaultChunkMs
	}
	if c.PauseMs == 0 {
		c.PauseMs = DefaultPauseMs
	}
	switch {
	case c.PoolSize < 0 || c.PoolSize > 256:
		return c, fmt.Errorf("pool size %d not in 1..256: %w", c.PoolSize, ErrInvalidConfig)
	case c.ChunkMs < 10 || c.ChunkMs > 1000 || c.ChunkMs%10 != 0:
		return c, fmt.Errorf("chunk %d ms not a multiple of 10 in 10..1000: %w", c.ChunkMs, ErrInvalidConfig)
	case c.PauseMs < 100 || c.PauseMs > 10000:
		return c, fmt.Errorf("pause %d ms not in 100..10000: %w", c.PauseMs, ErrInvalidConfig)
	}
	return c, nil
}

// checkFiles makes sure every file the decoder reads is there, so that a
// missing package gives one clear error (pocketsphinx itself may exit the
// process on some missing files).
func (c Config) checkFiles() error {
	hint := fmt.Sprintf("install the Debian package %s (apt-get install -y --no-install-recommends %s) and run %s", ModelPackage, ModelPackage, SetupScript)
	st, err := os.Stat(c.ModelDir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("model folder %q not found (set Config.ModelDir or %s): %s: %w", c.ModelDir, ModelDirEnv, hint, ErrNoModel)
	}
	files := append([]string(nil), modelFiles...)
	if !readable(filepath.Join(c.ModelDir, "sendump")) {
		files = append(files, "mixture_weights")
	}
	for _, f := range files {
		path := filepath.Join(c.ModelDir, f)
		if !readable(path) {
			return fmt.Errorf("model folder %q lacks %s (a broken link to Debian's model?): %s: %w", c.ModelDir, f, hint, ErrNoModel)
		}
		if magic, ok := modelMagic[f]; ok && !startsWith(path, magic...) {
			return fmt.Errorf("model folder %q: %s is not a pocketsphinx model file: %s: %w", c.ModelDir, f, hint, ErrNoModel)
		}
	}
	for _, f := range []struct{ what, path string }{{"dictionary", c.DictPath}, {"language model", c.LMPath}, {"grammar", c.JSGFPath}} {
		if f.path != "" && !readable(f.path) {
			return fmt.Errorf("%s %q not found or not a readable file: %s: %w", f.what, f.path, hint, ErrNoModel)
		}
	}
	return nil
}

// readable reports whether path names a regular file that can be opened.
func readable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// startsWith reports whether the file at path starts with one of the
// prefixes.
func startsWith(path string, prefixes ...string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	for _, p := range prefixes {
		if strings.HasPrefix(string(head[:n]), p) {
			return true
		}
	}
	return false
}

// decoderArgs are the pocketsphinx arguments of every decoder.
func (c Config) decoderArgs() []string {
	args := []string{
		"-hmm", c.ModelDir,
		"-dict", c.DictPath,
		// The stream detects speech itself and keeps the decoder's
		// frames aligned with the audio: pocketsphinx's own silence
		// removal drops frames and shifts word times.
		"-remove_silence", "no",
		"-samprate", "16000",
		// Measured on the shared speech clips (reused decoder / fresh
		// decoder / at 8 kHz, word errors; CPU per audio second):
		// without the flat-lexicon second pass and with at most 3000
		// active HMMs per frame, 24%/26%/54% and 0.31 become
		// 20%/23%/44% and 0.13.
		"-fwdflat", "no",
		"-maxhmmpf", "3000",
	}
	if c.JSGFPath != "" {
		return append(args, "-jsgf", c.JSGFPath)
	}
	return append(args, "-lm", c.LMPath)
}

// Name returns "local", the stt_provider reported to clients.
func (p *Provider) Name() string { return "local" }

// Dial opens one stream on a free decoder, reset to the state of a
// freshly loaded one (see acquire). It never waits:
//   - ctx already done: an error wrapping ctx's error (ClassAborted);
//   - every decoder busy: a retryable *stages.UpstreamError (HTTP 429,
//     code CAPACITY) wrapping ErrCapacity;
//   - after Close: a retryable error wrapping ErrClosed;
//   - an invalid sc (no sample rate, more than 8 channels): an error
//     wrapping ErrInvalidStreamConfig (permanent);
//   - a decoder that could not be reset: a retryable
//     *stages.UpstreamError (code DECODER), after replacing it.
//
// Audio at any sample rate is accepted and resampled to 16 kHz; several
// channels are averaged. The model recognises (American) English whatever
// sc.Language says.
func (p *Provider) Dial(ctx context.Context, sc stages.StreamConfig) (stages.Stream, error) {
	if err := ctx.Err(); err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
			return nil, fmt.Errorf("local dial: %w: %w", err, cause)
		}
		return nil, fmt.Errorf("local dial: %w", err)
	}
	channels := sc.Channels
	if channels == 0 {
		channels = 1
	}
	if sc.SampleRateHz <= 0 || sc.SampleRateHz > maxRateHz || channels < 0 || channels > 8 {
		return nil, fmt.Errorf("local: %d Hz, %d channels: %w", sc.SampleRateHz, sc.Channels, ErrInvalidStreamConfig)
	}
	d, err := p.acquire()
	if err != nil {
		return nil, err
	}
	return newStream(p, d, sc.SampleRateHz, channels), nil
}

// acquire takes a free decoder without waiting and resets it, so that
// every session starts from the state a freshly loaded decoder has (the
// primed cepstral mean of the model folder's feat.params), never from
// what the previous session's speaker left in it. A decoder that cannot
// be reset (pocketsphinx refuses only without a front end, which a loaded
// decoder has) is replaced, loaded in the caller's goroutine, and the
// session refused with a retryable *stages.UpstreamError (code DECODER).
func (p *Provider) acquire() (*decoder, error) {
	d, err := p.take()
	if err != nil {
		return nil, err
	}
	if err := d.reset(); err != nil {
		p.log.Warn("local decoder failed to reset; replacing it", "err", err)
		p.release(d, true)
		return nil, &stages.UpstreamError{Code: "DECODER", Reason: "local decoder failed", Err: err}
	}
	return d, nil
}

// take removes a free decoder from the pool.
func (p *Provider) take() (*decoder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, &stages.UpstreamError{HTTPStatus: 503, Code: "CLOSED", Reason: "local recognizer shut down", Err: ErrClosed}
	}
	n := len(p.free)
	if n == 0 {
		return nil, &stages.UpstreamError{HTTPStatus: 429, Code: "CAPACITY",
			Reason: fmt.Sprintf("all %d local decoders busy; try again later", p.size), Err: ErrCapacity}
	}
	d := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return d, nil
}

// release returns d to the pool, ending any utterance, or frees it after
// Close. A decoder that failed (broken, or failing to end its utterance)
// is replaced by a new one, loaded in the caller's goroutine. The next
// acquire resets whatever the session left in the decoder.
func (p *Provider) release(d *decoder, broken bool) {
	if !broken {
		if err := d.end(); err != nil {
			p.log.Warn("local decoder failed to end an utterance; replacing it", "err", err)
			broken = true
		}
	}
	if broken {
		d.free()
		nd, err := loadDecoder(p.args)
		if err != nil {
			p.log.Error("local decoder could not be replaced; the pool shrinks", "err", err)
			p.mu.Lock()
			p.size--
			p.mu.Unlock()
			return
		}
		d = nd
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		d.free()
		return
	}
	p.free = append(p.free, d)
}

// fill returns the narrowband fill for inRate (nil for wideband rates),
// made once per rate.
func (p *Provider) fill(inRate int) []int16 {
	if inRate >= ModelRateHz {
		return nil
	}
	if f, ok := p.fills.Load(inRate); ok {
		return f.([]int16)
	}
	f, _ := p.fills.LoadOrStore(inRate, newFill(inRate))
	return f.([]int16)
}

// Decoders reports the pool: decoders in use by open streams, and
// decoders owned (in use and idle; a decoder that failed and could not be
// replaced is no longer owned). Safe for concurrent use.
func (p *Provider) Decoders() (busy, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, 0
	}
	return p.size - len(p.free), p.size
}

// Close frees the idle decoders and makes later Dials fail; decoders of
// open streams are freed when those streams end. Idempotent and safe for
// concurrent use.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for i, d := range p.free {
		d.free()
		p.free[i] = nil
	}
	p.free = nil
	return nil
}
