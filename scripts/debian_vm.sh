#!/usr/bin/env bash
# Boot and stop throw-away Debian 12 guests from the image scripts/debian_image.sh
# builds: QEMU TCG started directly (no libvirt), user-mode networking with no
# route out (restrict=on) and only SSH forwarded, on 127.0.0.1. The q35 machine
# has an emulated Intel IOMMU, so intel_iommu=on on the kernel line really turns
# on DMA remapping in the guest (IOMMU groups appear), as on a real host.
#
#   scripts/debian_vm.sh start NAME   boot (a qcow2 overlay on the cached image),
#                                     wait for SSH, print the instance as JSON
#   scripts/debian_vm.sh stop NAME    stop it and delete its overlay
#   scripts/debian_vm.sh status NAME  exit 0 when it runs
#
# Environment: KV_VM_CACHE (as debian_image.sh), KV_VM_CPUS (2), KV_VM_MEMORY
# (MiB, 2560: room for one 1Gi hugepage), KV_VM_BOOT_TIMEOUT (seconds, 900).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${KV_VM_CACHE:-$REPO/.cache/debian-vm}"
CPUS="${KV_VM_CPUS:-2}"
MEMORY="${KV_VM_MEMORY:-2560}"
BOOT_TIMEOUT="${KV_VM_BOOT_TIMEOUT:-900}"
# Without AES-NI and PCLMULQDQ the guest loads no aesni/ghash modules, whose
# self-tests warn under TCG and dump pages of registers to the slow serial port.
# TCG's max CPU says AuthenticAMD; the emulated IOMMU is Intel's, so the CPU says
# GenuineIntel too (the iommu role picks intel_iommu=on by vendor).
CPU="max,aes=off,pclmulqdq=off,vendor=GenuineIntel"
say() { printf 'debian_vm: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ $# -eq 2 ] || die "usage: $0 start|stop|status NAME"
action="$1" name="$2"
[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "NAME: letters, digits, . _ - only, not '$name'"
run="$CACHE/run/$name"

running() { [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null; }

guest_ssh() {
  ssh -q -i "$run/id_ed25519" -p "$(cat "$run/port")" -o BatchMode=yes -o ConnectTimeout=30 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null kvtest@127.0.0.1 "$@"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if running; then
    say "$name runs already (pid $(cat "$run/qemu.pid"))"
  else
    local image
    image="$(bash "$REPO/scripts/debian_image.sh")"
    rm -rf "$run"
    mkdir -p "$run"
    cp "$image/id_ed25519" "$run/id_ed25519"
    chmod 0600 "$run/id_ed25519"
    qemu-img create -q -f qcow2 -F qcow2 -b "$image/disk.qcow2" "$run/disk.qcow2"
    # The port is free when chosen; QEMU fails to bind if another process took
    # it in between: then try another one.
    local tries=0
    until
      free_port >"$run/port"
      qemu-system-x86_64 -name "kvtest-$name" -machine q35 -accel tcg -cpu "$CPU" \
        -smp "$CPUS" -m "$MEMORY" -rtc base=utc \
        -device intel-iommu,intremap=off \
        -drive "file=$run/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$(cat "$run/port")-:22" \
        -device virtio-net-pci,netdev=n0 \
        -display none -monitor none -serial "file:$run/serial.log" \
        -daemonize -pidfile "$run/qemu.pid" 2>"$run/qemu.err"
    do
      tries=$((tries + 1))
      [ "$tries" -lt 3 ] || die "qemu did not start: $(cat "$run/qemu.err")"
    done
    say "$name: qemu pid $(cat "$run/qemu.pid"), ssh on 127.0.0.1:$(cat "$run/port"), serial log $run/serial.log"
  fi
  local t0=$SECONDS
  until guest_ssh true 2>/dev/null; do
    running || { tail -30 "$run/serial.log" >&2; die "$name: qemu exited during boot"; }
    if [ $(( SECONDS - t0 )) -ge "$BOOT_TIMEOUT" ]; then
      tail -30 "$run/serial.log" >&2
      die "$name: no SSH after ${BOOT_TIMEOUT}s"
    fi
    sleep 2
  done
  say "$name: SSH answers after $(( SECONDS - t0 ))s"
  printf '{"instance": "%s", "address": "127.0.0.1", "port": %s, "user": "kvtest", "identity_file": "%s", "become_method": "sudo", "serial_log": "%s", "boot_seconds": %s}\n' \
    "$name" "$(cat "$run/port")" "$run/id_ed25519" "$run/serial.log" "$(( SECONDS - t0 ))"
}

stop() {
  if running; then
    local pid
    pid="$(cat "$run/qemu.pid")"
    kill "$pid"
    local t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
      [ $(( SECONDS - t0 )) -lt 30 ] || { kill -9 "$pid" 2>/dev/null || true; break; }
      sleep 0.5
    done
    say "$name: stopped (pid $pid)"
  fi
  rm -rf "$run"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) die "unknown action '$action' (start, stop, status)" ;;
esac
