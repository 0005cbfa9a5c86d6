#!/usr/bin/env bash
# Build (once) a small bootable Debian 12 disk image for the real-boot Molecule
# scenario, and print the folder that holds it:
#   <cache>/<hash>/disk.qcow2   BIOS + GRUB (grub-pc), so kernel arguments go through
#                               /etc/default/grub and update-grub as on a real host
#   <cache>/<hash>/id_ed25519   the key of user "kvtest" (passwordless sudo)
#   <cache>/<hash>/build.json   packages, size, build seconds
# <hash> is the sha256 of this script: any change here builds a new image.
# <cache> is $KV_VM_CACHE, default <repo>/.cache/debian-vm.
#
# No loop devices, no mounts: mmdebstrap builds the tree, mkfs.ext4 -d turns it
# into a filesystem image, and the MBR, GRUB's boot.img and core.img (from the
# image's own grub-pc) are written into the disk file with dd.
#
# The image holds what the libvirt_host role would install (libvirt, QEMU, OVMF,
# swtpm, the module venv with bitmath): the guest runs with no route out, and
# installing QEMU inside a TCG guest would take longer than the rest of the test.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${KV_VM_CACHE:-$REPO/.cache/debian-vm}"
HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
OUT="$CACHE/$HASH"
say() { printf 'debian_image: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ -f "$OUT/disk.qcow2" ] && [ -f "$OUT/build.json" ]; then
  echo "$OUT"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root, chroot)"

MIRROR="${KV_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${KV_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
DISK_SIZE=3G
# What a booted host needs, plus what the host roles would install (libvirt_host
# role vars: qemu..swtpm-tools, python3-libvirt, python3-lxml, python3-venv,
# python3-packaging).
PACKAGES=(
  linux-image-amd64 grub-pc systemd-sysv udev dbus kmod e2fsprogs procps iproute2
  openssh-server sudo python3 python3-apt python3-venv python3-packaging
  qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-system libvirt-daemon-driver-qemu
  libvirt-clients ovmf swtpm swtpm-tools python3-libvirt python3-lxml
)
# Kernel drivers no VM guest needs. (Excluding /usr/share/doc breaks the upgrade
# of essential packages from bookworm-updates inside mmdebstrap: dpkg then
# misses the directories it skipped.)
EXCLUDES=()
for d in gpu media net/wireless net/ethernet infiniband staging bluetooth isdn usb iio; do
  EXCLUDES+=("/lib/modules/*/kernel/drivers/$d/*")
done
EXCLUDES+=("/lib/modules/*/kernel/sound/*")

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v sfdisk >/dev/null || need+=(fdisk)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  say "apt: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; }
fi

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
start=$SECONDS
say "building $OUT (log: $work/build.log, kept as $OUT/build.log)"

# No fsync per file (the tree is thrown away if the build fails).
dpkgopts=(--dpkgopt=force-unsafe-io)
for p in "${EXCLUDES[@]}"; do dpkgopts+=("--dpkgopt=path-exclude=$p"); done
include="$(IFS=,; echo "${PACKAGES[*]}")"
# Keep apt's package lists: the apt module reads them (the guest cannot update them).
# The initramfs holds only what mounts a virtio root (small: GRUB loads it
# through the BIOS, which is slow under TCG).
# shellcheck disable=SC2016  # the hooks' $1 is mmdebstrap's (the new root), not ours
mmdebstrap --mode=root --variant=minbase --include="$include" \
  --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='APT::Install-Recommends "false"' \
  "${dpkgopts[@]}" --skip=cleanup/apt/lists \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/kvtest"' \
  --setup-hook='printf "%s\n" virtio_pci virtio_blk ext4 >"$1/usr/share/initramfs-tools/modules.d/kvtest"' \
  bookworm "$root" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY_MIRROR bookworm-security main" \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "mmdebstrap failed"; }
say "  mmdebstrap done ($(( SECONDS - start ))s)"

in_root() { chroot "$root" "$@" >>"$work/build.log" 2>&1; }

# --- the guest's configuration ---------------------------------------------
echo kvtest-guest >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 kvtest-guest\n' >"$root/etc/hosts"
echo 'LABEL=kvroot / ext4 errors=remount-ro 0 1' >"$root/etc/fstab"
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*
[Network]
DHCP=ipv4
EOF
in_root systemctl enable systemd-networkd ssh
# Nothing in the guest may reach out (it has no route anyway) or wait for it.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer systemd-networkd-wait-online.service \
  e2scrub_all.timer fstrim.timer

# The user Molecule logs in as.
ssh-keygen -q -t ed25519 -N '' -C kvtest -f "$work/id_ed25519"
in_root useradd --create-home --shell /bin/bash --password "*" kvtest
install -d -m 0700 "$root/home/kvtest/.ssh"
install -m 0600 "$work/id_ed25519.pub" "$root/home/kvtest/.ssh/authorized_keys"
in_root chown -R kvtest:kvtest /home/kvtest/.ssh
echo 'kvtest ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/kvtest"
chmod 0440 "$root/etc/sudoers.d/kvtest"
echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/kvtest.conf"

# The guest has no route to a package index: its pip installs from a local
# folder, so the libvirt_host role really creates its module venv and installs
# the module requirements (at the collection's pins) into it.
pip_python="$REPO/.venv/bin/python"
[ -x "$pip_python" ] || pip_python=python3
grep -E '^(bitmath|pycdlib)==' "$REPO/requirements.txt" | while read -r pin; do
  "$pip_python" -m pip download --quiet --no-deps --dest "$root/var/cache/kvtest-wheels" "$pin" \
    >>"$work/build.log" 2>&1 || die "pip download $pin failed"
done
printf '[global]\nno-index = true\nfind-links = /var/cache/kvtest-wheels\n' >"$root/etc/pip.conf"

# GRUB: the kernel line comes from /etc/default/grub through update-grub, as on
# any Debian host. update-grub needs a real block device, so the first grub.cfg
# is written here by hand; the guest regenerates it on its first update-grub.
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
  -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0"/' "$root/etc/default/grub"
echo 'GRUB_TERMINAL=serial' >>"$root/etc/default/grub"
mkdir -p "$root/boot/grub"
cp -a "$root/usr/lib/grub/i386-pc" "$root/boot/grub/"
cat >"$root/boot/grub/grub.cfg" <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry 'Debian GNU/Linux' {
  search --no-floppy --label --set=root kvroot
  linux /vmlinuz root=LABEL=kvroot ro console=ttyS0
  initrd /initrd.img
}
EOF
in_root grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 normal search search_label linux configfile
mv "$root/tmp/core.img" "$work/core.img"
cp "$root/usr/lib/grub/i386-pc/boot.img" "$work/boot.img"
# Clear what must differ per boot or is cache only.
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"
touch "$root/etc/machine-id"
rm -rf "$root/var/cache/apt/archives/"*.deb

# --- the disk: MBR + core.img in the gap before partition 1 (at 1 MiB) -------
tree_mib="$(du -sm "$root" | cut -f1)"
truncate -s "$DISK_SIZE" "$work/disk.raw"
echo 'start=2048, type=83, bootable' | sfdisk --quiet "$work/disk.raw"
part_bytes=$(( $(stat -c %s "$work/disk.raw") - 2048 * 512 ))
mkfs.ext4 -q -L kvroot -d "$root" -E offset=$(( 2048 * 512 )) "$work/disk.raw" "$(( part_bytes / 1024 ))k"
# boot.img's code (the first 440 bytes) keeps the partition table; core.img from sector 1.
[ "$(stat -c %s "$work/core.img")" -lt $(( 2047 * 512 )) ] || die "core.img does not fit before partition 1"
dd if="$work/boot.img" of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$work/disk.raw" bs=512 seek=1 conv=notrunc status=none
qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2"

seconds=$(( SECONDS - start ))
mkdir -p "$OUT"
mv "$work/disk.qcow2" "$work/id_ed25519" "$work/id_ed25519.pub" "$OUT/"
cp "$work/build.log" "$OUT/build.log"
cat >"$OUT/build.json" <<EOF
{"build_seconds": $seconds, "tree_mib": $tree_mib, "qcow2_mib": $(( $(stat -c %s "$OUT/disk.qcow2") / 1048576 )),
 "kernel": "$(basename "$(readlink -f "$root/vmlinuz")")", "packages": "${PACKAGES[*]}"}
EOF
# Images built by other versions of this script are not used any more.
find "$CACHE" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{16}' ! -name "$HASH" \
  -exec rm -rf {} +
say "built in ${seconds}s: tree ${tree_mib} MiB, $(tr -d '\n' <"$OUT/build.json")"
echo "$OUT"
