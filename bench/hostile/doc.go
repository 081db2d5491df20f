// Package hostile replays, against the earshot binary on loopback, what
// hostile and careless clients do: idle and half-open connection floods,
// 48 kHz floods against a dead upstream, one key opening hundreds of
// sessions, audio sent far faster than real time, clients that stop
// reading, an upstream that restarts for 5 s, wrong-key floods and the
// close codes of odd ends. Each case asserts what the gateway must do and
// logs what it measured ("measured: ...").
//
//	go test -v -count=1 ./bench/hostile/
//
// The default run is bounded (hundreds of connections and sessions, about
// a minute in all) and is part of the test suite. Flags:
//
//	-hostile.long      full scale: 18,000 idle connections, 200 sessions
//	                   at 48 kHz, 2,000 sessions on one key (minutes)
//	-hostile.bin PATH  test another earshot binary (say, an older build,
//	                   for before-and-after numbers) instead of building
//	                   this one; every setting reaches it by environment,
//	                   which older builds ignore where they lack it
//	-hostile.measure   log the numbers only; assert nothing (for such a
//	                   binary, which is expected to fail)
//
// The gateway runs as a child process, so its descriptors (/proc/PID/fd)
// and memory are its own; the upstream is the Deepgram emulator in this
// process, on a fixed port so it can be stopped and started again. Linux
// only (descriptors are counted in /proc).
package hostile
