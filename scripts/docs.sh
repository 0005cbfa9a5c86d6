#!/usr/bin/env bash
# The docs site (`make docs`): antsibull-docs renders the module and role docs
# and the extra docs (docs/docsite/), the project pages (docs/*.md) join them,
# and Sphinx builds HTML into docs/_build/html. Warnings are errors.
#   scripts/docs.sh          lint the collection docs, then build the site
#   scripts/docs.sh lint     antsibull-docs lint-collection-docs only
set -euo pipefail

# shellcheck source=scripts/venv_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/venv_env.sh" antsibull-docs
OUT="$REPO/docs/_build"

# Module/role docs (validated against the schema), extra docs, links.yml, and
# the markup of every documentation string.
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck "$REPO"
[ "${1:-build}" = lint ] && exit 0

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kv-docs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/rst"
antsibull-docs --config-file "$REPO/docs/site/antsibull-docs.cfg" collection \
  --use-current --cleanup everything --dest-dir "$tmp/rst" kvcompute.libvirt
cp "$REPO/docs/site/index.rst" "$REPO/docs/site/ansible-references.rst" "$tmp/rst/"
mkdir -p "$tmp/rst/project"
cp "$REPO"/docs/*.md "$tmp/rst/project/"
rm -rf "$OUT"
sphinx-build -q -W --keep-going -c "$REPO/docs/site" -b html "$tmp/rst" "$OUT/html"
echo "docs: $OUT/html/index.html ($(find "$OUT/html" -name '*.html' | wc -l) pages)"
