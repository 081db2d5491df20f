#!/usr/bin/env bash
# Makes the codec test vectors in fixtures/codecs/ with the REFERENCE
# encoders and decoders (libopus through FFmpeg and opus-tools, liblc3's
# elc3/dlc3, FFmpeg's native AAC encoder and decoder, FFmpeg's and SoX's
# G.711 µ-law), from the speech fixtures fox-16k.wav (short, kept with the
# reference decodes), demo-16k.wav (26 s, for end-to-end transcription;
# no reference decodes kept) and, for mulaw8, call-8k.wav. Project code
# only demuxes: scripts/codecfix splits each container into a .pkt file
# (internal/packets), checks the Opus modes from the TOC bytes, measures
# the reference decode's alignment and writes manifest.json. See
# fixtures/codecs/README.md for the formats and alignment rules.
#
# Run with (the outputs are the same bytes for these versions):
#   ffmpeg 5.1.9-0+deb12u1 (libopus 1.3.1, native aac encoder)
#   opus-tools 0.2 (opusenc, opusdec; libopus 1.3.1, libopusenc 0.2.1)
#   liblc3-tools 1.0.1 (elc3, dlc3)
#   SoX 14.4.2
#   go 1.26
#
# Idempotent: everything is built in a temporary folder, then replaces
# the generated files of fixtures/codecs (README.md stays).
#
#   bash scripts/make-codec-fixtures.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in ffmpeg opusenc opusdec elc3 dlc3 sox go; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make-codec-fixtures: missing $tool; install with:" >&2
    echo "  sudo apt-get install -y ffmpeg opus-tools liblc3-tools sox" >&2
    exit 1
  fi
done

out=fixtures/codecs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# $tmp mirrors fixtures/ so that the manifest's relative paths hold once
# moved; the encoders run in $work, on links to the sources, so that the
# command lines recorded name plain files.
mkdir -p "$tmp/fixtures/codecs" "$tmp/fixtures/speech-synth" "$tmp/work"
o=$tmp/fixtures/codecs
s=$tmp/fixtures/speech-synth
work=$tmp/work
for f in fox-16k.wav demo-16k.wav call-8k.wav transcripts.tsv; do
  cp "fixtures/speech-synth/$f" "$s/"
  ln -s "$s/$f" "$work/$f"
done
go build -o "$tmp/codecfix" ./scripts/codecfix

# Runs a command in $work, its stderr shown only when it fails (elc3 and
# dlc3 draw progress bars on it).
in_work() {
  (cd "$work" && "$@" 2>"$tmp/stderr") || { cat "$tmp/stderr" >&2; return 1; }
}

# encode CMD...: runs the encoder in $work and keeps its command line for
# the manifest.
encode() {
  in_work "$@"
  encoder="$*"
}

# add NAME SOURCE EXT [codecfix flags...]: files the set NAME made from
# SOURCE (a WAV's base name) once the encoder has written $work/NAME.EXT
# and the reference decoder $work/NAME.s16. Except for demo-16k, the
# decode is kept as NAME.ref.s16 and the container (but raw µ-law) beside
# the .pkt.
add() {
  local name=$1 source=$2 ext=$3
  shift 3
  local in=$work/$name.$ext ref=(-decoded "$work/$name.s16")
  if [ "$source" != demo-16k ]; then
    mv "$work/$name.s16" "$o/$name.ref.s16"
    ref=(-ref "$o/$name.ref.s16")
    if [ "$ext" != ul ]; then
      mv "$in" "$o/"
      in=$o/$name.$ext
    fi
  fi
  "$tmp/codecfix" -manifest "$o/manifest.json" -name "$name" -in "$in" \
    -pkt "$o/$name.pkt" "${ref[@]}" -source "$s/$source.wav" -encoder "$encoder" "$@"
}

ff=(ffmpeg -nostdin -v error -y)
# -fflags/-flags bitexact: no version tags, a fixed Ogg serial number, and
# FFmpeg's C float DSP (the same AAC bytes whatever the CPU's SIMD).
exact=(-fflags +bitexact -flags:a +bitexact)

# opus NAME SOURCE CODEC MODE: files the Ogg Opus $work/NAME.opus, made
# from SOURCE-16k.wav, with opusdec's 16 kHz decode; each packet must be
# in MODE. For the fox source of the sets in $opus48, a second entry,
# NAME-48k, has opusdec's 48 kHz decode: libopus's own output, where
# opusdec at 16 kHz resamples that with its speex resampler.
opus48=" opus-celt10-fox opus-silk20-fox opus-hybrid20-fox "
opus() {
  local n=$1 src=$2 codec=$3 mode=$4
  in_work opusdec --quiet --rate 16000 --no-dither "$n.opus" "$n.s16"
  if [[ $opus48 == *" $n "* ]]; then
    in_work opusdec --quiet --rate 48000 --no-dither "$n.opus" "$n-48k.ref.s16"
  fi
  add "$n" "$src-16k" opus -codec "$codec" -rate 16000 -container ogg -ref-rate 16000 -want-mode "$mode"
  if [[ $opus48 == *" $n "* ]]; then
    mv "$work/$n-48k.ref.s16" "$o/"
    "$tmp/codecfix" -manifest "$o/manifest.json" -name "$n-48k" -codec "$codec" -rate 48000 \
      -container ogg -in "$o/$n.opus" -pkt "$o/$n.pkt" -ref "$o/$n-48k.ref.s16" -ref-rate 48000 \
      -source "$s/$src-16k.wav" -align "$work/$src-48k.wav" -encoder "$encoder" -want-mode "$mode"
  fi
}

for src in fox demo; do
  wav=$src-16k.wav
  # A 48 kHz copy: the hybrid variant's input, and what the 48 kHz
  # decodes are measured against.
  in_work sox -R -D "$wav" -r 48000 "$src-48k.wav"

  # Opus, CELT only: what the Omi firmware sends (restricted low delay,
  # 32 kbit/s), 10 ms packets for codec opus, 20 ms for opus_fs320.
  encode "${ff[@]}" -i "$wav" -c:a libopus -application lowdelay -frame_duration 10 -b:a 32k "${exact[@]}" "opus-celt10-$src.opus"
  opus "opus-celt10-$src" "$src" opus celt
  encode "${ff[@]}" -i "$wav" -c:a libopus -application lowdelay -frame_duration 20 -b:a 32k "${exact[@]}" "opus-celt20-$src.opus"
  opus "opus-celt20-$src" "$src" opus_fs320 celt

  # Opus, SILK only: VoIP at 16 kbit/s, 20 ms packets.
  encode "${ff[@]}" -i "$wav" -c:a libopus -application voip -frame_duration 20 -b:a 16k "${exact[@]}" "opus-silk20-$src.opus"
  opus "opus-silk20-$src" "$src" opus_fs320 silk

  # Opus, hybrid: the 48 kHz copy, speech at 24 kbit/s, 20 ms, the
  # bandwidth forced to fullband (OPUS_SET_BANDWIDTH 4008 =
  # OPUS_BANDWIDTH_FULLBAND 1105): the source has nothing above 8 kHz, so
  # libopus would otherwise pick wideband SILK. FFmpeg cannot pass that
  # control; opusenc can.
  encode opusenc --quiet --serial 1 --speech --bitrate 24 --framesize 20 --set-ctl-int 4008=1105 "$src-48k.wav" "opus-hybrid20-$src.opus"
  encoder="sox -R -D $wav -r 48000 $src-48k.wav && $encoder"
  opus "opus-hybrid20-$src" "$src" opus_fs320 hybrid

  # LC3: 16 kHz, 10 ms, 24 kbit/s = 30-byte frames (Omi's lc3_fs1030).
  # dlc3 drops the codec delay, lc3_delay_samples(10000, 16000) = 40
  # samples (2.5 ms), from the start of its output.
  n=lc3-fs1030-$src
  encode elc3 -b 24000 -m 10 "$wav" "$n.lc3"
  in_work dlc3 "$n.lc3" "$n.dec.wav"
  in_work sox -R -D "$n.dec.wav" -t raw -e signed -b 16 -L "$n.s16"
  add "$n" "$src-16k" lc3 -codec lc3_fs1030 -rate 16000 -container lc3 -ref-rate 16000 -ref-skip 40

  # AAC-LC in ADTS, 32 kbit/s; FFmpeg decodes every frame, its encoder
  # priming included (the manifest's source_delay_samples).
  n=aac-$src
  encode "${ff[@]}" -i "$wav" -c:a aac -b:a 32k -ar 16000 -ac 1 "${exact[@]}" -f adts "$n.aac"
  in_work "${ff[@]}" -i "$n.aac" -f s16le -ac 1 -ar 16000 "$n.s16"
  add "$n" "$src-16k" aac -codec aac -rate 16000 -container adts -ref-rate 16000 -ref-skip 0
done

# G.711 µ-law, encoded by FFmpeg, decoded by SoX (and checked against
# FFmpeg's decode): 20 ms packets at 8 kHz, 10 ms at 16 kHz; the short
# sources only (µ-law of demo-16k would be 412 kB).
mulaw() {
  local n=$1 wav=$2 rate=$3 bytes=$4 codec=$5
  encode "${ff[@]}" -i "$wav" -c:a pcm_mulaw -f mulaw "$n.ul"
  in_work sox -R -D -t ul -r "$rate" -c 1 "$n.ul" -t raw -e signed -b 16 -L "$n.s16"
  in_work "${ff[@]}" -f mulaw -ar "$rate" -ac 1 -i "$n.ul" -f s16le "$n.ff.s16"
  if ! cmp -s "$work/$n.s16" "$work/$n.ff.s16"; then
    echo "make-codec-fixtures: warning: $n: SoX's and FFmpeg's µ-law decodes differ" >&2
  fi
  add "$n" "${wav%.wav}" ul -codec "$codec" -rate "$rate" -container raw -frame-bytes "$bytes" -ref-rate "$rate" -ref-skip 0
}
mulaw mulaw8-call call-8k.wav 8000 160 mulaw8
mulaw mulaw16-fox fox-16k.wav 16000 160 mulaw16

find "$out" -maxdepth 1 -type f ! -name README.md -delete 2>/dev/null || true
mkdir -p "$out"
mv "$o"/* "$out/"
echo "make-codec-fixtures: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1) in $out"
