#!/usr/bin/env bash
# The release checks (`make release`, the `release` suite of `make test`):
#   1. antsibull-changelog lint, and a release + changelog build in a scratch copy
#   2. ansible-galaxy collection build: the tarball holds no tests, bench, scripts,
#      molecule scenarios, caches or build output
#   3. install the tarball into a scratch collections path; ansible-test sanity on
#      that installed copy (scripts/sanity.sh, KV_SANITY_INSTALLED)
#   4. ansible-builder create (execution-environment.yml), and ansible-builder's
#      own introspection finds the collection's Python and system requirements
#      in the installed copy (meta/execution-environment.yml)
# KV_RELEASE_SKIP_SANITY=1 skips step 3 (the longest).
set -euo pipefail

# shellcheck source=scripts/venv_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/venv_env.sh" antsibull-changelog
say() { printf 'release: %s\n' "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
cd "$REPO"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kv-release.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
version="$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"

# --- 1. changelog -------------------------------------------------------------
antsibull-changelog lint
mkdir -p "$tmp/changelog"
git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- --ignore-missing-args "$REPO/" "$tmp/changelog/"
(cd "$tmp/changelog" && antsibull-changelog release --version "$version" >/dev/null && antsibull-changelog lint)
[ -s "$tmp/changelog/CHANGELOG.rst" ] || die "antsibull-changelog release wrote no CHANGELOG.rst"
say "changelog: lint clean; release $version builds CHANGELOG.rst ($(wc -l <"$tmp/changelog/CHANGELOG.rst") lines) from $(find changelogs/fragments -name "*.yml" | wc -l) fragments"

# --- 2. build -----------------------------------------------------------------
ansible-galaxy collection build --output-path "$tmp/dist" . >/dev/null
tarball="$tmp/dist/kvcompute-libvirt-$version.tar.gz"
[ -f "$tarball" ] || die "no $tarball"
tar tzf "$tarball" >"$tmp/dist/files.txt"
junk="$(grep -E '^(tests|bench|scripts|extensions|\.cache|\.venv|\.ci|\.git|docs/_build|docs/site|context|changelogs/fragments)(/|$)|__pycache__|\.pyc$|(^|/)\.hypothesis|\.tar\.gz$' "$tmp/dist/files.txt" || true)"
[ -z "$junk" ] || die "the tarball holds files it must not: $(echo "$junk" | head -20 | tr '\n' ' ')"
for must in MANIFEST.json FILES.json README.md plugins/modules/kv_vm.py roles/libvirt_host/tasks/main.yml \
            meta/runtime.yml meta/execution-environment.yml requirements.txt bindep.txt; do
  grep -qx "$must" "$tmp/dist/files.txt" || die "the tarball lacks $must"
done
say "build: $(basename "$tarball") $(( $(stat -c %s "$tarball") / 1024 )) KiB, $(grep -vc '/$' "$tmp/dist/files.txt") files"

# --- 3. install + sanity on the installed copy -----------------------------------
ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ansible-galaxy collection install --offline --no-deps --force \
  -p "$tmp/collections" "$tarball" >/dev/null
installed="$tmp/collections/ansible_collections/kvcompute/libvirt"
[ -f "$installed/MANIFEST.json" ] || die "the tarball did not install into $installed"
if [ "${KV_RELEASE_SKIP_SANITY:-0}" != 1 ]; then
  KV_SANITY_INSTALLED="$installed" bash "$REPO/scripts/sanity.sh"
fi

# --- 4. execution environment ---------------------------------------------------
ansible-builder create --file execution-environment.yml --context "$tmp/context" >/dev/null
[ -f "$tmp/context/Dockerfile" ] || [ -f "$tmp/context/Containerfile" ] || die "ansible-builder create wrote no Containerfile"
python "$tmp/context/_build/scripts/introspect.py" introspect "$tmp/collections" >"$tmp/ee-deps.yml"
for req in libvirt-python lxml bitmath libvirt-devel pkgconf-pkg-config gcc; do
  grep -q "^- '${req}[ =\[]" "$tmp/ee-deps.yml" || die "the EE introspection misses $req: $(cat "$tmp/ee-deps.yml")"
done
say "execution environment: build context created; the collection brings $(grep -c "from collection kvcompute.libvirt" "$tmp/ee-deps.yml") requirements"
