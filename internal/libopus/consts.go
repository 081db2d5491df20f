package libopus

// Application is the use an Encoder is tuned for (OPUS_APPLICATION_*). It
// cannot change after NewEncoder.
type Application int

// Applications.
const (
	// AppVoIP favours speech intelligibility: SILK or hybrid at low
	// bitrates, with in-band error correction available.
	AppVoIP Application = 2048
	// AppAudio favours fidelity to the input, for music or mixed content.
	AppAudio Application = 2049
	// AppRestrictedLowDelay uses CELT only, with the lowest delay (2.5 ms
	// of look-ahead instead of 6.5 ms), at the cost of speech quality at
	// low bitrates.
	AppRestrictedLowDelay Application = 2051
)

// Auto (OPUS_AUTO) lets libopus choose: a value for SetBitrate,
// SetBandwidth and SetSignal.
const Auto = -1000

// BitrateMax (OPUS_BITRATE_MAX) asks SetBitrate for as many bits as a
// packet may hold.
const BitrateMax = -1

// Audio bandwidths for SetBandwidth (OPUS_BANDWIDTH_*): the passband an
// encoder codes, whatever its input rate.
const (
	BandwidthNarrow    = 1101 // 4 kHz passband
	BandwidthMedium    = 1102 // 6 kHz passband (SILK only)
	BandwidthWide      = 1103 // 8 kHz passband
	BandwidthSuperWide = 1104 // 12 kHz passband
	BandwidthFull      = 1105 // 20 kHz passband
)

// Signal types for SetSignal (OPUS_SIGNAL_*): a hint that biases the
// encoder's choice between its speech (SILK) and music (CELT) modes.
const (
	SignalVoice = 3001
	SignalMusic = 3002
)
