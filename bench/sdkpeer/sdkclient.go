package sdkpeer

import (
	"context"
	"errors"
	"sync"
	"time"

	msginterfaces "github.com/deepgram/deepgram-go-sdk/v3/pkg/api/listen/v1/websocket/interfaces"
	"github.com/deepgram/deepgram-go-sdk/v3/pkg/client/interfaces"
	"github.com/deepgram/deepgram-go-sdk/v3/pkg/client/listen"
)

// SDKRun is what the application saw of one run of Deepgram's Go SDK.
type SDKRun struct {
	Start      time.Time
	Connect    time.Duration // how long Connect() blocked
	ConnectOK  bool
	Writes     Writes
	Stop       time.Duration // how long Stop() blocked
	Words      []ReceivedWord
	Opens      int      // Open callbacks (one per stream the SDK opened)
	Closes     int      // Close callbacks
	Errors     []string // Error callbacks
	GaveUpAt   time.Duration
	WhyGaveUp  string
	UnitsFinal int // Results messages received
}

// RunSDK streams sig through the SDK's live WebSocket client (callback
// flavour) to the upstream at origin (ws://127.0.0.1:port), the way its
// examples do: Connect(), then Write() every audio frame, then Stop().
// KeepAlive is on, as a production user would set it (Deepgram closes a
// stream after 10 s without data). grace is how long to wait for the last
// results after the last frame before Stop.
func RunSDK(origin, apiKey string, sig Signal, pace float64, grace time.Duration) (SDKRun, error) {
	cb := &sdkCallback{}
	cOpts := &interfaces.ClientOptions{
		APIKey:          apiKey,
		Host:            origin, // "ws://127.0.0.1:port": the scheme selects plain ws
		EnableKeepAlive: true,
	}
	tOpts := &interfaces.LiveTranscriptionOptions{
		Model:       "nova-3",
		Language:    "en",
		Encoding:    "linear16",
		SampleRate:  RateHz,
		Channels:    1,
		Punctuate:   true,
		SmartFormat: true,
		Diarize:     true,
		NoDelay:     true,
		Endpointing: "300",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := listen.NewWSUsingCallback(ctx, "", cOpts, tOpts, cb)
	if err != nil {
		return SDKRun{}, err
	}
	r := SDKRun{Start: time.Now()}
	r.ConnectOK = c.Connect()
	r.Connect = time.Since(r.Start)
	if !r.ConnectOK {
		r.GaveUpAt, r.WhyGaveUp = r.Connect, "Connect() returned false"
	} else {
		r.Writes = pump(sig, pace, r.Start, func(p []byte) error {
			_, err := c.Write(p)
			return err
		}, nil)
		time.Sleep(grace)
	}
	began := time.Now()
	c.Stop()
	r.Stop = time.Since(began)
	cb.mu.Lock()
	defer cb.mu.Unlock()
	r.Words, r.Opens, r.Closes, r.Errors, r.UnitsFinal = cb.words, cb.opens, cb.closes, cb.errors, cb.results
	return r, nil
}

// sdkCallback collects what the SDK hands the application.
type sdkCallback struct {
	mu      sync.Mutex
	words   []ReceivedWord
	opens   int
	closes  int
	errors  []string
	results int
}

func (s *sdkCallback) Open(*msginterfaces.OpenResponse) error {
	s.mu.Lock()
	s.opens++
	s.mu.Unlock()
	return nil
}

func (s *sdkCallback) Message(mr *msginterfaces.MessageResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results++
	if !mr.IsFinal || len(mr.Channel.Alternatives) == 0 {
		return nil
	}
	for _, w := range mr.Channel.Alternatives[0].Words {
		s.words = append(s.words, ReceivedWord{Stream: mr.Metadata.RequestID, Name: w.Word, ReportedMs: w.Start * 1000})
	}
	return nil
}

func (s *sdkCallback) Metadata(*msginterfaces.MetadataResponse) error           { return nil }
func (s *sdkCallback) SpeechStarted(*msginterfaces.SpeechStartedResponse) error { return nil }
func (s *sdkCallback) UtteranceEnd(*msginterfaces.UtteranceEndResponse) error   { return nil }
func (s *sdkCallback) UnhandledEvent([]byte) error                              { return nil }

func (s *sdkCallback) Close(*msginterfaces.CloseResponse) error {
	s.mu.Lock()
	s.closes++
	s.mu.Unlock()
	return nil
}

func (s *sdkCallback) Error(er *msginterfaces.ErrorResponse) error {
	s.mu.Lock()
	s.errors = append(s.errors, er.ErrMsg+": "+er.Description)
	s.mu.Unlock()
	return nil
}

// SDKAbort measures how the SDK's Connect() reacts to its context being
// cancelled abortAfter into a connect whose dials all fail: it returns how
// long after the cancel Connect() returned.
func SDKAbort(origin, apiKey string, abortAfter time.Duration) (time.Duration, time.Time, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := listen.NewWSUsingCallback(ctx, "", &interfaces.ClientOptions{APIKey: apiKey, Host: origin, EnableKeepAlive: true},
		&interfaces.LiveTranscriptionOptions{Model: "nova-3", Encoding: "linear16", SampleRate: RateHz, Channels: 1}, &sdkCallback{})
	if err != nil {
		return 0, time.Time{}, err
	}
	at := make(chan time.Time, 1)
	timer := time.AfterFunc(abortAfter, func() { at <- time.Now(); cancel() })
	defer timer.Stop()
	c.Connect()
	returned := time.Now()
	select {
	case cancelled := <-at:
		return returned.Sub(cancelled), cancelled, nil
	default:
		return 0, time.Time{}, errors.New("Connect() returned before the cancel")
	}
}
