package main

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/stages/connector"
)

func TestParsePrices(t *testing.T) {
	got, err := parsePrices(defaultPrices)
	td.CmpNoError(t, err)
	td.Cmp(t, got, map[string]connector.Price{
		"deepgram": {USDPerHour: 0.462},
		"soniox":   {USDPerHour: 0.12, BillsStreamTime: true},
		"local":    {},
	})
	got, err = parsePrices(" deepgram = 0.3 ,")
	td.CmpNoError(t, err)
	td.Cmp(t, got, map[string]connector.Price{"deepgram": {USDPerHour: 0.3}})
	for _, bad := range []string{"deepgram", "deepgram=x", "=1", "deepgram=-1"} {
		_, err := parsePrices(bad)
		td.CmpError(t, err, bad)
	}
}

func TestParseIdleClose(t *testing.T) {
	got, err := parseIdleClose(defaultIdleCloseMs)
	td.CmpNoError(t, err)
	td.Cmp(t, got, map[string]int{"soniox": 10000})
	got, err = parseIdleClose("soniox=0,deepgram=5000")
	td.CmpNoError(t, err)
	td.Cmp(t, got, map[string]int{"soniox": 0, "deepgram": 5000})
	_, err = parseIdleClose("soniox")
	td.CmpError(t, err)
}
