#!/usr/bin/env bash
# `make test`: run every suite even after a failure, then list the failed ones and exit non-zero.
#
# Arguments are groups; a group "a+b" runs its suites side by side (CPU-bound suites that share
# nothing: 2 cores do them in about the time of the longest). The integration suite always runs
# alone, because its TCG guests and timeouts must not compete for the CPU.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
mkdir -p tests/output
rm -f tests/output/junit-*.xml tests/output/summary.txt tests/output/suite-*.log
passed="" failed=""

run_group() {
  local group="$1" suite pids=() names=() start=$SECONDS i rc
  IFS=+ read -r -a names <<<"$group"
  if [ "${#names[@]}" -eq 1 ]; then
    echo "=== ${names[0]}"
    if make --no-print-directory "${names[0]}"; then rc=0; else rc=1; fi
    record "${names[0]}" "$rc" "$start"
    return
  fi
  echo "=== ${names[*]} (side by side; each one's output follows when it ends)"
  for suite in "${names[@]}"; do
    make --no-print-directory "$suite" >"tests/output/suite-$suite.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!names[@]}"; do
    if wait "${pids[$i]}"; then rc=0; else rc=1; fi
    echo "=== ${names[$i]}"
    cat "tests/output/suite-${names[$i]}.log"
    record "${names[$i]}" "$rc" "$start"
  done
}

record() {
  local res=ok
  if [ "$2" -eq 0 ]; then passed="$passed $1"; else failed="$failed $1"; res=FAILED; fi
  echo "=== $1: $res ($((SECONDS - $3))s)"
}

for group in "$@"; do
  run_group "$group"
done
if [ -n "$failed" ]; then echo "make test: FAILED:$failed"; else echo "make test: all passed"; fi
.venv/bin/python scripts/test_summary.py --passed "$passed" --failed "$failed" tests/output/junit-*.xml \
  | tee tests/output/summary.txt
[ -z "$failed" ]
