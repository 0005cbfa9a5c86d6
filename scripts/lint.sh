#!/usr/bin/env bash
# ansible-lint (production profile, see .ansible-lint) on the collection checkout.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
[ -x "$VENV/bin/ansible-lint" ] || { echo "lint: no $VENV/bin/ansible-lint; run scripts/testbed.sh first" >&2; exit 1; }
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$REPO/.cache/collections"
cd "$REPO"
# --offline: CI has no Galaxy; the collection is found through ANSIBLE_COLLECTIONS_PATH.
args=(--offline)
[ -t 1 ] || args+=(--nocolor)
exec ansible-lint "${args[@]}" "$@"
