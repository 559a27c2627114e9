#!/usr/bin/env bash
# Prepare the Python venv that tests/consumers/check_trl.py runs in (torch,
# transformers, trl, datasets, accelerate; CPU only).
#
#   bash tests/consumers/setup-trl-venv.sh [VENV_DIR]
#       (default: ${XDG_CACHE_HOME:-$HOME/.cache}/rlx/trl-venv)
#
# The venv is about 5 GB (torch's CUDA libraries, see trl-requirements.txt), so
# it lives outside the clone by default and is shared by every checkout.
# Idempotent: creates the venv only when it is missing, runs pip only when
# trl-requirements.txt changed since the last successful install (sha256 stamp
# kept inside the venv). The file is the complete pinned closure and is
# installed with --no-deps, which is what lets it leave out triton and the CUDA
# Python bindings. A smoke test then proves that torch imports and
# back-propagates on the CPU and that TRL's trainers import. Progress goes to
# stderr; the last and only line on stdout is the venv's python path:
#
#   PY=$(bash tests/consumers/setup-trl-venv.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/rlx/trl-venv}
req=$here/trl-requirements.txt

log() { printf 'setup-trl-venv: %s\n' "$*" >&2; }

# 1. The venv itself.
if [[ ! -x $venv/bin/python ]]; then
    log "creating venv $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi
venv=$(cd "$venv" && pwd)
py=$venv/bin/python

# 2. Pinned packages, only when trl-requirements.txt changed.
stamp=$venv/.rlx-trl-requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [[ $want != "$have" ]]; then
    log "installing $req (2.7 GB of wheels, 4.9 GB installed; 1-2 minutes)"
    rm -f "$stamp"
    "$py" -m pip install --disable-pip-version-check --no-input --quiet \
        --no-deps -r "$req" >&2
    # The closure must be complete except for what trl-requirements.txt leaves
    # out on purpose.
    check=$("$py" -m pip check --disable-pip-version-check 2>&1 || true)
    unexpected=$(printf '%s\n' "$check" |
        grep -vE '^torch [^ ]+ requires (triton|cuda-bindings), which is not installed\.$' |
        grep -vE '^cuda-bindings|^No broken requirements found\.$' |
        grep -v '^$' || true)
    if [[ -n $unexpected ]]; then
        log "pip check found requirements that trl-requirements.txt does not satisfy:"
        printf '%s\n' "$unexpected" >&2
        exit 1
    fi
    printf '%s\n' "$want" >"$stamp"
else
    log "requirements unchanged since last install ($want)"
fi

# 3. Prove that the CPU stack works without the network: torch loads its CUDA
# libraries and trains on the CPU, and TRL's trainers import.
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$py" - >&2 <<'PY'
import torch
x = torch.randn(4, 3, requires_grad=True)
(x @ x.T).sum().backward()
assert x.grad is not None and x.grad.shape == (4, 3)
import trl
from trl import DPOTrainer, KTOTrainer, RewardTrainer, SFTTrainer  # noqa: F401
from trl import data_utils  # noqa: F401
print(f"setup-trl-venv: torch {torch.__version__} (cuda available: {torch.cuda.is_available()}), "
      f"trl {trl.__version__}: OK")
PY

printf '%s\n' "$py"
