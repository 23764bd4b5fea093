#!/usr/bin/env bash
# Checks the VM test bed itself: boot time, JDK, ublk/null_blk/loop/ext4, lo,
# exit status, the out share, and that a guest panic ends the run with 125.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
run=tests/vm/run.sh
fails=0
check() { if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1 (got $2, want $3)"; fails=$((fails + 1)); fi; }
now() { date +%s.%N; }

t0=$(now)
"$run" -- true >/dev/null; check "boot: run.sh -- true" $? 0
echo "     boot + command + power off: $(echo "$(now) - $t0" | bc) s wall"

# One boot for everything that only needs to succeed inside the guest.
"$run" -- bash -euc '
  /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -version 2>&1 | grep -q "version \"25"
  test -c /dev/ublk-control
  modprobe null_blk nr_devices=1 && ls /dev/nullb0 >/dev/null
  truncate -s 64M /tmp/disk.img
  dev=$(losetup -f --show --direct-io=on /tmp/disk.img)
  mkfs.ext4 -q "$dev" && mkdir /mnt/t && mount "$dev" /mnt/t && echo ok > /mnt/t/f && umount /mnt/t
  losetup -d "$dev"
  ip addr show lo | grep -q "LOOPBACK,UP"
  modprobe nbd && modprobe dm_crypt && modprobe xts
' >/dev/null 2>&1
check "guest: jdk 25, /dev/ublk-control, null_blk, loop dio, ext4, lo up, nbd, dm_crypt" $? 0

"$run" -- sh -c 'exit 3' >/dev/null 2>&1; check "exit status propagates" $? 3

# Both kernels boot with ublk; the default is the newest 7.x.
k=$("$run" -- sh -c 'test -c /dev/ublk-control && uname -r' 2>/dev/null | tr -d '\r' | grep -m1 '^7\.')
check "default kernel is 7.x with /dev/ublk-control" "${k%%.*}" 7
k=$("$run" --kernel 6.12 -- sh -c 'test -c /dev/ublk-control && uname -r' 2>/dev/null | tr -d '\r' | grep -m1 '^6\.12\.')
check "--kernel 6.12 boots 6.12 with /dev/ublk-control" "${k%.*.*}" 6
"$run" --kernel 5.10 -- true >/dev/null 2>&1; check "an unknown kernel is refused" $? 2

out=$(mktemp -d)
"$run" --out "$out" -- sh -c "echo hello > '$out/result.txt'" >/dev/null 2>&1
check "out dir file visible on host" "$(cat "$out/result.txt" 2>/dev/null)" hello
rm -rf "$out"

t0=$(now)
"$run" --timeout 120 -- sh -c 'echo c > /proc/sysrq-trigger; sleep 300' >/dev/null 2>&1
check "guest panic gives 125" $? 125
echo "     panic run took $(echo "$(now) - $t0" | bc) s"

[ "$fails" = 0 ] && echo "all checks passed" || echo "$fails check(s) failed"
[ "$fails" = 0 ]
