#!/usr/bin/env bash
# `make molecule`: `molecule test` for every scenario under extensions/molecule/
# (or those named: scripts/molecule.sh booted libvirt_host), one after the other,
# each with its time; fails if any fails. The booted scenario builds (once) and
# boots the Debian 12 image (scripts/debian_image.sh, scripts/debian_vm.sh).
set -euo pipefail

# shellcheck source=scripts/venv_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/venv_env.sh" molecule
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1
cd "$REPO"

# The booted scenario builds an image and boots a TCG guest twice: it runs
# when named, or with KV_MOLECULE_BOOTED=1 (docs/ecosystem.md, Times).
if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for f in extensions/molecule/*/molecule.yml; do
    s="$(basename "$(dirname "$f")")"
    if [ "$s" = booted ] && [ "${KV_MOLECULE_BOOTED:-0}" != 1 ]; then
      echo "molecule: booted skipped (KV_MOLECULE_BOOTED=1 or 'scripts/molecule.sh booted' runs it)"
      continue
    fi
    scenarios+=("$s")
  done
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
