#!/usr/bin/env bash
# The first-run demo, called by `task run` and `task demo` after the set-up
# and the tagged build:
#
#  1. starts `earshot serve` on $EARSHOT_ADDR (default 127.0.0.1:8790). With
#     no DEEPGRAM_API_KEY it transcribes with the embedded recognizer; with
#     one, through Deepgram;
#  2. once it listens, streams a speech fixture (default
#     fixtures/speech-synth/demo-16k.wav, or $EARSHOT_DEMO_WAV) through it
#     with `earshot stream` at real-time pace, printing the live transcript
#     and a summary with the word error rate against the fixture's text;
#  3. `task run` then keeps the gateway serving until Ctrl-C (SIGINT or
#     SIGTERM drains it); `task demo` (--demo-only) stops it and exits with
#     the stream's status.
#
# Usage: scripts/run.sh [--demo-only] [serve flags...]
# EARSHOT_DEMO_WAV picks another WAV (any rate and channel count) and
# EARSHOT_DEMO_REF its reference text.
# Client key: EARSHOT_API_KEYS (comma-separated), default "dev-key".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=bin/earshot
demo_only=0
if [ "${1:-}" = --demo-only ]; then
  demo_only=1
  shift
fi
export EARSHOT_API_KEYS="${EARSHOT_API_KEYS:-dev-key}"
addr="${EARSHOT_ADDR:-127.0.0.1:8790}"
wav="${EARSHOT_DEMO_WAV:-fixtures/speech-synth/demo-16k.wav}"
# The reference text for the word error rate: $EARSHOT_DEMO_REF, else the
# fixture's row of transcripts.tsv (none for a WAV of your own).
ref=()
if [ -n "${EARSHOT_DEMO_REF:-}" ]; then
  ref=(--ref "$EARSHOT_DEMO_REF")
elif [ -z "${EARSHOT_DEMO_WAV:-}" ]; then
  ref=(--ref-file fixtures/speech-synth/transcripts.tsv)
fi

"$bin" serve --addr "$addr" "$@" &
gw=$!
stop() {
  kill -TERM "$gw" 2>/dev/null || true
  wait "$gw" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

# The gateway listens once its provider is ready (the local recognizer
# loads its decoders first).
host="${addr%:*}"
port="${addr##*:}"
for _ in $(seq 1 300); do
  if ! kill -0 "$gw" 2>/dev/null; then
    wait "$gw" || true
    echo "run: earshot serve exited before listening (see its log above)" >&2
    exit 1
  fi
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
  sleep 0.1
done

echo "run: streaming $wav through ws://$addr/v4/listen" >&2
status=0
key="$(cut -d, -f1 <<<"$EARSHOT_API_KEYS")"
"$bin" stream --url "ws://$addr/v4/listen" --key "$key" --pace 1 \
  --wait-final 5 ${ref[@]+"${ref[@]}"} "$wav" || status=$?

if [ "$demo_only" = 1 ]; then
  exit "$status"
fi
echo "run: the gateway keeps serving on ws://$addr/v4/listen" \
  "(Authorization: Bearer <one of EARSHOT_API_KEYS>); Ctrl-C stops it" >&2
trap - EXIT
trap stop INT TERM
wait "$gw" || true
