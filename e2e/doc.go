// Package e2e holds the end-to-end tests: the gateway and the Deepgram
// emulator over real loopback TCP, in process and as the earshot binary.
package e2e
