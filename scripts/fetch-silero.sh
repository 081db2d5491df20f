#!/usr/bin/env bash
# Fetches the Silero VAD v6 model (silero_vad_v6.onnx, MIT) for stages/silero:
# `npm pack` of @ricky0123/vad-web 0.0.31 (ISC; no install scripts run), then
# tar extracts dist/silero_vad_v6.onnx, whose SHA-256 must be the pinned one
# (the same as silero.ModelSHA256).
#
# Destination: .cache/silero/silero_vad_v6.onnx from the repository root
# (git-ignored), or $EARSHOT_VAD_MODEL. Idempotent: a file already there
# with the right hash is kept as it is.
#
# Needs npm. As root, a missing npm is installed with apt-get (Debian's
# nodejs and npm); otherwise the script prints the command and exits 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pkg='@ricky0123/vad-web@0.0.31'
member='package/dist/silero_vad_v6.onnx'
want='1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3'
dest="${EARSHOT_VAD_MODEL:-.cache/silero/silero_vad_v6.onnx}"

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ] && [ "$(sha256 "$dest")" = "$want" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fetch-silero: npm is missing; install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends nodejs npm" >&2
    exit 1
  fi
  echo "fetch-silero: installing nodejs and npm with apt-get" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "$dest.tmp.$$"' EXIT

# npm pack only downloads the tarball: nothing is installed, no script runs.
tarball="$(cd "$tmp" && npm pack --ignore-scripts --silent "$pkg" | tail -n 1)"
tar -xzf "$tmp/$tarball" -C "$tmp" "$member"
got="$(sha256 "$tmp/$member")"
if [ "$got" != "$want" ]; then
  echo "fetch-silero: $pkg's silero_vad_v6.onnx has SHA-256 $got, want $want" >&2
  exit 1
fi

mkdir -p "$(dirname "$dest")"
# Move into place atomically: a reader never sees half a file.
cp "$tmp/$member" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
echo "fetch-silero: $dest" >&2
