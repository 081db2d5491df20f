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

// parsePrices reads provider=USD[,provider=USD...].
func parsePrices(s string) (map[string]connector.Price, error) {
	out := map[string]connector.Price{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, v, ok := strings.Cut(kv, "=")
		usd, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || name == "" || err != nil || usd < 0 {
			return nil, fmt.Errorf("--price-per-hour %q: want provider=USD with USD ≥ 0", kv)
		}
		name = strings.TrimSpace(name)
		out[name] = connector.Price{USDPerHour: usd, BillsStreamTime: streamBilled[name]}
	}
	return out, nil
}
