#!/usr/bin/env bash
# Sets up the embedded local recognizer (package stages/local, build tag
# pocketsphinx):
#
#  1. installs Debian's pocketsphinx packages when they are missing (as
#     root; otherwise it prints the apt-get command to run and exits 1);
#  2. builds the primed model folder: every file links to Debian's en-us
#     acoustic model except feat.params, which is a copy whose -cmninit
#     (the initial cepstral mean of the live normalisation) is replaced by
#     the mean measured on real speech. pocketsphinx 0.8+5prealpha ignores
#     -cmninit given to the decoder in favour of the model's feat.params,
#     so this is how the first session on a fresh decoder starts warm.
#
# The folder is $EARSHOT_MODEL_DIR, else ./.cache/pocketsphinx-model (from
# the repository root); the first argument overrides both. Idempotent: the
# folder is rebuilt in a temporary folder next to it and swapped in, so a
# re-run repairs it and a running gateway never sees it half made.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(gcc libc6-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us)
src=/usr/share/pocketsphinx/model/en-us/en-us
dest="${1:-${EARSHOT_MODEL_DIR:-.cache/pocketsphinx-model}}"

# Initial cepstral mean (13 coefficients, EARSHOT_CMNINIT overrides): the
# mean cepstrum of the shared real-speech fixtures (12 clips, 40 s, three
# sources), as pocketsphinx's batch normalisation computes it over all of
# them (about where the live normalisation settles on them). With a new
# decoder per clip, 22% of their words are wrong instead of 33% with
# Debian's value (a warm, reused decoder: 20%). Primed from one source
# only, the clips of the others improve as much (LibriVox 37% -> 24%,
# the rest 25% -> 16%). Debian's value:
# 41.00,-5.29,-0.12,5.09,2.48,-4.07,-1.37,-1.78,-5.08,-2.05,-6.45,-1.42,1.17
cmninit="${EARSHOT_CMNINIT:-54.89,2.86,-2.00,14.04,-11.97,6.29,-9.20,-5.22,0.18,-4.04,2.87,-2.88,1.08}"

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-pocketsphinx: missing ${missing[*]}; install with:" >&2
    echo "sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages[*]}"
    exit 1
  fi
  echo "setup-pocketsphinx: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
fi

if [ ! -f "$src/feat.params" ] || [ ! -f "$src/mdef" ]; then
  echo "setup-pocketsphinx: Debian's model is not in $src (package pocketsphinx-en-us)" >&2
  exit 1
fi
if ! [[ "$cmninit" =~ ^-?[0-9.]+(,-?[0-9.]+){12}$ ]]; then
  echo "setup-pocketsphinx: cmninit must be 13 comma-separated numbers, got '$cmninit'" >&2
  exit 1
fi

mkdir -p "$(dirname "$dest")"
tmp="$(mktemp -d "${dest%/}.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
for f in "$src"/*; do
  name="$(basename "$f")"
  [ "$name" = feat.params ] && continue
  ln -s "$f" "$tmp/$name"
done
# feat.params with -cmninit replaced (added if Debian's has none).
awk -v v="$cmninit" '
  $1 == "-cmninit" { print "-cmninit " v; done = 1; next }
  { print }
  END { if (!done) print "-cmninit " v }
' "$src/feat.params" >"$tmp/feat.params"
cat >"$tmp/README.earshot" <<NOTE
Primed pocketsphinx model for earshot, made by scripts/setup-pocketsphinx.sh.
Files link to $src except feat.params (-cmninit $cmninit).
NOTE
chmod 755 "$tmp"

# Swap it in: keep nothing of an older folder.
if [ -e "$dest" ] || [ -L "$dest" ]; then
  old="$(mktemp -d "${dest%/}.old.XXXXXX")"
  mv "$dest" "$old/"
  mv "$tmp" "$dest"
  rm -rf "$old"
else
  mv "$tmp" "$dest"
fi
trap - EXIT
echo "setup-pocketsphinx: model ready in $dest (cmninit $cmninit)" >&2
