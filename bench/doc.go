// Package bench holds end-to-end benchmarks of the gateway: real
// WebSockets over loopback, the gateway in front of the Deepgram emulator.
// Results and the commands that produced them are in bench/README.md.
package bench
