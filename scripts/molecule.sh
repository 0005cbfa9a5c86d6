#!/usr/bin/env bash
# `make molecule`: `molecule test` for every scenario under extensions/molecule/
# (or those named: scripts/molecule.sh booted libvirt_host), one after the other,
# each with its time; fails if any fails. The booted scenario builds (once) and
# boots the Debian 12 image (scripts/debian_image.sh, scripts/debian_vm.sh).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
[ -x "$VENV/bin/molecule" ] || { echo "molecule: no $VENV/bin/molecule; run scripts/testbed.sh first" >&2; exit 1; }
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$REPO/.cache/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1
cd "$REPO"

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for f in extensions/molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$f")")"); done
fi
mkdir -p tests/output
failed=()
for s in "${scenarios[@]}"; do
  start=$SECONDS
  log="tests/output/molecule-$s.log"
  if molecule test -s "$s" >"$log" 2>&1; then res=ok; else res=FAILED; failed+=("$s"); tail -60 "$log"; fi
  echo "molecule: $s $res ($(( SECONDS - start ))s, log $log)"
done
[ ${#failed[@]} -eq 0 ] || { echo "molecule: FAILED: ${failed[*]}"; exit 1; }
