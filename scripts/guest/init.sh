# The guest's /init; build.sh puts "#!/bin/busybox sh" in front of it (ansible-test allows no such
# shebang in the collection).
# shellcheck shell=dash
# /init of the kvcompute.libvirt test guest (copied verbatim into the initramfs
# by scripts/guest/build.sh; see docs/test-guest.md for the console protocol).
#
# Runs as PID 1 from the initramfs: never exits (the kernel would panic).
/bin/busybox --install -s /bin
export PATH=/bin

mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The serial console. Everything this script prints goes there; errors too.
exec </dev/null >/dev/ttyS0 2>&1

# Modules from the kernel package, in dependency order (build.sh wrote the list;
# a module built into the kernel is not in it).
while read -r mod; do
    [ -n "$mod" ] || continue
    insmod "/lib/modules/$mod.ko" || echo "KVGUEST WARN insmod $mod failed"
done < /etc/kvguest/modules

# kv.* options from the kernel command line. The marker is also kept in this
# shell's memory (tests dump guest memory and look for it).
KV_MARKER=none
KV_POWEROFF_AFTER=
KV_PANIC_AFTER=
KV_COUNTER=
KV_DIRTY_MB=
read -r KV_CMDLINE < /proc/cmdline
for opt in $KV_CMDLINE; do
    case "$opt" in
        kv.marker=*) KV_MARKER=${opt#kv.marker=} ;;
        kv.poweroff_after=*) KV_POWEROFF_AFTER=${opt#kv.poweroff_after=} ;;
        kv.panic_after=*) KV_PANIC_AFTER=${opt#kv.panic_after=} ;;
        kv.counter=*) KV_COUNTER=${opt#kv.counter=} ;;
        kv.dirty_mb=*) KV_DIRTY_MB=${opt#kv.dirty_mb=} ;;
    esac
done
export KV_MARKER

# Quieter console from here on (errors only), so kernel messages (hotplug is
# chatty) do not cut into the state lines; a loglevel= on the command line wins.
case " $KV_CMDLINE " in
    *" loglevel="*) ;;
    *) echo 4 > /proc/sys/kernel/printk ;;
esac

# ACPI power button -> clean poweroff (needs button + evdev, loaded above if present).
if [ -e /dev/input/event0 ]; then
    acpid -c /etc/acpi -l /run/acpid.log 2>/dev/null || echo "KVGUEST WARN acpid failed"
fi

if [ -n "$KV_POWEROFF_AFTER" ]; then
    (sleep "$KV_POWEROFF_AFTER"; echo "KVGUEST POWEROFF after=$KV_POWEROFF_AFTER"; sync; poweroff -f) &
fi

if [ -n "$KV_PANIC_AFTER" ]; then
    # A real kernel panic (sysrq c): pvpanic tells QEMU, libvirt applies <on_crash>.
    (sleep "$KV_PANIC_AFTER"; echo "KVGUEST PANIC after=$KV_PANIC_AFTER"; echo 1 > /proc/sys/kernel/sysrq
     echo c > /proc/sysrq-trigger) &
fi

# A running counter with this boot's id: a live migration keeps both, a reboot changes both.
if [ "$KV_COUNTER" = 1 ]; then
    read -r boot_id < /proc/sys/kernel/random/boot_id
    (n=0; while :; do n=$((n + 1)); echo "KVGUEST tick=$n boot=$boot_id"; sleep 1; done) &
fi

# Keep rewriting KV_DIRTY_MB MiB of non-zero data (QEMU sends zero pages almost for free),
# so a live migration has to chase a high dirty rate.
if [ -n "$KV_DIRTY_MB" ]; then
    (dd if=/dev/urandom of=/run/dirty.src bs=1M count="$KV_DIRTY_MB" 2>/dev/null
     cp /run/dirty.src /run/dirty.dst
     echo "KVGUEST DIRTY mb=$KV_DIRTY_MB"
     while :; do dd if=/run/dirty.src of=/run/dirty.dst bs=1M conv=notrunc 2>/dev/null; done) &
fi

online_all() {
    for f in /sys/devices/system/cpu/cpu[0-9]*/online; do
        [ -e "$f" ] || continue
        read -r v < "$f"
        [ "$v" = 0 ] && echo 1 > "$f" 2>/dev/null
    done
    for f in /sys/devices/system/memory/memory[0-9]*/state; do
        [ -e "$f" ] || continue
        read -r v < "$f"
        [ "$v" = offline ] && echo online > "$f" 2>/dev/null
    done
}

state_line() {
    cpus=0
    while read -r key _rest; do
        [ "$key" = processor ] && cpus=$((cpus + 1))
    done < /proc/cpuinfo
    memtotal=0
    while read -r key val _rest; do
        if [ "$key" = MemTotal: ]; then memtotal=$val; break; fi
    done < /proc/meminfo
    echo "KVGUEST cpus=$cpus memtotal_kb=$memtotal cmdline_marker=$KV_MARKER"
}

echo "KVGUEST READY"
last=
while :; do
    online_all
    line=$(state_line)
    if [ "$line" != "$last" ]; then
        echo "$line"
        last=$line
    fi
    sleep 1
done
