#!/usr/bin/env bash
# Runs the gateway on 127.0.0.1:8790 (called by `task run`, after the build).
# With DEEPGRAM_API_KEY set it transcribes through Deepgram; without it a
# local `earshot emulate` (energy-test recognizer: a test double, not speech
# recognition) stands in as the upstream and is stopped with the gateway.
# Arguments are passed to `earshot serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=bin/earshot
export EARSHOT_API_KEYS="${EARSHOT_API_KEYS:-dev-key}"
upstream=()
if [ -z "${DEEPGRAM_API_KEY:-}" ]; then
  "$bin" emulate --addr 127.0.0.1:8791 --recognizer energy-test &
  emu=$!
  trap 'kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true' EXIT
  upstream=(--deepgram-url ws://127.0.0.1:8791/v1/listen)
fi
echo "earshot: connect to ws://127.0.0.1:8790/v4/listen with 'Authorization: Bearer <one of EARSHOT_API_KEYS>'" >&2
"$bin" serve "${upstream[@]}" "$@" &
gw=$!
trap 'kill -TERM "$gw" 2>/dev/null || true' INT TERM
wait "$gw" || true
wait "$gw" 2>/dev/null || true
