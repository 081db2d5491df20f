package protocol

// Types of the first-message authentication of /v4/web/listen: a browser,
// which cannot set an Authorization header, sends {"type":"auth",
// "token":"..."} as its first text message and the server answers
// {"type":"auth_response","success":true|false}.
const (
	TypeAuth         = "auth"
	TypeAuthResponse = "auth_response"
)

// Auth is a browser's first message on /v4/web/listen: its key or signed
// token.
type Auth struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// AuthResponse is the server's answer to Auth. After a false one the
// server closes the session (1008, or 4001 for an expired token).
type AuthResponse struct {
	Type    string `json:"type"`
	Success bool   `json:"success"`
}
