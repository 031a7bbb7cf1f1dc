#!/usr/bin/env bash
# canwire's SocketCAN VM runner: runs one command inside a small qemu guest
# whose kernel has SocketCAN, for machines (containers, CI runners) whose own
# kernel has no CAN support.
#
# Usage:
#   scripts/socketcan-vm.sh [--shared DIR] [--mem MB] [--cpus N] -- COMMAND [ARGS...]
#
#   scripts/socketcan-vm.sh -- npx vitest run __test__/kernel
#   scripts/socketcan-vm.sh -- sh -c 'candump -L vcan0 & sleep 1; cansend vcan0 123#01'
#
# What the guest sees:
#   - the host's whole filesystem read-only (node, cargo builds, node_modules,
#     can-utils are all there), through 9p;
#   - DIR (default: the current directory) read-write at the same path;
#   - a tmpfs at /tmp, HOME=/tmp;
#   - vcan0 and vcan1 up, CAN FD capable (mtu 72), plus the can, can-raw,
#     can-bcm, can-isotp, can-gw, vcan and vxcan modules loaded;
#   - vcan2 likewise, kept for tests that shape its transmit queue with tc
#     (sch_tbf is loaded; tc comes from the host's iproute2);
#   - slcan loaded, so a test can make a real can-dev controller on a pty.
# COMMAND runs in DIR; its exit status is this script's exit status (125 if
# the guest never reported one).
#
# First run: installs what is missing on the host with apt (qemu-system-x86,
# busybox-static, cpio, kmod, can-utils; needs root), then downloads Debian's
# stock kernel package and builds a tiny initramfs, cached under
# ${CANWIRE_VM_CACHE:-~/.cache/canwire-socketcan-vm}. Later runs boot in ~10 s.
# qemu runs with TCG (no KVM needed), so the guest is slow: keep commands lean.
#
# Environment: CANWIRE_VM_CACHE (cache folder), CANWIRE_VM_MEM (MB, default
# 2048), CANWIRE_VM_CPUS (default 2), CANWIRE_VM_TIMEOUT (seconds before the
# guest is killed, default 1500).
set -euo pipefail

usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

shared="$PWD"
mem="${CANWIRE_VM_MEM:-2048}"
cpus="${CANWIRE_VM_CPUS:-2}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shared) shared="$(cd "$2" && pwd)"; shift 2 ;;
    --mem) mem="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || usage

cache="${CANWIRE_VM_CACHE:-$HOME/.cache/canwire-socketcan-vm}"
mkdir -p "$cache"

log() { echo "socketcan-vm: $*" >&2; }

# Bump when the guest's init changes, so cached guests are rebuilt.
guest_version=5

install_host_packages() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v tc >/dev/null || missing+=(iproute2)
  # the initramfs needs the static busybox (the dynamic one has no libraries there)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v cpio >/dev/null || missing+=(cpio)
  command -v depmod >/dev/null || missing+=(kmod)
  command -v cansend >/dev/null || missing+=(can-utils)
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} with apt"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The modules the guest loads, dependencies first (paths under kernel/).
guest_modules=(
  drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci
  fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p
  net/can/can net/can/can-raw net/can/can-bcm net/can/can-isotp net/can/can-gw
  drivers/net/can/dev/can-dev drivers/net/can/vcan drivers/net/can/vxcan
  net/sched/sch_tbf drivers/net/can/slcan/slcan
)

build_guest() {
  local tmp pkg kver kdir root names=() m f base
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')"
  if [[ -z "$pkg" ]]; then apt-get update -qq >/dev/null; pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"; fi
  log "fetching kernel package $pkg"
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { apt-get update -qq >/dev/null; (cd "$tmp" && apt-get download "$pkg" >/dev/null); }
  dpkg -x "$tmp"/*.deb "$tmp/pkg"
  kver="$(ls "$tmp/pkg/lib/modules")"
  kdir="$tmp/pkg/lib/modules/$kver/kernel"
  root="$tmp/root"
  mkdir -p "$root"/{bin,proc,sys,dev,host,mods,tmp}
  cp /bin/busybox "$root/bin/busybox"
  for m in "${guest_modules[@]}"; do
    f="$(ls "$kdir/$m".ko* 2>/dev/null | head -1 || true)"
    [[ -n "$f" ]] || continue # built into this kernel
    base="$(basename "$m")"
    case "$f" in
      *.xz) xz -dc "$f" >"$root/mods/$base.ko" ;;
      *.zst) zstd -qdc "$f" >"$root/mods/$base.ko" ;;
      *) cp "$f" "$root/mods/$base.ko" ;;
    esac
    names+=("$base")
  done
  # The guest's init: mount the host, bring up vcan0/vcan1, run the command
  # saved in the shared folder, write its status back, power off.
  cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${names[*]}; do insmod /mods/\$m.ko 2>/dev/null || echo "socketcan-vm: could not load \$m"; done
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o \$opts,ro hostroot /host || echo "socketcan-vm: could not mount the host filesystem"
for d in proc sys dev; do mount --bind /\$d /host/\$d; done
mkdir -p /host/dev/pts && mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts && ln -sf pts/ptmx /host/dev/ptmx 2>/dev/null
mount -t tmpfs tmpfs /host/tmp
dir=\$(sed -n 's/.* canwire_dir=\([^ ]*\).*/\1/p' /proc/cmdline)
# a checkout under /tmp lies in the guest's tmpfs: make its mount point there
mkdir -p /host\$dir 2>/dev/null
mount -t 9p -o \$opts shared /host\$dir || echo "socketcan-vm: could not mount \$dir read-write"
ip link set lo up
for i in 0 1 2; do ip link add dev vcan\$i type vcan && ip link set vcan\$i mtu 72 && ip link set vcan\$i up; done
chroot /host /bin/sh -c "cd \$dir && HOME=/tmp PATH=\$PATH:/root/.cargo/bin:/usr/local/bin bash \$dir/.canwire-vm-cmd; echo \\\$? >\$dir/.canwire-vm-status"
poweroff -f
EOF
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip >"$cache/initrd.gz.part")
  cp "$tmp/pkg/boot/vmlinuz-$kver" "$cache/vmlinuz"
  mv "$cache/initrd.gz.part" "$cache/initrd.gz"
  echo "$guest_version" >"$cache/guest-version"
  echo "$kver" >"$cache/kernel-version"
}

install_host_packages
[[ -f "$cache/vmlinuz" && -f "$cache/initrd.gz" && "$(cat "$cache/guest-version" 2>/dev/null)" == "$guest_version" ]] || build_guest

cmdfile="$shared/.canwire-vm-cmd"
statusfile="$shared/.canwire-vm-status"
printf '%q ' "$@" >"$cmdfile"
echo >>"$cmdfile"
rm -f "$statusfile"
trap 'rm -f "$cmdfile" "$statusfile"' EXIT

# Console output is the guest's stdout+stderr; strip terminal noise from the firmware.
timeout --foreground "${CANWIRE_VM_TIMEOUT:-1500}" \
  qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$cpus" \
    -nographic -no-reboot -serial mon:stdio -display none -monitor none \
    -kernel "$cache/vmlinuz" -initrd "$cache/initrd.gz" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$shared,mount_tag=shared,security_model=none,multidevs=remap" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 canwire_dir=$shared" </dev/null 2>/dev/null \
  | sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' -e 's/\r$//' -e 's/^.*Booting from ROM\.*//' \
      -e '/^SeaBIOS/d' -e '/^iPXE/d' -e '/^Press Ctrl-B/d' -e '/reboot: Power down/d' -e '/^[[:space:]]*$/d' || true
status="$(cat "$statusfile" 2>/dev/null || echo 125)"
[[ "$status" == 125 ]] && log "the guest reported no exit status (boot failure or timeout)"
exit "$status"
