#!/usr/bin/env bash
# Regenerates fixtures/vad/*.json, the golden speech probabilities that
# stages/silero's TestGolden compares with: ONNX Runtime (onnxruntime-node,
# pinned in scripts/silero-golden/package.json) runs the Silero VAD v6 model
# over fixtures/speech-synth/*.wav. Also prints ONNX Runtime's time per
# 16 kHz chunk on this machine, to set beside
#   go test -run '^$' -bench . -benchmem ./stages/silero/
#
# Fetches the model first (scripts/fetch-silero.sh, which installs npm with
# apt-get when run as root and it is missing). The Node dependencies go to
# scripts/silero-golden/node_modules (git-ignored), installed without their
# install scripts: onnxruntime-node ships its CPU binaries in the package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/fetch-silero.sh
model="${EARSHOT_VAD_MODEL:-.cache/silero/silero_vad_v6.onnx}"

(cd scripts/silero-golden && npm ci --ignore-scripts --no-audit --no-fund --silent)
node scripts/silero-golden/golden.mjs "$model" fixtures/speech-synth fixtures/vad
