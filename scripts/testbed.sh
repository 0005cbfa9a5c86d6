#!/usr/bin/env bash
# The one setup script for `make test`, `make demo` and CI.
#
# Idempotent: on a prepared machine it only checks and prints what it found.
#   a) Debian packages: build tools for libvirt-python, libvirt + QEMU + OVMF + swtpm
#   b) $REPO/.venv with requirements-test.txt (skipped while the stamp hash matches)
#   c) $REPO/.cache/collections/ansible_collections/kvcompute/libvirt -> $REPO
#   d) the host: /dev/kvm usable by QEMU, hugetlbfs on /dev/hugepages, virtlogd +
#      libvirtd running (playbooks/host.yml when it exists, else plain shell;
#      KV_TESTBED_NO_ROLE=1 forces the shell path)
#
# Environment: KV_TESTBED_NO_ROLE=1, KV_TEST_URI (default qemu:///system),
#              PYTHON (default python3), KV_LIBVIRT_WAIT (seconds, default 60).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
COLLECTIONS="$REPO/.cache/collections"
URI="${KV_TEST_URI:-qemu:///system}"
PYTHON="${PYTHON:-python3}"
WAIT="${KV_LIBVIRT_WAIT:-60}"

T0=$SECONDS
say() { printf 'testbed: %s\n' "$*"; }
die() { printf 'testbed: ERROR: %s\n' "$*" >&2; exit 1; }
step_time() { say "  ($(( SECONDS - $1 ))s)"; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts libvirtd)"

# --- a) Debian packages ------------------------------------------------------
APT_PACKAGES=(
  gcc pkg-config libvirt-dev rsync git shellcheck
  qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-system
  libvirt-daemon-driver-qemu libvirt-clients ovmf swtpm swtpm-tools
)
t=$SECONDS
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$REPO/.cache"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$REPO/.cache/apt.log" 2>&1 || { tail -30 "$REPO/.cache/apt.log" >&2; die "apt-get failed"; }
  step_time "$t"
else
  say "apt: all ${#APT_PACKAGES[@]} packages present"
fi

# --- b) virtualenv -----------------------------------------------------------
t=$SECONDS
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
  || die "$PYTHON must be Python >= 3.11 (ansible-core 2.19)"
want_hash="$(cat "$REPO/requirements.txt" "$REPO/requirements-test.txt" \
  <("$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_hash" ]; then
  say "venv: up to date ($VENV)"
else
  if [ ! -x "$VENV/bin/python" ]; then
    say "venv: creating $VENV with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed (on Debian's python3: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip --version >/dev/null || die "the new venv has no pip (ensurepip missing?)"
  fi
  say "venv: pip install -r requirements-test.txt (log: .cache/pip-install.log)"
  mkdir -p "$REPO/.cache"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REPO/requirements-test.txt" \
      >"$REPO/.cache/pip-install.log" 2>&1; then
    grep -v "^WARNING: Location 'file:" "$REPO/.cache/pip-install.log" | tail -30 >&2
    die "pip install failed"
  fi
  echo "$want_hash" >"$stamp"
  step_time "$t"
fi

# --- c) collection path ------------------------------------------------------
link="$COLLECTIONS/ansible_collections/kvcompute/libvirt"
if [ "$(readlink "$link" 2>/dev/null || true)" = "$REPO" ]; then
  say "collection: $link -> $REPO"
else
  mkdir -p "$(dirname "$link")"
  rm -rf "$link"
  ln -s "$REPO" "$link"
  say "collection: linked $link -> $REPO"
fi
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"

# --- d) the host -------------------------------------------------------------
virsh_answers() { timeout 10 virsh -c "$URI" uri >/dev/null 2>&1; }

host_by_shell() {
  local did=()
  # QEMU runs as libvirt-qemu (group kvm); /dev/kvm often comes as root:root 0600.
  if [ -c /dev/kvm ]; then
    if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
      chgrp kvm /dev/kvm && chmod 660 /dev/kvm && did+=("/dev/kvm -> root:kvm 0660")
    fi
  fi
  # libvirt needs hugetlbfs mounted before libvirtd starts.
  mkdir -p /dev/hugepages
  if ! mountpoint -q /dev/hugepages; then
    mount -t hugetlbfs hugetlbfs /dev/hugepages
    did+=("mounted hugetlbfs on /dev/hugepages")
    if pgrep -x libvirtd >/dev/null; then
      say "WARNING: hugetlbfs mounted after libvirtd started; restart libvirtd for hugepage-backed guests"
    fi
  fi
  if [ -d /run/systemd/system ]; then
    for d in virtlogd libvirtd; do
      systemctl is-active -q "$d" || { systemctl start "$d"; did+=("systemctl start $d"); }
    done
  else
    pgrep -x virtlogd >/dev/null || { virtlogd -d; did+=("started virtlogd"); }
    pgrep -x libvirtd >/dev/null || { libvirtd -d; did+=("started libvirtd"); }
  fi
  if [ ${#did[@]} -gt 0 ]; then
    local IFS=';'
    say "host (shell): ${did[*]}"
  else
    say "host (shell): nothing to do"
  fi
}

# The host looks prepared: daemons up and answering, /dev/kvm and hugetlbfs right.
host_ready() {
  { [ ! -c /dev/kvm ] || [ "$(stat -c '%G %a' /dev/kvm)" = "kvm 660" ]; } \
    && mountpoint -q /dev/hugepages && pgrep -x virtlogd >/dev/null && pgrep -x libvirtd >/dev/null \
    && virsh_answers
}

t=$SECONDS
if [ -f "$REPO/playbooks/host.yml" ] && [ "${KV_TESTBED_NO_ROLE:-0}" != 1 ]; then
  # Re-run the playbook only when it or the role changed, or the host is not ready
  # (e.g. after a reboot). KV_TESTBED_FORCE_HOST=1 always runs it.
  host_hash="$(cd "$REPO" && find playbooks/host.yml roles/libvirt_host -type f 2>/dev/null \
    | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)"
  host_stamp="$REPO/.cache/host-playbook.sha256"
  if [ "${KV_TESTBED_FORCE_HOST:-0}" != 1 ] && [ -f "$host_stamp" ] \
     && [ "$(cat "$host_stamp")" = "$host_hash" ] && host_ready; then
    say "host: prepared (playbooks/host.yml unchanged since last run; KV_TESTBED_FORCE_HOST=1 re-runs it)"
  else
    say "host: ansible-playbook playbooks/host.yml (log: .cache/host-playbook.log)"
    rm -f "$host_stamp"
    # No run-strategy service here: tests start their own, for their own domains only
    # (a host-wide one would start Always VMs that test cleanups destroy before undefining them).
    (cd "$REPO" && ANSIBLE_NOCOLOR=1 "$VENV/bin/ansible-playbook" -i localhost, -c local \
       -e ansible_python_interpreter="$VENV/bin/python" -e libvirt_host_runstrategy_service=false playbooks/host.yml) \
      >"$REPO/.cache/host-playbook.log" 2>&1 \
      || { tail -40 "$REPO/.cache/host-playbook.log" >&2; die "playbooks/host.yml failed (KV_TESTBED_NO_ROLE=1 to bypass)"; }
    grep -E '^localhost +:' "$REPO/.cache/host-playbook.log" | tail -1 | sed 's/^/testbed:   /'
    echo "$host_hash" >"$host_stamp"
  fi
else
  host_by_shell
fi

deadline=$(( SECONDS + WAIT ))
until virsh_answers; do
  [ $SECONDS -lt $deadline ] || die "libvirtd does not answer at $URI after ${WAIT}s"
  sleep 0.5
done
step_time "$t"

# --- summary -----------------------------------------------------------------
libvirt_version="$(virsh -c "$URI" version --daemon 2>/dev/null | sed -n 's/^Running against daemon: //p')"
qemu_version="$(virsh -c "$URI" version 2>/dev/null | sed -n 's/^Running hypervisor: //p')"
qemu_user="$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' /etc/libvirt/qemu.conf 2>/dev/null | tail -1)"
qemu_user="${qemu_user:-libvirt-qemu}"
kvm=no
if [ -c /dev/kvm ] && runuser -u "$qemu_user" -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null \
   && virsh -c "$URI" domcapabilities --virttype kvm >/dev/null 2>&1; then
  kvm=yes
fi
say "ready in $(( SECONDS - T0 ))s: libvirt ${libvirt_version:-?}, ${qemu_version:-QEMU ?}, uri $URI, kvm usable: $kvm"
