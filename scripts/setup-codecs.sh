#!/usr/bin/env bash
# Installs the Debian packages that the build tag libcodecs needs: the C
# codec libraries bound through cgo by internal/libopus (libopus, linked
# statically from libopus.a), internal/liblc3 (liblc3, linked dynamically:
# Debian ships no archive) and internal/libav (FFmpeg's libavcodec, linked
# dynamically), with their headers and the C toolchain. Without the tag
# the packages build without them and report ErrUnavailable.
#
# Missing packages are installed as root; otherwise the script prints the
# apt-get command to run and exits 1. Idempotent: with everything in place
# it changes nothing. The tests of internal/libav also use the ffmpeg
# command, when present, to make their AAC streams (not installed here).
set -euo pipefail

packages=(gcc libc6-dev libopus-dev liblc3-dev libavcodec-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-codecs: ${packages[*]} already installed" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-codecs: missing ${missing[*]}; install with:" >&2
  echo "sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages[*]}"
  exit 1
fi
echo "setup-codecs: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
echo "setup-codecs: installed ${missing[*]}" >&2
