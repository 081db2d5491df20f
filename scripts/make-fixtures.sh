#!/usr/bin/env bash
# Synthesizes the speech fixtures in fixtures/speech-synth/ with espeak-ng,
# flite and sox: short English sentences as 16-bit mono WAVs at 16 kHz and 8 kHz, with
# leading, trailing and inter-sentence silence and, for some, light
# background noise; plus transcripts.tsv (file, text, sample_rate,
# duration_s), JSGF grammars allowing exactly one of those sentences
# (sentences.gram; demo.gram for the demo's), a README naming the tool versions used, and demo-16k.wav: a
# 26 s two-voice conversation spoken by flite (CMU's synthesizer, whose
# voices the embedded recognizer hears far better than espeak-ng's) that
# `task run` streams through the gateway.
#
# Idempotent: everything is rebuilt in a temporary folder and then moved into
# place; for given espeak-ng and sox versions the output is the same bytes
# (sox runs with -R, its repeatable mode, and without dither).
#
# Needs espeak-ng, flite and sox. As root, missing ones are installed with apt-get;
# otherwise the script prints the command to run and exits 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=fixtures/speech-synth

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox >/dev/null 2>&1 || missing+=(sox)
command -v flite >/dev/null 2>&1 || missing+=(flite)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "make-fixtures: missing ${missing[*]}; install with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# Words are lowercase and all in the CMU pronouncing dictionary, so that a
# grammar-constrained recognizer can take sentences.gram as it is.
sentences=(
  "the quick brown fox jumps over the lazy dog"
  "please call me back when you get home"
  "did you get the deck i sent this morning"
  "we will meet at the office at nine"
  "turn off the lights before you leave"
  "i would like a cup of coffee with milk"
)
# name:sentence index:rate:noise (noise: 1 = light white noise mixed in)
singles=(
  "fox-16k:0:16000:0"
  "call-8k:1:8000:0"
  "deck-16k:2:16000:1"
  "office-8k:3:8000:1"
  "lights-16k:4:16000:0"
  "coffee-8k:5:8000:1"
)
# The demo conversation, voices slt and rms taking turns.
demo=(
  "good morning everyone thanks for joining the call"
  "let us start with the schedule for next week"
  "the new office opens on monday at nine"
  "please send me the report before friday"
  "i will call the team after lunch"
  "we should order more coffee for the kitchen"
  "that sounds good to me"
  "thank you all and have a great day"
)
demo_voices=(slt rms)
demo_gap=1.0        # seconds between turns
demo_noise=0.003    # white-noise amplitude (RMS about -55 dBFS)

# The dialogue: sentences 2, 1 and 3, separated by silence, with noise,
# at 8 kHz like the Omi app's own live test.
dialogue=(2 1 3)

lead=0.5     # seconds of silence before the speech
trail=0.7    # after it (more than Deepgram's 300 ms endpointing)
gap=0.8      # between the dialogue's sentences
noise_vol=0.01 # white-noise amplitude (RMS about -45 dBFS)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sx() { sox -R -D -V1 "$@"; }

# trimmed <in> <rate> <out>: the synthesizer's output, 16-bit mono at rate,
# normalized to -3 dBFS peak, with its own leading and trailing silence
# trimmed so that the pads below are what the fixture has.
trimmed() {
  sx "$1" -r "$2" -b 16 -c 1 "$3" \
    silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse norm -3
}

# speech <index> <rate> <file>: one sentence spoken by espeak-ng.
speech() {
  espeak-ng -v en-us -s 160 -w "$tmp/raw.wav" "${sentences[$1]}"
  trimmed "$tmp/raw.wav" "$2" "$3"
}

# finish <in> <rate> <noise> <out> [volume]: pad with silence, mix in noise
# (of amplitude volume, default noise_vol).
finish() {
  sx "$1" "$tmp/padded.wav" pad "$lead" "$trail"
  if [ "$3" = 1 ]; then
    local dur
    dur=$(soxi -D "$tmp/padded.wav")
    sx -n -r "$2" -b 16 -c 1 "$tmp/noise.wav" synth "$dur" whitenoise vol "${5:-$noise_vol}"
    sx -m -v 1 "$tmp/padded.wav" -v 1 "$tmp/noise.wav" -b 16 "$4"
  else
    cp "$tmp/padded.wav" "$4"
  fi
}

mkdir -p "$tmp/out"
tsv="$tmp/out/transcripts.tsv"
printf 'file\ttext\tsample_rate\tduration_s\n' >"$tsv"
row() { printf '%s\t%s\t%s\t%.3f\n' "$1" "$2" "$3" "$(soxi -D "$tmp/out/$1")" >>"$tsv"; }

for s in "${singles[@]}"; do
  IFS=: read -r name idx rate noise <<<"$s"
  speech "$idx" "$rate" "$tmp/s.wav"
  finish "$tmp/s.wav" "$rate" "$noise" "$tmp/out/$name.wav"
  row "$name.wav" "${sentences[$idx]}" "$rate"
done

parts=()
text=""
sx -n -r 8000 -b 16 -c 1 "$tmp/gap.wav" trim 0 "$gap"
for i in "${!dialogue[@]}"; do
  speech "${dialogue[$i]}" 8000 "$tmp/d$i.wav"
  [ "$i" -gt 0 ] && parts+=("$tmp/gap.wav")
  parts+=("$tmp/d$i.wav")
  text="${text:+$text }${sentences[${dialogue[$i]}]}"
done
sx "${parts[@]}" "$tmp/d.wav"
finish "$tmp/d.wav" 8000 1 "$tmp/out/dialogue-8k.wav"
row dialogue-8k.wav "$text" 8000

parts=()
text=""
sx -n -r 16000 -b 16 -c 1 "$tmp/demo-gap.wav" trim 0 "$demo_gap"
for i in "${!demo[@]}"; do
  flite -voice "${demo_voices[$((i % ${#demo_voices[@]}))]}" -t "${demo[$i]}" -o "$tmp/raw.wav"
  trimmed "$tmp/raw.wav" 16000 "$tmp/demo$i.wav"
  [ "$i" -gt 0 ] && parts+=("$tmp/demo-gap.wav")
  parts+=("$tmp/demo$i.wav")
  text="${text:+$text }${demo[$i]}"
done
sx "${parts[@]}" "$tmp/demo.wav"
finish "$tmp/demo.wav" 16000 1 "$tmp/out/demo-16k.wav" "$demo_noise"
row demo-16k.wav "$text" 16000

# grammar <name> <sentence>...: a JSGF grammar whose public rule allows
# exactly one of the sentences.
grammar() {
  local sep=' '
  echo '#JSGF V1.0;'
  echo
  echo "grammar $1;"
  echo
  echo 'public <sentence> ='
  shift
  for sentence in "$@"; do
    echo "  $sep $sentence"
    sep='|'
  done
  echo '  ;'
}
grammar sentences "${sentences[@]}" >"$tmp/out/sentences.gram"
grammar demo "${demo[@]}" >"$tmp/out/demo.gram"

espeak_version=$(espeak-ng --version | sed -n 's/.*text-to-speech: \([^ ]*\).*/\1/p')
flite_version=$({ flite --version || true; } | sed -n 's/.*version: \(flite-[^ ]*\).*/\1/p' | head -1)
sox_version=$(sox --version | sed -n 's/.*SoX v\(.*\)/\1/p')
cat >"$tmp/out/README.md" <<EOF
# Synthesized speech fixtures

Generated by \`scripts/make-fixtures.sh\` (do not edit by hand; rerun it).
espeak-ng ${espeak_version} (voice en-us, 160 words per minute), ${flite_version}
(voices ${demo_voices[*]}, for demo-16k.wav only) and SoX ${sox_version}; for
these versions the script reproduces these bytes. Another synthesizer version
may pronounce differently: then the WAVs change, and the texts stay the same.

- \`*.wav\`: 16-bit mono PCM, at the rate in the name; ${lead} s of silence
  before the speech and ${trail} s after it, ${gap} s between the dialogue's
  sentences; the files marked noise below have white noise mixed in at
  amplitude ${noise_vol} (RMS about -45 dBFS, below earshot stream's speech
  threshold of -30 dBFS).
- \`transcripts.tsv\`: file, reference text, sample_rate, duration_s, with a
  header row; \`earshot stream --ref-file\` reads it.
- \`sentences.gram\`: a JSGF grammar whose public rule allows exactly one
  of the ${#sentences[@]} espeak-ng sentences, and \`demo.gram\` one of the ${#demo[@]} demo
  sentences (lowercase words, all in the CMU pronouncing dictionary).

- \`demo-16k.wav\`: the conversation \`task run\` streams: ${#demo[@]} sentences,
  voices ${demo_voices[*]} taking turns, ${demo_gap} s between them, white noise
  at amplitude ${demo_noise}. The embedded recognizer (with its general
  language model) hears flite's voices far better than espeak-ng's.

Noise: $(for s in "${singles[@]}"; do IFS=: read -r n _ _ z <<<"$s"; [ "$z" = 1 ] && printf '%s.wav, ' "$n"; done)dialogue-8k.wav.
EOF

mkdir -p "$out"
rm -f "$out"/*.wav
mv "$tmp"/out/* "$out"/
ls -l "$out" >&2
