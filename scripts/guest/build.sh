#!/usr/bin/env bash
# Build the tiny Linux test guest: OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/stamp.
#
#   scripts/guest/build.sh OUTDIR
#
# Kernel: the Debian 12 image package that `apt-cache depends linux-image-amd64`
# names; userland: busybox-static. /init is scripts/guest/init.sh. See docs/test-guest.md.
#
# Cached: when OUTDIR/vmlinuz, OUTDIR/initrd.img and OUTDIR/stamp exist and the
# stamp's recipe hash matches this script + init, it does nothing (no apt calls).
# Otherwise it builds in OUTDIR/.build.* and renames the files into place, the
# stamp last, under a lock (parallel test workers may call it at once).
set -euo pipefail
umask 022

OUTDIR=${1:?usage: $0 OUTDIR}
case "$OUTDIR" in /*) ;; *) OUTDIR=$PWD/$OUTDIR ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INIT_SRC=$HERE/init.sh
# Modules, in load order. Optional ones (ACPI power button) may be missing.
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mem)
# pvpanic + pvpanic-mmio: the guest reports its kernel panic to QEMU's ISA pvpanic device (libvirt's
# <panic model='isa'/>), which is how libvirt learns of a crash (on_crash, dumps on crash).
OPTIONAL_MODULES=(evdev button pvpanic pvpanic-mmio)

log() { echo "guest-build: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

recipe=$(cat "${BASH_SOURCE[0]}" "$INIT_SRC" | sha256sum | cut -c1-16)

cached() {
    [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initrd.img" ] && [ -s "$OUTDIR/stamp" ] &&
        grep -qx "recipe=$recipe" "$OUTDIR/stamp"
}

if cached; then
    exit 0
fi

mkdir -p "$OUTDIR"
chmod 755 "$OUTDIR"
exec 9>"$OUTDIR/.lock"
flock 9
if cached; then  # another process built it while we waited
    exit 0
fi
rm -f "$OUTDIR/stamp"

start=$(date +%s%N)
work=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# ---------------------------------------------------------------- packages
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | sed -n 1p
}
have_candidates() {
    local k=$1
    [ -n "$k" ] || return 1
    for p in "$k" busybox-static; do
        # (no grep -q in a pipe: with pipefail the writer's SIGPIPE fails it)
        case "$(apt-cache policy "$p" 2>/dev/null)" in
            *"Candidate: "[0-9]*) ;;
            *) return 1 ;;
        esac
    done
}
kpkg=$(kernel_pkg)
if ! have_candidates "$kpkg"; then
    log "apt-cache does not know the packages; running apt-get update"
    apt-get update -qq >&2
    kpkg=$(kernel_pkg)
    have_candidates "$kpkg" || die "apt-cache knows no kernel package for linux-image-amd64 / busybox-static"
fi
if ! command -v cpio >/dev/null; then
    log "installing cpio"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cpio >&2 ||
        die "cannot install cpio"
fi

log "downloading $kpkg busybox-static"
mkdir "$work/debs"
# _apt cannot write into a 0700 dir; make it writable for the download only.
chmod 777 "$work/debs"
(cd "$work/debs" && apt-get download -q "$kpkg" busybox-static >&2 2>"$work/apt.err") ||
    { cat "$work/apt.err" >&2; die "apt-get download failed"; }
chmod 755 "$work/debs"
kdeb=$(find "$work/debs" -name "${kpkg}_*.deb" | sed -n 1p)
bdeb=$(find "$work/debs" -name 'busybox-static_*.deb' | sed -n 1p)
if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then die "apt-get download left no .deb files"; fi
kver=$(dpkg-deb -f "$kdeb" Version)
bver=$(dpkg-deb -f "$bdeb" Version)

# Extract only what is needed: the whole kernel package unpacks to ~400 MB.
mkdir "$work/pkg"
dpkg-deb --fsys-tarfile "$kdeb" |
    tar -x -C "$work/pkg" --wildcards \
        './boot/vmlinuz-*' \
        './lib/modules/*/modules.builtin' \
        './lib/modules/*/kernel/drivers/virtio/*' \
        './lib/modules/*/kernel/drivers/input/evdev.ko*' \
        './lib/modules/*/kernel/drivers/acpi/button.ko*' \
        './lib/modules/*/kernel/drivers/misc/pvpanic/*'
dpkg-deb -x "$bdeb" "$work/pkg"
vmlinuz=$(find "$work/pkg/boot" -name 'vmlinuz-*' | sed -n 1p)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kdeb"
krel=${vmlinuz##*/vmlinuz-}
moddir=$work/pkg/lib/modules/$krel

# ---------------------------------------------------------------- rootfs
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,lib/modules,etc/kvguest,etc/acpi/PWRF}
cp "$work/pkg/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
{ echo '#!/bin/busybox sh'; cat "$INIT_SRC"; } > "$root/init"
chmod 755 "$root/init"
# The kernel opens /dev/console for init before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
    mknod -m 600 "$root/dev/console" c 5 1
fi
cat > "$root/etc/acpi/PWRF/00000080" <<'ACPI'
#!/bin/sh
echo "KVGUEST POWEROFF acpi" > /dev/ttyS0
sync
poweroff -f
ACPI
chmod 755 "$root/etc/acpi/PWRF/00000080"

: > "$root/etc/kvguest/modules"
add_module() {  # name required(0/1)
    local name=$1 required=$2 f
    f=$(find "$moddir/kernel" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" | sed -n 1p)
    if [ -z "$f" ]; then
        if grep -q "/$name\.ko$" "$moddir/modules.builtin"; then
            log "module $name is built into $krel: skipped"
            return 0
        fi
        [ "$required" = 1 ] && die "module $name is neither a file nor built into $krel"
        log "optional module $name not found: skipped"
        return 0
    fi
    case "$f" in
        *.ko.xz) xz -dc "$f" > "$root/lib/modules/$name.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$name.ko" ;;
        *) cp "$f" "$root/lib/modules/$name.ko" ;;
    esac
    echo "$name" >> "$root/etc/kvguest/modules"
}
for m in "${MODULES[@]}"; do add_module "$m" 1; done
for m in "${OPTIONAL_MODULES[@]}"; do add_module "$m" 0; done

# Reproducible archive: sorted names, fixed owner and mtimes.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc --owner 0:0 --reproducible --quiet) | gzip -9 -n > "$work/initrd.img"
cp "$vmlinuz" "$work/vmlinuz"
chmod 644 "$work/vmlinuz" "$work/initrd.img"

cat > "$work/stamp" <<STAMP
kernel_package=$kpkg
kernel_version=$kver
kernel_release=$krel
busybox_version=$bver
modules=$(tr '\n' ' ' < "$root/etc/kvguest/modules" | sed 's/ $//')
initrd_bytes=$(stat -c %s "$work/initrd.img")
recipe=$recipe
STAMP
chmod 644 "$work/stamp"

mv -f "$work/vmlinuz" "$OUTDIR/vmlinuz"
mv -f "$work/initrd.img" "$OUTDIR/initrd.img"
mv -f "$work/stamp" "$OUTDIR/stamp"
log "built $kpkg $kver (+ busybox $bver) in $(( ($(date +%s%N) - start) / 1000000 )) ms -> $OUTDIR"
