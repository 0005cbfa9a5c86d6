#!/usr/bin/env bash
# A second libvirt "host" on this machine, for live-migration tests: its own libvirtd in
# its own mount namespace, listening on 127.0.0.2 (see /work/shared/TESTBED.md).
#
#   scripts/second_libvirtd.sh start    idempotent; waits until qemu+tcp://127.0.0.2/system answers
#   scripts/second_libvirtd.sh stop     destroys the node's running domains, stops its libvirtd
#   scripts/second_libvirtd.sh status   exit 0 and print the URIs when it answers, else exit 3
#   scripts/second_libvirtd.sh purge    stop, then remove the node folder
#
# The namespace bind-mounts node folders over /run/libvirt /var/lib/libvirt /var/log/libvirt
# /etc/libvirt /var/cache/libvirt and mounts its own hugetlbfs on /dev/hugepages; it sees
# the same /work, /tmp and /srv as the first host. So a VM that migrates must keep its files
# outside /var/lib/libvirt: $KV_SHARED_DIR (default /srv/kvcompute-shared, 0755) is made for that.
#
# From inside the namespace the first host's libvirtd is reachable through its socket,
# bind-mounted at $NODE/node1-run: the peer2peer URI back is printed by `status`.
#
# Plain TCP without authentication, bound to a loopback address: a TEST FIXTURE ONLY.
# The main libvirtd is never restarted or touched.
#
# Environment: KV_NODE2_DIR (default /var/lib/kvcompute-node2), KV_NODE2_ADDR (127.0.0.2,
# must be in 127.0.0.0/8), KV_SHARED_DIR, KV_NODE2_WAIT (seconds, default 60).
set -euo pipefail

NODE="${KV_NODE2_DIR:-/var/lib/kvcompute-node2}"
ADDR="${KV_NODE2_ADDR:-127.0.0.2}"
SHARED="${KV_SHARED_DIR:-/srv/kvcompute-shared}"
WAIT="${KV_NODE2_WAIT:-60}"
URI="qemu+tcp://$ADDR/system"
PIDFILE="$NODE/libvirtd.pid"
# The directories the namespace replaces, and the node folder that stands in for each.
MOUNTS=(run:/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt etc:/etc/libvirt cache:/var/cache/libvirt)

say() { printf 'second_libvirtd: %s\n' "$*"; }
die() { printf 'second_libvirtd: ERROR: %s\n' "$*" >&2; exit 1; }

case "$ADDR" in 127.*) ;; *) die "KV_NODE2_ADDR=$ADDR: only loopback (127.0.0.0/8) is allowed for this unauthenticated fixture" ;; esac

daemon_pid() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # The pid must still be a libvirtd (pids are reused after a crash).
  [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = libvirtd ] || return 1
  echo "$pid"
}

answers() { timeout 10 virsh -c "$URI" uri >/dev/null 2>&1; }

# Mirror a directory tree's folders (owner and mode, no files) into the node folder.
skeleton() {
  local src="$1" dst="$2" depth="$3" d rel
  mkdir -p "$dst"
  chown --reference="$src" "$dst"; chmod --reference="$src" "$dst"
  while IFS= read -r d; do
    rel="${d#"$src"/}"
    case "$rel" in images/*|qemu/domain-*|qemu/*/domain-*) continue ;; esac
    mkdir -p "$dst/$rel"
    chown --reference="$d" "$dst/$rel"; chmod --reference="$d" "$dst/$rel"
  done < <(find "$src" -mindepth 1 -maxdepth "$depth" -type d | LC_ALL=C sort)
}

prepare_node() {
  mkdir -p "$NODE" "$NODE/node1-run"
  chmod 0755 "$NODE"
  [ -s "$NODE/host_uuid" ] || cat /proc/sys/kernel/random/uuid >"$NODE/host_uuid"
  if [ ! -d "$NODE/etc" ]; then
    # The host's config without its domains, networks, pools or secrets: the second host
    # starts empty and must not bring up a second virbr0 in the shared network namespace.
    cp -a /etc/libvirt "$NODE/etc"
    find "$NODE/etc/qemu" "$NODE/etc/storage" "$NODE/etc/secrets" -mindepth 1 \
      \( -name '*.xml' -o -type l -o -name '*.base64' \) -delete 2>/dev/null || true
  fi
  mkdir -p "$NODE/etc/qemu/networks/autostart" "$NODE/etc/storage/autostart"
  skeleton /var/lib/libvirt "$NODE/lib" 3
  skeleton /var/log/libvirt "$NODE/log" 1
  skeleton /var/cache/libvirt "$NODE/cache" 1
  mkdir -p "$NODE/run"; chmod 0755 "$NODE/run"
  # Rewritten on every start from the host's files, so host changes carry over.
  { cat /etc/libvirt/libvirtd.conf; cat <<EOF

# --- scripts/second_libvirtd.sh: loopback test fixture only ---
host_uuid = "$(cat "$NODE/host_uuid")"
listen_tcp = 1
listen_tls = 0
listen_addr = "$ADDR"
auth_tcp = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  } >"$NODE/etc/libvirtd.conf"
  # The first host's virtlogd owns its pidfile; QEMU logs go straight to files here.
  { cat /etc/libvirt/qemu.conf; printf '\n# --- scripts/second_libvirtd.sh ---\nstdio_handler = "file"\n'; } \
    >"$NODE/etc/qemu.conf"
  mkdir -p "$SHARED"; chmod 0755 "$SHARED"
}

start() {
  if pid="$(daemon_pid)" && answers; then
    say "already running (pid $pid) at $URI"
    return 0
  fi
  if pid="$(daemon_pid)"; then
    # Alive but not answering: still starting (wait until it answers) or just killed (wait until it
    # is gone, then start a new one).
    local deadline=$((SECONDS + WAIT))
    while daemon_pid >/dev/null; do
      answers && { say "running (pid $pid) at $URI"; return 0; }
      [ "$SECONDS" -lt "$deadline" ] || die "libvirtd pid $pid runs but $URI does not answer; see $NODE/log/libvirtd.log"
      sleep 0.3
    done
  fi
  rm -f "$PIDFILE"
  prepare_node
  local script mounts="" spec
  for spec in "${MOUNTS[@]}"; do
    mounts+="mount --bind '$NODE/${spec%%:*}' '${spec#*:}'"$'\n'
  done
  # Everything between unshare and exec happens in the new namespace only.
  script="set -e
mount --bind /run/libvirt '$NODE/node1-run'
$mounts
if mountpoint -q /dev/hugepages; then mount -t hugetlbfs hugetlbfs /dev/hugepages; fi
exec libvirtd --listen -d --pid-file '$PIDFILE'"
  unshare -m --propagation private bash -c "$script"
  wait_answers || die "libvirtd did not answer at $URI within ${WAIT}s; see $NODE/log/libvirtd.log"
  say "started (pid $(daemon_pid || echo '?')) at $URI"
}

wait_answers() {
  local deadline=$((SECONDS + WAIT))
  until answers; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.3
  done
}

stop() {
  local pid
  if ! pid="$(daemon_pid)"; then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  # Running guests of the node would outlive its libvirtd: stop them first.
  if answers; then
    local dom
    while IFS= read -r dom; do
      if [ -n "$dom" ]; then virsh -c "$URI" destroy "$dom" >/dev/null 2>&1 || true; fi
    done < <(virsh -c "$URI" list --name 2>/dev/null)
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + WAIT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(daemon_pid)" && answers; then
    echo "running pid=$pid"
    echo "uri=$URI"
    echo "migrate_uri=tcp://$ADDR"
    echo "node1_peer_uri=qemu+unix:///system?socket=$NODE/node1-run/libvirt-sock"
    echo "node=$NODE"
    echo "shared=$SHARED"
    return 0
  fi
  echo "stopped"
  return 3
}

[ "$(id -u)" = 0 ] || die "run as root (it creates a mount namespace and starts libvirtd)"
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  purge) stop; rm -rf "$NODE"; say "removed $NODE" ;;
  *) echo "usage: $0 start|stop|status|purge" >&2; exit 2 ;;
esac
