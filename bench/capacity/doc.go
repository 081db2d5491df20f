// Command capacity is the gateway's end-to-end capacity harness (issue 6):
// how many real-time 16 kHz sessions `earshot serve` carries on this
// machine, the latency it adds, and its CPU and memory per session, with
// the VAD gate off and active, against a bare WebSocket relay as the
// baseline. Results and commands are in bench/README.md.
//
//	go run ./bench/capacity            # the whole run: about 9 minutes here
//	go run ./bench/capacity -h         # levels, window, memory runs
//	go run ./bench/capacity compare -before a.json -after b.json
//
// It first waits (at most -quiet-wait, 10 minutes) for the 1-minute load
// average to fall below -quiet-load (0.5): other work on the machine's
// cores shows up as latency. -gateway-env passes extra environment to
// earshot serve for experiments (e.g. GOGC=400); it is added after the
// GOMAXPROCS=1 of -pin, so a GOMAXPROCS there wins.
//
// # Processes
//
// Everything runs on loopback, each part in its own process so that only
// the gateway's CPU and memory are counted as the gateway's:
//
//   - the harness (this process): builds bin/earshot into a temporary
//     folder, starts the others, and is the load generator;
//   - the upstream (`capacity upstream`, this binary re-executed): just
//     enough of Deepgram's live protocol for the gateway's Deepgram
//     provider, with no recognition (see upstream);
//   - the target: `earshot serve --stt deepgram --deepgram-url
//     ws://<upstream>/v1/listen --vad-gate off|active`, or the bare relay
//     (`capacity relay`, this binary re-executed; see relay).
//
// A fresh upstream and target are started for every level.
//
// With -pin (the default) the target runs on one CPU of its own, the first
// this process may use (CPU 0), with GOMAXPROCS=1 in its environment; the
// upstream and the harness run on the others (1..n-1). The children are
// started under `taskset -c <CPUs>` (util-linux), so every thread they
// create inherits the affinity; the harness pins each of its threads
// (/proc/self/task) with sched_setaffinity after building earshot, and
// sets its GOMAXPROCS to its CPUs. Each level checks the Cpus_allowed_list
// of every thread of the three processes and stops with an error if one
// may run elsewhere; the first level prints them. -pin needs Linux, 2 or
// more CPUs and taskset, and stops with an error otherwise; -pin=false
// lets all three share every core, as the first runs did.
//
// # Load
//
// Each session dials /v4/listen (by default pcm16, 16 kHz), sessions 5 ms apart (at
// most 5 s of ramp), and sends one 100 ms frame (3,200 bytes) every 100 ms
// from its own schedule, with one goroutine writing and one reading per
// session, a reused buffer and no per-frame allocation. The audio is the
// project's demo conversation (fixtures/speech-synth/demo-16k.wav, 8
// synthesized sentences) with its pauses stretched to 2.5 s (see
// stretchPauses), looped, each session starting at a different place.
//
// -codec and -frame-ms change what a session sends (see framing): pcm16
// (or pcm8) in -frame-ms frames (100 by default: the Omi app's), or a
// device codec (opus_fs320, opus, lc3, lc3_fs1030, aac, mulaw8, mulaw16)
// as one packet per binary frame at the packet's duration (50 a second for
// opus_fs320), with codec= set in the listen URL. The stretched
// conversation is encoded once at start-up with client.Encode (libopus
// and liblc3 need the harness built with -tags libcodecs; aac the ffmpeg
// command); without the encoder, the fixture of the same recording in
// fixtures/codecs is read and its packets put in the stretched loop's
// order. Sessions start 3.7 s of audio apart (offsetStride 100 ms frames,
// rounded to whole packets). The relay gets the same packets at the same
// pace: it forwards bytes. The harness builds earshot with its own build
// tags (go run -tags libcodecs ./bench/capacity builds earshot with
// libcodecs), and stops at start-up when this build cannot decode the
// codec. With a device codec the client → upstream frame latency is
// measured from the Results' arrival words (see Latency added); the plot
// is then not copied to bench/capacity.png unless -png is given.
//
// # Several framings, labels, compare
//
// -framings runs every configuration of -configs at every framing listed,
// in order, in one invocation (the memory runs once, at the first): e.g.
// -framings pcm16:100,opus_fs320,opus, a framing being a -codec and, for
// pcm16 and pcm8, ":<frame ms>" (100 when left out). It replaces -codec
// and -frame-ms (giving both is an error); without it the run has the one
// framing of -codec and -frame-ms, and its tables are those of the first
// runs. Each framing searches -levels (gate off, the relay) and
// -gate-levels (gate on) unless -framing-levels or -framing-gate-levels
// give it its own: "<framing>=<levels>" separated by semicolons, e.g.
// -framing-levels 'opus_fs320=50,100,150;opus=25,50,75' (pcm16 alone is
// pcm16:100). Every framing is encoded at start-up, so a framing this
// build cannot send stops the run before anything ran. One JSON holds the
// whole run: each run names its framing ("framing"), "framings" lists
// them with their levels, and "by_framing" is the capacity of each
// framing (largest passing sessions gate off, gate on and relay, the
// CPU-ms per audio-second there, and gate off ÷ relay CPU at one level
// both ran: the largest passing gate-off level). With several framings
// every table row starts with its framing, a table of the capacity by
// framing follows the summary, and the plot has two panels (frame p99,
// result p99) with a line per framing and configuration.
//
// -label names the run (e.g. the earshot build measured with -earshot): it
// is in the JSON ("label"), above the tables and in the plot's legend.
// `capacity compare -before a.json -after b.json [more.json ...]` (or the
// files alone, in order) prints markdown tables of two or more runs: the
// largest passing sessions by framing and configuration, and every level
// (sessions, frame p99, result p99, CPU-ms per audio-second, pass) with a
// group of columns per run, named by its label (or its file name), and
// with two runs the CPU after ÷ before. It reads the JSON of earlier
// harnesses too (their runs named by codec and frame).
//
// -channels N (1 by default, at most 8) makes every session a
// multi-channel one: the listen URL says channels=N, and each frame time
// sends N binary frames [channel id][payload] (ids 1..N, one after the
// other), channel 1's payload the frame the single-channel session sends,
// channel c's the frame (c-1)·⌊loop/N⌋ frames further on in the loop (with
// two, half the loop: 19.1 s of the stretched conversation), so that the
// channels do not speak in step (see channelShift). The stamp is written
// into the payload, after the id byte (see channelFrame): the gateway and
// the relay send the payload alone upstream, one upstream socket per
// channel, where the upstream finds the stamp at the start of the frame as
// with one channel. Each socket keeps its own frame sequence (the gate's
// pre-roll is found per socket) and its own Results. The bare relay reads
// channels=N too and does the same: N upstream sockets per client
// session, the client's frames demuxed by their id byte, every socket's
// text frames to the client. With N > 1, sessions are client sessions,
// frames are channel frames (N per frame time), a level passes with N
// upstream streams per session, the CPU per audio-second is per
// channel-audio-second (÷ sessions·N), RSS per session per client
// session, and the tables carry the channel count and an "upstream
// sockets" column; with one channel all is as before (no id byte,
// channels=1, the same tables). Result stamp words of different channels'
// sockets may reach the client out of order, so with N > 1 a word is new
// when not seen before (see seenWords).
//
// Measurement starts 2 s after the last session started and lasts -window
// (15 s); frames and results are counted by the time they were sent.
//
// # Latency added
//
// All processes share the wall clock. Client → upstream, raw PCM: the
// load generator stamps each frame's send time into it (see stamp); the
// upstream subtracts it from the frame's arrival (every frame is
// measured). Device codecs: see Arrival words below. Upstream → client: the
// upstream sends a final Results every second of audio frames it receives
// (10 frames of 100 ms, 50 of 20 ms) whose one word is its own send time; the client subtracts it from the arrival of the
// text frame that first carries the word (a segment, or for the relay the
// Results itself). For the gateway the 600 ms it holds new segments before
// sending them (fanout.DefaultFlushIntervalMs, Omi's behaviour, by design)
// is subtracted. Both directions therefore include the loopback hops and
// the client's and the upstream's own scheduling, for the relay as for the
// gateway. With the gate active, the frames it holds as pre-roll and sends
// with the next speech onset are measured apart (the first 300 ms of
// frames after a gap in a stream's frame sequence; the stretched pauses
// make every hold end in a gap).
//
// The stamp rides in the low bytes of PCM samples, so it reaches the
// upstream only when the frames are raw PCM. A lossy codec's decoder does
// not bring those bits through (and the relay forwards the packets
// untouched), so with a device codec the frames carry no stamp, and
// "every frame reaches the upstream" is checked over the whole run
// (binary messages sent against received; the gateway sends one decoded
// message upstream per packet). The result latency does not depend on the
// audio and is measured for every codec.
//
// # Arrival words
//
// Every periodic Results' word also carries, right after the send time,
// the arrival time at the upstream of the last audio frame it covers
// ("t<19 digits>a<19 digits>"; "p" instead of "a" when that frame was the
// gate's pre-roll, see upstreamConfig.PrerollMs): one word, so the gateway
// handles as many words as before. The word ends where that frame ends on
// the stream's clock; the gateway's segment carrying it ends there on the
// session's capture clock (it maps the stream's time back across what the
// gate held), and the relay's Results itself does. The load generator
// records every frame's send time in a ring by frame number (no
// allocation per frame); when a session ends, each sample's segment end is
// mapped to the frame whose end it is (frame end/duration − 1, a segment
// end within 1 ms after a boundary being the frame before it, for the
// gateway's rounding to whole milliseconds) and the frame latency is the
// arrival less that frame's send time: one sample per Results and session,
// enough for a p99 over the window. The gateway counts segment times from
// its conversation's origin, the start of its first word, which the
// upstream puts at the stream's start: with the gate off that is capture
// 0; with the gate active it is where the gate first opened, less its
// pre-roll, which the load generator does not know, so it calibrates it
// per session and conversation (the latest origin at which no sample's
// frame was sent after the sample arrived: exact as soon as one sample of
// the session has a latency under one frame's duration; see arrival.go).
// Runs record the method (frame_method: stamp or arrival), where the
// segment times counted from (frame_origin), the arrival method's
// figures whatever the method (frame_arrival_latency: with raw PCM, a
// check of the method against the stamps), the conversations whose known
// origin (relay, gate off) the calibration contradicted
// (frame_origin_mismatches) and the samples not mapped
// (frame_arrival_unresolved). The tables mark arrival figures with "*".
//
// # Pass
//
// A level passes when every session connects and stays connected, no frame
// is sent more than -max-late (200 ms) behind its schedule, every frame
// sent reaches the upstream (gate off, relay), each session has exactly one
// upstream stream, and the p99 added latency is under -target (20 ms) in
// both directions (with a device codec, the frame direction from the
// arrival words). The search tries -levels in order until one fails, then
// bisects once between the last pass and the first failure. The relay runs
// at every level the gateway with the gate off runs.
//
// # CPU and memory
//
// CPU is user+system time from /proc/<pid>/stat over the window; RSS is
// VmRSS from /proc/<pid>/status at the end of the window, less the
// target's RSS before the sessions, divided by the sessions. The upstream's
// and the harness's CPU and what the rest of the machine used (from
// /proc/stat) are recorded too. Pinned, the target's one core is its own,
// and sessions per core are the largest passing sessions on that core
// (÷ 1; the tables say "sessions on the target's one core"); with
// -pin=false all share the same cores and sessions per core divide by all
// of them. Each run records whether it was pinned, the CPUs the target
// could use and its threads' Cpus_allowed_list. Two memory runs
// follow the search: -mem-sessions sessions whose finals never cover the
// audio, so that every replay ring fills to its 30 s bound (the worst case
// of a streaming session), and -idle-sessions sessions that connect and
// send nothing.
//
// # Output
//
// bench/out/capacity-<time>.json (and capacity.json, capacity.md with the
// tables), and the plot bench/out/capacity.png, copied to
// bench/capacity.png (only for the one framing pcm16:100, unless -png
// is given). The plot is drawn by bench/capacity/plot, a nested
// module (so that gonum.org/v1/plot stays out of earshot's go.mod), with
// `go run`.
package main
