package record

// Session exposes a connection's frame handling to tests, without a
// socket.
type Session struct{ s *session }

// NewSession starts the frame handling of a connection of uid at rate Hz.
func (r *Recorder) NewSession(uid string, rate int) *Session {
	w := who{uid: uid, rate: rate}
	return &Session{newSession(r, w, r.log.With("uid_hash", uidHash(uid)))}
}

// Handle handles one message and returns the reply frame, or nil.
func (s *Session) Handle(binary bool, frame []byte) []byte { return s.s.handle(binary, frame) }

// Close releases what the session holds.
func (s *Session) Close() { s.s.close() }

// InUse is the number of conversations some connection holds (each with
// its open files).
func (r *Recorder) InUse() int { return r.store.inUse() }
