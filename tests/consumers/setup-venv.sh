#!/usr/bin/env bash
# Prepare the Python venv that tests/consumers/check_export.py runs in.
#
#   bash tests/consumers/setup-venv.sh [VENV_DIR]     (default: <repo>/.venv)
#
# Idempotent: creates the venv only when it is missing, runs pip only when
# requirements.txt changed since the last successful install (sha256 stamp kept
# inside the venv), and lays out an offline tiktoken cache built from the rank
# files that ship inside the tiktoken-rs crate (FORMATS.md section 6), so that
# tiktoken never reaches for the network.  Progress goes to stderr; the last and
# only line on stdout is the venv's python path:
#
#   PY=$(bash tests/consumers/setup-venv.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${1:-$repo/.venv}
req=$here/requirements.txt

log() { printf 'setup-venv: %s\n' "$*" >&2; }

# 1. The venv itself.
if [[ ! -x $venv/bin/python ]]; then
    log "creating venv $venv"
    python3 -m venv "$venv"
fi
venv=$(cd "$venv" && pwd)
py=$venv/bin/python

# 2. Pinned packages, only when requirements.txt changed.
stamp=$venv/.rlx-requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [[ $want != "$have" ]]; then
    log "installing $req"
    "$py" -m pip install --disable-pip-version-check --no-input --quiet -r "$req" >&2
    printf '%s\n' "$want" >"$stamp"
else
    log "requirements unchanged since last install ($want)"
fi

# 3. Offline tiktoken cache from the tiktoken-rs crate's embedded rank files.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
find_assets() {
    local dirs=()
    shopt -s nullglob
    dirs=("$cargo_home"/registry/src/*/tiktoken-rs-0.12.*/assets)
    shopt -u nullglob
    ((${#dirs[@]})) || return 1
    # Newest 0.12.x if several are unpacked.
    printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}
if ! assets=$(find_assets); then
    # Fetch from a scratch manifest so the repo's Cargo.lock is never rewritten.
    log "tiktoken-rs sources missing under $cargo_home/registry/src; running cargo fetch"
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    mkdir -p "$scratch/src"
    : >"$scratch/src/lib.rs"
    printf '[package]\nname = "rlx-tiktoken-assets"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\ntiktoken-rs = "=0.12.1"\n' \
        >"$scratch/Cargo.toml"
    (cd "$scratch" && cargo fetch >&2)
    assets=$(find_assets) || { log "tiktoken-rs 0.12.x assets still not found after cargo fetch"; exit 1; }
fi

cache=$venv/tiktoken-cache
mkdir -p "$cache"
# name in the cache = sha1 of the blob URL; content must match tiktoken's built-in sha256.
#   encoding      sha1(URL)                                  sha256(file)
entries=(
    "cl100k_base 9b5ad71b2ce5302211f9c61530b329a4922fc6a4 223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    "o200k_base  fb374d419588a4632f3f557e76b4b70aebbca790 446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
)
for entry in "${entries[@]}"; do
    read -r name key sum <<<"$entry"
    src=$assets/$name.tiktoken
    dst=$cache/$key
    [[ -f $src ]] || { log "missing $src"; exit 1; }
    if [[ ! -f $dst ]] || ! cmp -s "$src" "$dst"; then
        cp "$src" "$dst.tmp"
        mv "$dst.tmp" "$dst"
    fi
    got=$(sha256sum "$dst" | cut -d' ' -f1)
    if [[ $got != "$sum" ]]; then
        log "$dst has sha256 $got, tiktoken expects $sum"
        exit 1
    fi
done

# 4. Prove the cache works without the network (a miss would try to download).
TIKTOKEN_CACHE_DIR=$cache "$py" - >&2 <<'PY'
import tiktoken
for name in ("cl100k_base", "o200k_base"):
    n = len(tiktoken.get_encoding(name).encode("hello world"))
    assert n == 2, (name, n)
print("setup-venv: tiktoken offline cache OK")
PY

printf '%s\n' "$py"
