package emulate

import (
	"fmt"
	"net/url"
	"time"
)

// DefaultIdleTimeoutMs is Deepgram's documented idle window: a stream that
// receives no frame for this long is closed with 1011 NET-0001.
const DefaultIdleTimeoutMs = 10000

// DefaultSonioxIdleTimeoutMs is the idle window of ProtocolSoniox streams
// when Config.IdleTimeoutMs is zero: Soniox closes a stream that got
// neither audio nor a keepalive for 20 s, with an error response 408.
const DefaultSonioxIdleTimeoutMs = 20000

// The protocols a Server speaks (Config.Protocol).
const (
	// ProtocolDeepgram is Deepgram's live protocol on GET /v1/listen (see
	// the package documentation).
	ProtocolDeepgram = "deepgram"
	// ProtocolSoniox is Soniox's real-time protocol on GET
	// /transcribe-websocket (spec/soniox.md), served with the same
	// recognizers and faults; the package documentation's "Soniox"
	// section gives its rules.
	ProtocolSoniox = "soniox"
)

// DefaultRefuseStatus is the HTTP status of fault-injected refusals when
// Faults.RefuseStatus is zero.
const DefaultRefuseStatus = 503

// Config configures a Server. The zero value is usable: Deepgram's
// protocol, no auth, a 10 s idle timeout, no faults and the EnergyTest
// recognizer.
type Config struct {
	// Protocol is the protocol the Server speaks: ProtocolDeepgram (also
	// for "") or ProtocolSoniox; anything else is an error. A Server
	// speaks one protocol; serve both with two Servers.
	Protocol string
	// APIKey, if non-empty, is required on every upgrade as the header
	// "Authorization: Token <key>" or "Authorization: Bearer <key>" (scheme
	// case-insensitive), or as the browser form "Sec-WebSocket-Protocol:
	// token, <key>". Anything else is refused with 401 INVALID_AUTH. With
	// ProtocolSoniox: "Authorization: Bearer <key>" or
	// "Sec-WebSocket-Protocol: soniox-api-key, <key>", else 401 with a
	// Soniox error body. The key is never logged.
	APIKey string
	// IdleTimeoutMs closes a stream that received no data frame (binary or
	// text) for this many milliseconds, with close 1011 and ReasonIdle
	// (ProtocolSoniox: an error response 408, then close 1000). Zero
	// means DefaultIdleTimeoutMs (ProtocolSoniox: DefaultSonioxIdleTimeoutMs);
	// negative is an error.
	IdleTimeoutMs int
	// Faults injects failures; the zero value injects none.
	Faults Faults
	// Recognizer makes one Recognizer per stream, before the upgrade is
	// answered; its errors refuse the upgrade (429 at capacity, else 500).
	// With ProtocolSoniox it is called on the stream's valid start
	// message instead (which carries the sample rate), and its errors are
	// error responses 429 or 500. Nil means EnergyTest. See NewRecognizer
	// and FromProvider.
	Recognizer NewRecognizer
	// OnStreamEnd, if set, is called exactly once per accepted stream,
	// after its connection is closed, from the stream's goroutine. Close
	// waits for it to return, so it must not call Close.
	OnStreamEnd func(StreamSummary)
}

// Faults injects the failures a real upstream shows. Every field's zero
// value disables it; negative values are an error.
type Faults struct {
	// RefuseFirst refuses the first RefuseFirst upgrade attempts counted
	// server-wide (every GET of the protocol's path is an attempt, whatever
	// its auth or parameters). Refusals happen before auth and parameter
	// checks.
	RefuseFirst int
	// RefuseStatus is the HTTP status of those refusals, 400..599; zero
	// means DefaultRefuseStatus. Body and headers follow Deepgram (see
	// errorCode for the err_code of each status).
	RefuseStatus int
	// RetryAfterSec, if > 0, adds "Retry-After: <n>" to fault-injected
	// refusals (not to auth or parameter refusals, which retrying cannot
	// fix).
	RetryAfterSec int
	// DropAfterMs, if > 0, ends each accepted stream this many milliseconds
	// (wall time) after it opened: with Metadata then close 1011
	// ReasonDropped (ProtocolSoniox: the error response 503
	// SonioxDropMessage, then close 1000), or abruptly if DropAbrupt.
	DropAfterMs int
	// DropStreams, if > 0, limits DropAfterMs to the first DropStreams
	// streams the server opens (counted server-wide); later streams stay
	// up. So a client's replacement stream survives, and of several
	// streams at once (a multi-channel session's) only the first drops.
	DropStreams int
	// DropAbrupt makes drops close the TCP connection without a close
	// frame: the client sees an abnormal closure (1006; coder/websocket
	// reports CloseStatus -1 and an EOF error).
	DropAbrupt bool
	// Stall makes streams read and count everything but never send a
	// text message: no Results, no Metadata, and Finalize and CloseStream
	// go unanswered (the stream stays open). Server-initiated ends still
	// happen (idle timeout, drop, shutdown) but with a bare close frame.
	Stall bool
	// HandshakeDelayMs delays every upgrade attempt (refused or not) by this
	// many milliseconds before it is answered. The wait ends early, with no
	// answer, if the client goes away, and with 503 if the Server closes.
	HandshakeDelayMs int
}

// How a stream ended, as reported in StreamSummary.End.
const (
	// EndCloseStream: the client sent CloseStream (or an empty binary
	// frame) and the server answered and closed with 1000. With
	// ProtocolSoniox: the client ended the audio (an empty binary or
	// text frame) and got its last tokens and "finished".
	EndCloseStream = "close_stream"
	// EndIdleTimeout: no frame within IdleTimeoutMs; closed 1011.
	EndIdleTimeout = "idle_timeout"
	// EndDropped: Faults.DropAfterMs fired.
	EndDropped = "dropped"
	// EndClientGone: the client closed or the connection failed first.
	EndClientGone = "client_gone"
	// EndServerShutdown: Server.Close ended the stream with 1001.
	EndServerShutdown = "server_shutdown"
	// EndRejected (ProtocolSoniox only): the stream's start was answered
	// with an error response and closed: 400 for audio or anything but
	// a valid start message first, 429 or 500 when its recognizer could
	// not be made (see NewRecognizer).
	EndRejected = "rejected"
)

// StreamSummary describes one accepted stream after it ended.
type StreamSummary struct {
	// ID is the request id (also sent as dg-request-id and in messages).
	ID string
	// Params are the query parameters the client sent. With
	// ProtocolSoniox they are the members of the start message instead:
	// a string as it is, a list of strings as one value each, any other
	// value as its JSON text; empty until a start message was accepted.
	Params url.Values
	// End is one of the End* constants.
	End string
	// AudioBytes counts the bytes of all binary frames received.
	AudioBytes int64
	// KeepAlives and Finalizes count those control messages.
	KeepAlives, Finalizes int
	// CloseStream tells whether a CloseStream message was received (an
	// empty binary frame also ends with EndCloseStream but leaves it false).
	CloseStream bool
	// Opened is when the upgrade completed; Ended when the connection was
	// closed.
	Opened, Ended time.Time
}

// Stats are server-wide counters since NewServer.
type Stats struct {
	// UpgradeAttempts counts GET requests of the protocol's path
	// (/v1/listen, or /transcribe-websocket with ProtocolSoniox).
	UpgradeAttempts int64
	// Refused counts attempts answered with an HTTP error (faults, auth,
	// parameters, recognizer, shutdown).
	Refused int64
	// Accepted counts completed upgrades. A stream is counted (here and
	// in Active) just before its 101 response is sent, so a client whose
	// Dial returned already sees it.
	Accepted int64
	// Active counts streams open now. A stream leaves it after its
	// connection and its recognizer are closed and before OnStreamEnd is
	// called.
	Active int64
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	f := cfg.Faults
	for _, v := range []struct {
		name string
		val  int
	}{
		{"IdleTimeoutMs", cfg.IdleTimeoutMs},
		{"Faults.RefuseFirst", f.RefuseFirst},
		{"Faults.RetryAfterSec", f.RetryAfterSec},
		{"Faults.DropAfterMs", f.DropAfterMs},
		{"Faults.DropStreams", f.DropStreams},
		{"Faults.HandshakeDelayMs", f.HandshakeDelayMs},
	} {
		if v.val < 0 {
			return cfg, fmt.Errorf("%w: %s is negative (%d)", ErrBadConfig, v.name, v.val)
		}
	}
	if f.RefuseStatus == 0 {
		cfg.Faults.RefuseStatus = DefaultRefuseStatus
	} else if f.RefuseStatus < 400 || f.RefuseStatus > 599 {
		return cfg, fmt.Errorf("%w: Faults.RefuseStatus %d is not in 400..599", ErrBadConfig, f.RefuseStatus)
	}
	switch cfg.Protocol {
	case "", ProtocolDeepgram:
		cfg.Protocol = ProtocolDeepgram
		if cfg.IdleTimeoutMs == 0 {
			cfg.IdleTimeoutMs = DefaultIdleTimeoutMs
		}
	case ProtocolSoniox:
		if cfg.IdleTimeoutMs == 0 {
			cfg.IdleTimeoutMs = DefaultSonioxIdleTimeoutMs
		}
	default:
		return cfg, fmt.Errorf("%w: Protocol %q is not %q or %q", ErrBadConfig, cfg.Protocol, ProtocolDeepgram, ProtocolSoniox)
	}
	if cfg.Recognizer == nil {
		cfg.Recognizer = EnergyTest
	}
	return cfg, nil
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }
