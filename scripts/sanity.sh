#!/usr/bin/env bash
# ansible-test sanity on a clean copy of the collection (git-tracked + untracked-not-ignored
# files only) placed under <tmp>/ansible_collections/kvcompute/libvirt/.
# Extra arguments go to ansible-test, e.g.: scripts/sanity.sh --test pep8
# KV_SANITY_INSTALLED=<dir>: an installed collection instead (see below).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PY_VERSION="${KV_SANITY_PYTHON:-3.11}"
[ -x "$VENV/bin/ansible-test" ] || { echo "sanity: no $VENV/bin/ansible-test; run scripts/testbed.sh first" >&2; exit 1; }
export PATH="$VENV/bin:$PATH"

# ansible-test bootstraps pip in its sanity venvs with get-pip.py downloaded from
# ci-files.testing.ansible.com, which this machine cannot reach. It first looks in
# ~/.ansible/test/cache/get_pip_<version>.py, so put a stand-in there: ensurepip,
# then pip install the packages it asks for (pip==<version>).
pip_version="$("$VENV/bin/python" - <<'PY'
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])
PY
)"
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
marker="kvcompute.libvirt get-pip stand-in"
if [ ! -f "$get_pip" ] || grep -q "$marker" "$get_pip"; then
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip.tmp" <<PY
# $marker (scripts/sanity.sh): no network access to the real get-pip.py here.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
if any(not a.startswith("-") for a in args):
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
PY
  if cmp -s "$get_pip.tmp" "$get_pip"; then rm -f "$get_pip.tmp"; else mv "$get_pip.tmp" "$get_pip"; echo "sanity: wrote $get_pip"; fi
fi

# KV_SANITY_INSTALLED=<dir>: test that installed copy (e.g. from the built
# tarball, scripts/release.sh) as it is, instead of a copy of the checkout.
if [ -n "${KV_SANITY_INSTALLED:-}" ]; then
  cd "$KV_SANITY_INSTALLED"
  echo "sanity: installed collection $KV_SANITY_INSTALLED ($(find . -type f | wc -l) files, get-pip $pip_version)"
  exec ansible-test sanity --local --python "$PY_VERSION" --color no "$@"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kv-sanity.XXXXXX")"
dest="$tmp/ansible_collections/kvcompute/libvirt"
cleanup() {
  if [ -d "$dest/tests/output" ]; then
    mkdir -p "$REPO/tests/output"
    rsync -a --delete "$dest/tests/output/" "$REPO/tests/output/sanity-copy/" || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$dest"
(cd "$REPO" && git ls-files -co --exclude-standard -z) \
  | rsync -a --from0 --files-from=- --ignore-missing-args \
      --exclude=.venv/ --exclude=.cache/ --exclude=.git/ --exclude=tests/output/ "$REPO/" "$dest/"
echo "sanity: $(find "$dest" -type f | wc -l) files copied to $dest (get-pip $pip_version)"

cd "$dest"
ansible-test sanity --local --python "$PY_VERSION" --color no "$@"
