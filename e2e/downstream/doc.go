// Package downstream holds the end-to-end tests of the pusher sink and
// `earshot record` over real loopback WebSockets: the gateway with the
// Deepgram emulator upstream and a recorder downstream. A package of its
// own, so that its long, mostly idle restart test runs beside the other
// end-to-end tests rather than after them.
package downstream
