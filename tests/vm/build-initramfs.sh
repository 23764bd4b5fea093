#!/usr/bin/env bash
# Builds (or reuses) the kernel + initramfs of the VM test bed for one guest kernel.
#   build-initramfs.sh [KERNEL]    KERNEL: 6.12, 7 (the newest 7.x downloaded, default) or 7.N
# Prints the cache directory on stdout; it holds vmlinuz and initramfs.cpio.gz.
# The initramfs is rebuilt only when the kernel packages or this script change.
set -euo pipefail

KDIR=/var/cache/ublk-gateway/kernel
VMROOT=/var/cache/ublk-gateway/vm
KERNEL=${1:-7}

# Loaded by /init at boot, in dependency order.
BOOT_MODULES=(9pnet_virtio 9p overlay ublk_drv loop ext4)
# Shipped in the guest's /lib/modules but only loaded on demand (modprobe).
# xts + aesni_intel (aes_generic is usually built in) back dm-crypt's aes-xts-plain64;
# algif_skcipher lets cryptsetup reach the kernel ciphers.
# Names a kernel lacks (aes_generic became `aes` in 7.x) are skipped.
EXTRA_MODULES=(null_blk nbd dm_crypt xts aesni_intel aes_generic algif_skcipher virtio_pci)
# Busybox applets /init uses.
APPLETS=(sh mount umount mkdir insmod ip chroot poweroff sync stty cat ln env switch_root)

log() { echo "build-initramfs: $*" >&2; }
die() { log "error: $*"; exit 1; }

# The packages of the chosen kernel: 6.12 is one linux-image package; 7.x is three
# (linux-binary: vmlinuz, linux-modules, linux-base: modules.builtin), all of one version.
case $KERNEL in
  6.12) debs=$(ls "$KDIR"/linux-image-6.12.*+deb12-amd64-unsigned_*.deb 2>/dev/null | sort -V | tail -1 || true) ;;
  7 | 7.[0-9] | 7.[0-9][0-9])
    bin=$(ls "$KDIR"/linux-binary-"$KERNEL".*+deb13-amd64_*.deb "$KDIR"/linux-binary-"$KERNEL"+deb13-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
    debs=""
    if [ -n "$bin" ]; then
      v=${bin##*/linux-binary-}; v=${v%%_*}
      debs="$bin $(ls "$KDIR/linux-modules-${v}_"*.deb "$KDIR/linux-base-${v}_"*.deb 2>/dev/null | tr '\n' ' ')"
      [ "$(echo $debs | wc -w)" = 3 ] || debs=""
    fi ;;
  *) die "unknown kernel \"$KERNEL\"; use 6.12, 7 (the newest 7.x) or 7.N" ;;
esac
if [ -z "$debs" ]; then
  have=$(ls "$KDIR" 2>/dev/null | sed -n 's/^linux-\(image\|binary\)-\([0-9.]*\)+.*/\2/p' | sort -uV | tr '\n' ' ')
  die "no kernel $KERNEL in $KDIR (have: ${have:-none}); run tests/vm/install-deps.sh"
fi
first=${debs%% *}; first=${first##*/}
kver=${first#linux-image-}; kver=${kver#linux-binary-}; kver=${kver%%-unsigned_*}; kver=${kver%%_*}
cache=$VMROOT/$kver
key="$(for d in $debs; do basename "$d"; done | tr '\n' ' ')$(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)"

up_to_date() { [ -f "$cache/initramfs.cpio.gz" ] && [ "$(cat "$cache/initramfs.key" 2>/dev/null)" = "$key" ]; }
if up_to_date; then echo "$cache"; exit 0; fi

# The cache lives under /var/cache: create it once with sudo when not root.
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  sudo install -d -o "$(id -u)" -g "$(id -g)" "$VMROOT" "$cache"
fi
# Parallel runners must not build into the same directory at once.
exec 9>"$VMROOT/.build.lock"
flock 9
if up_to_date; then echo "$cache"; exit 0; fi

# Unpack the kernel packages once per set of package files. 7.x packages put everything under
# usr/lib (merged /usr): lib -> usr/lib gives depmod and modprobe the path they expect.
root=$cache/root
unpacked=$(for d in $debs; do basename "$d"; done | tr '\n' ' ')
if [ "$(cat "$cache/unpacked.key" 2>/dev/null)" != "$unpacked" ]; then
  log "unpacking $unpacked"
  rm -rf "$root" "$cache/unpacked.key"
  mkdir -p "$root"
  for d in $debs; do dpkg-deb -x "$d" "$root"; done
  [ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
  depmod -b "$root" "$kver"
  if [ -f "$root/boot/vmlinuz-$kver" ]; then cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz"
  else cp "$root/lib/modules/$kver/vmlinuz" "$cache/vmlinuz"; fi
  echo "$unpacked" > "$cache/unpacked.key"
fi

# `modprobe --show-depends` prints "insmod PATH" lines in load order, or
# "builtin NAME" for code compiled into the kernel (nothing to load then).
deps_of() {
  modprobe -d "$root" -S "$kver" --show-depends "$1" >/dev/null 2>&1 || die "module $1 not found in $kver"
  modprobe -d "$root" -S "$kver" --show-depends "$1" | awk '$1 == "insmod" { print $2 }'
}

stage=$(mktemp -d "$cache/stage.XXXXXX")
trap 'rm -rf "$stage" "$stage.cpio.gz"' EXIT
mdir=lib/modules/$kver
mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,etc} "$stage/$mdir"

# Copy a module into the image uncompressed: busybox insmod and the guest's
# modprobe then need no xz support, and boot skips the decompression.
add_module() {
  local rel=${1#"$root/$mdir/"}
  rel=${rel%.xz}
  [ -f "$stage/$mdir/$rel" ] && return 0
  mkdir -p "$(dirname "$stage/$mdir/$rel")"
  case $1 in
    *.xz) busybox xzcat "$1" > "$stage/$mdir/$rel" ;;
    *) cp "$1" "$stage/$mdir/$rel" ;;
  esac
  echo "$rel"
}

: > "$stage/etc/boot-modules"
for m in "${BOOT_MODULES[@]}"; do
  deps=$(deps_of "$m")
  for f in $deps; do
    rel=$(add_module "$f")
    [ -z "$rel" ] || echo "$rel" >> "$stage/etc/boot-modules"
  done
done
for m in "${EXTRA_MODULES[@]}"; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" >/dev/null 2>&1 || { log "note: $kver has no module $m; skipped"; continue; }
  deps=$(deps_of "$m")
  for f in $deps; do add_module "$f" >/dev/null; done
done
# modules.builtin lets the guest's modprobe accept built-in names; depmod
# then writes a modules.dep for just the subset in the image.
cp "$root/$mdir"/modules.{builtin,builtin.modinfo,order} "$stage/$mdir/"
depmod -b "$stage" "$kver"

cp "$(command -v busybox)" "$stage/bin/busybox"
for a in "${APPLETS[@]}"; do ln -s busybox "$stage/bin/$a"; done
# The kernel opens /dev/console for /init before devtmpfs is mounted.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

cat > "$stage/init" <<'EOF'
#!/bin/sh
# PID 1 of the test VM: host root (9p, read-only) + tmpfs overlay, then run the
# runner's command script in a chroot, print the exit marker and power off.
# With ublkgw.systemd=1 it hands over to the host's systemd as PID 1 instead (switch_root into the
# overlay), which runs the command script as a service of a minimal target (see below).
export PATH=/bin
KVER=@KVER@

fail() { echo "vm-init: error: $*"; poweroff -f; }

# systemd as PID 1: its target (ublkgw-vm.target) runs only the command script's service and what
# services need by default (sysinit.target, the journal). Everything else a full boot would start is
# masked, generators included, so the boot takes seconds under TCG. The service prints the exit
# marker and powers off.
boot_systemd() {
  E=$N/etc/systemd/system
  mkdir -p $E $N/etc/systemd/system-generators
  for g in $N/lib/systemd/system-generators/* $N/usr/lib/systemd/system-generators/*; do
    [ -e "$g" ] && ln -sf /dev/null "$N/etc/systemd/system-generators/${g##*/}"
  done
  for u in timers.target paths.target dbus.socket dbus.service systemd-initctl.socket \
      systemd-journald-audit.socket systemd-journal-flush.service systemd-firstboot.service \
      systemd-sysusers.service systemd-repart.service systemd-pcrphase.service \
      systemd-pcrphase-sysinit.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
      systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service systemd-update-utmp.service \
      systemd-random-seed.service systemd-machine-id-commit.service systemd-timesyncd.service \
      systemd-pstore.service systemd-modules-load.service systemd-sysctl.service \
      kmod-static-nodes.service systemd-remount-fs.service systemd-ask-password-console.path \
      sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
      sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
      cryptsetup.target integritysetup.target veritysetup.target swap.target \
      systemd-udevd.service systemd-udev-trigger.service systemd-hwdb-update.service \
      systemd-journal-catalog-update.service systemd-update-done.service ldconfig.service \
      systemd-boot-system-token.service systemd-boot-random-seed.service systemd-network-generator.service; do
    ln -sf /dev/null "$E/$u"
  done
  cat > $E/ublkgw-vm.target <<UNIT
[Unit]
Description=VM test bed: the command script only
Requires=ublkgw-vm.service
AllowIsolate=yes
UNIT
  cat > $E/ublkgw-vm.service <<UNIT
[Unit]
Description=VM test bed: the command script
[Service]
ExecStart=/bin/sh /etc/ublkgw-vm-run
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/console
TTYReset=no
TTYVHangup=no
UNIT
  cat > $N/etc/ublkgw-vm-run <<RUNNER
stty -F /dev/console -onlcr 2>/dev/null
/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb /bin/bash "$RUN" </dev/null
echo "UBLKGW-VM-EXIT=\$?"
sync
systemctl --force --force poweroff
RUNNER
  # The host's container marker would put systemd in container mode (it then ignores the kernel
  # command line, for one).
  rm -f $N/.dockerenv $N/run/.containerenv
  ip link set lo up
  exec switch_root $N /lib/systemd/systemd --unit=ublkgw-vm.target
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

OUT= RUN= CACHE=loose SYSTEMD=
for arg in $(cat /proc/cmdline); do
  case $arg in
    ublkgw.systemd=*) SYSTEMD=${arg#*=} ;;
    ublkgw.out=*) OUT=${arg#*=} ;;
    ublkgw.run=*) RUN=${arg#*=} ;;
    ublkgw.cache=*) CACHE=${arg#*=} ;;
  esac
done
[ -n "$OUT" ] && [ -n "$RUN" ] || fail "ublkgw.out= and ublkgw.run= missing from the kernel command line"

while read -r m; do
  insmod "/lib/modules/$KVER/$m" || fail "insmod $m"
done < /etc/boot-modules

# Read-only host root below, RAM above: the guest may change anything, the host nothing.
P9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$P9,cache=$CACHE,ro" hostroot /lower || fail "mount hostroot"
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "mount overlay"

N=/newroot
mount -t proc proc $N/proc
mount -t sysfs sysfs $N/sys
mount -t devtmpfs devtmpfs $N/dev
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $N/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $N/tmp
# The host's /tmp stays reachable (read-only) for callers working under it, e.g. a clone in /tmp.
mkdir -p $N/.host-tmp
mount --bind /lower/tmp $N/.host-tmp
mount -t tmpfs -o mode=755 tmpfs $N/run
# devtmpfs has no fd links; bash process substitution and many tools want them.
ln -sf /proc/self/fd $N/dev/fd
ln -sf /proc/self/fd/0 $N/dev/stdin
ln -sf /proc/self/fd/1 $N/dev/stdout
ln -sf /proc/self/fd/2 $N/dev/stderr

# The module subset of this image, so `modprobe null_blk` works in the guest.
mkdir -p $N/lib/modules/$KVER
mount -o bind /lib/modules/$KVER $N/lib/modules/$KVER

# Writable share at the host's own path (after /tmp, which could hide it).
# cache=mmap writes through, so the host sees files as soon as they are written.
mkdir -p "$N$OUT"
mount -t 9p -o "$P9,cache=mmap" out "$N$OUT" || fail "mount out share at $OUT"

ip link set lo up
# Plain \n line ends towards the host.
stty -onlcr 2>/dev/null

if [ "$SYSTEMD" = 1 ]; then
  boot_systemd
fi

chroot $N /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb /bin/bash "$RUN" </dev/null
rc=$?
echo "UBLKGW-VM-EXIT=$rc"
sync
poweroff -f
EOF
sed -i "s/@KVER@/$kver/" "$stage/init"
chmod 755 "$stage/init"

log "writing initramfs for $kver"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$stage.cpio.gz"
mv "$stage.cpio.gz" "$cache/initramfs.cpio.gz"
echo "$key" > "$cache/initramfs.key"
echo "$cache"
