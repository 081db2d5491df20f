package main

import (
	"fmt"
	"strconv"
	"strings"

	"earshot/stages/connector"
)

// defaultPrices are --price-per-hour's defaults, in US dollars per hour:
// Deepgram's Nova-3 streaming list price ($0.0077 a minute, pay as you
// go) and Soniox's real-time one ($0.12 an hour of stream); the embedded
// recognizer costs nothing. Contracts differ: set your own.
const defaultPrices = "deepgram=0.462,soniox=0.12,local=0"

// streamBilled are the providers that bill the time a stream is open,
// not the audio sent.
var streamBilled = map[string]bool{"soniox": true}

// defaultIdleCloseMs is --idle-close-ms's default: Soniox bills an open
// stream, silence included, so its streams close after 10 s of the VAD
// gate's hold (under its 20 s keepalive limit) and reopen at the next
// speech.
const defaultIdleCloseMs = "soniox=10000"

// parsePerProvider reads provider=value[,provider=value...] with the
// values ≥ 0, for the flag named flag.
func parsePerProvider(flag, s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, v, ok := strings.Cut(kv, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		name = strings.TrimSpace(name)
		if !ok || name == "" || err != nil || x < 0 {
			return nil, fmt.Errorf("--%s %q: want provider=value with value ≥ 0", flag, kv)
		}
		out[name] = x
	}
	return out, nil
}

// parsePrices reads --price-per-hour: provider=USD[,provider=USD...].
func parsePrices(s string) (map[string]connector.Price, error) {
	m, err := parsePerProvider("price-per-hour", s)
	if err != nil {
		return nil, err
	}
	out := map[string]connector.Price{}
	for name, usd := range m {
		out[name] = connector.Price{USDPerHour: usd, BillsStreamTime: streamBilled[name]}
	}
	return out, nil
}

// parseIdleClose reads --idle-close-ms: provider=ms[,provider=ms...]
// (0 turns a default off).
func parseIdleClose(s string) (map[string]int, error) {
	m, err := parsePerProvider("idle-close-ms", s)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for name, ms := range m {
		out[name] = int(ms)
	}
	return out, nil
}
