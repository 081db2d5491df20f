package pipeline

import "errors"

// Errors of package pipeline. The texts of the client-facing ones are sent
// as WebSocket close reasons, so they stay short and match Omi's.
var (
	// ErrNoAuthHeader: the upgrade request had no Authorization header.
	ErrNoAuthHeader = errors.New("Authorization header not found") //nolint:staticcheck // Omi's exact close reason
	// ErrBadAuth: the Authorization header is malformed or the key is not
	// accepted.
	ErrBadAuth = errors.New("Invalid authorization token") //nolint:staticcheck // Omi's exact close reason
	// ErrTokenExpired: the signed token's exp has passed (close 4001:
	// the app refreshes its token and reconnects).
	ErrTokenExpired = errors.New("Token expired") //nolint:staticcheck // a close reason the app shows
	// ErrAuthTimeout: a /v4/web/listen client sent no auth message in
	// time (Omi's exact close reason).
	ErrAuthTimeout = errors.New("Auth timeout") //nolint:staticcheck // Omi's exact close reason
	// ErrBadParam: a query parameter is invalid; the wrapped text names it.
	ErrBadParam = errors.New("bad parameter")
	// ErrTooManySessions: the server, or the session's key, has as many
	// sessions as Config.MaxSessions (MaxSessionsPerKey) allows; the text
	// is the client-facing close reason (with 1013, try again later).
	ErrTooManySessions = errors.New("too many sessions; try again later")
	// ErrDraining: the server is shutting down and takes no new sessions.
	ErrDraining = errors.New("server is draining")
	// ErrUpstreamBroken: the upstream refuses every connect for a reason
	// that retrying cannot fix.
	ErrUpstreamBroken = errors.New("upstream refuses connections")
	// ErrNoProvider: Deps.Provider is nil.
	ErrNoProvider = errors.New("no speech-to-text provider configured")
)
