# shellcheck shell=bash
# Sourced by scripts/docs.sh, molecule.sh and release.sh: REPO, VENV, the venv
# first on PATH, the checkout's collection link as the collections path.
# $1: a tool the venv must have (scripts/testbed.sh installs it).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
[ -x "$VENV/bin/$1" ] || { echo "$(basename "$0"): no $VENV/bin/$1; run scripts/testbed.sh first" >&2; exit 1; }
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$REPO/.cache/collections"
