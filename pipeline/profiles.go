package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	streamclient "earshot/client"
)

// profileName is the user ids usable as a profile's file name: no path,
// no leading dot.
var profileName = regexp.MustCompile(`^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,127}$`)

// maxProfileBytes bounds a profile file read: a minute of 48 kHz stereo.
const maxProfileBytes = 12 << 20

// errNoProfile: the user has no speech profile (no folder configured, no
// user id, or no file); the session is an ordinary one.
var errNoProfile = errors.New("no speech profile")

// profilePrefix reads user's speech profile, <dir>/<user>.wav (any rate
// and channel count), and returns it as the prefix a speech-profile
// session sends first into its main socket: mono 16-bit PCM at rateHz,
// cut to prefixMs or padded with silence to it (Omi pads its ~10 s
// profiles to 15 s). It returns errNoProfile when there is none, and
// another error when the file cannot be used (a user id that is not a
// plain file name, a file that is not a readable WAV).
func profilePrefix(dir, user string, rateHz, prefixMs int) ([]byte, error) {
	if dir == "" || user == "" {
		return nil, errNoProfile
	}
	if !profileName.MatchString(user) {
		return nil, errors.New("user id is not usable as a profile file name")
	}
	path := filepath.Join(dir, user+".wav")
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errNoProfile
	case err != nil:
		return nil, fmt.Errorf("profile: %w", err)
	case st.Size() > maxProfileBytes:
		return nil, fmt.Errorf("profile: %d bytes, more than %d", st.Size(), maxProfileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	wav, err := streamclient.ParseWAV(b)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	pcm := streamclient.Prepare(wav, rateHz)
	size := 2 * (rateHz * prefixMs / 1000)
	if len(pcm) >= size {
		return pcm[:size], nil
	}
	return append(pcm, make([]byte, size-len(pcm))...), nil
}
