#!/usr/bin/env bash
# Runs one command as root inside a throw-away QEMU (TCG) VM with the ublk driver.
# The guest sees the host root read-only (with a RAM overlay) and the out dir
# writable, both at the host's own paths. Exit status = the command's, or 125
# when the VM ended without reporting one (panic, oops, timeout).
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: tests/vm/run.sh [--kernel 6.12|7|7.N] [--tcg single|multi] [--mem MiB] [--smp N]
                         [--timeout SECONDS] [--out DIR] [--env NAME]... [--systemd] -- COMMAND [ARGS...]
  --kernel   guest kernel: 6.12 (bookworm-backports), 7 (the newest 7.x of trixie-backports; default)
             or 7.N; UBLKGW_VM_KERNEL sets the default
  --tcg      single (default): all vCPUs on one host thread, safe for JVMs; multi: one host thread
             per vCPU, faster, but JVMs in the guest crash in their JIT code now and then (see
             README.md); UBLKGW_VM_TCG sets the default
  --mem      guest RAM in MiB (default 4096)
  --smp      guest vCPUs (default 2)
  --timeout  kill the VM after this many seconds (default 1800)
  --out      host dir mounted writable in the guest at the same path (default: fresh temp dir, removed after)
  --env      forward this environment variable (repeatable; JAVA_HOME, LANG, LC_ALL
             and TZ always are; UBLKGW_VM_ENV="A B" adds more)
  --systemd  boot the host's systemd as PID 1 (a minimal target, see README.md) and run the
             command as its service, instead of running it from the initramfs' own init
EOF
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mem=4096 smp=2 tmo=1800 out="" systemd="" kernel=${UBLKGW_VM_KERNEL:-7} tcg=${UBLKGW_VM_TCG:-single}
envs=(JAVA_HOME LANG LC_ALL TZ ${UBLKGW_VM_ENV:-})
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=${2:?}; shift 2 ;;
    --tcg) tcg=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    --timeout) tmo=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --env) envs+=("${2:?}"); shift 2 ;;
    --systemd) systemd=1; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ $# -gt 0 ] || usage

die() { echo "run.sh: $*" >&2; exit 125; }
case $tcg in single | multi) ;; *) echo "run.sh: --tcg must be single or multi, not \"$tcg\"" >&2; exit 2 ;; esac
case $kernel in 6.12 | 7 | 7.[0-9] | 7.[0-9][0-9]) ;; *) echo "run.sh: --kernel must be 6.12, 7 (the newest 7.x) or 7.N, not \"$kernel\"" >&2; exit 2 ;; esac

# Quiet unless it had to install something.
deps=$("$here/install-deps.sh" 2>&1) || { echo "$deps" >&2; die "install-deps.sh failed"; }
[ "$deps" = "dependencies ok" ] || echo "$deps" >&2
cache=$("$here/build-initramfs.sh" "$kernel") || die "building the initramfs for kernel $kernel failed"

script=.vm-run.$$.sh
tmp=$(mktemp -d /tmp/ublkgw-vm.XXXXXX)
keep_out=1
if [ -z "$out" ]; then out=$tmp/out; keep_out=0; fi
cleanup() {
  rm -f "$out/$script"
  [ "$keep_out" = 1 ] || rm -rf "$out"
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$out" || die "cannot create $out"
out=$(realpath "$out")
# The path travels on the kernel command line, which splits on blanks.
case $out in *[[:space:]\"\']*) die "--out path must not contain blanks or quotes: $out" ;; esac

# The command script the guest runs: forwarded env, the caller's cwd, the command.
{
  echo "# written by tests/vm/run.sh"
  for v in "${envs[@]}"; do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  case $PWD in
    # the guest's /tmp is its own tmpfs: show the caller's directory from the host's /tmp there
    # (the out share may sit inside it: keep it visible on top)
    /tmp/?*) printf 'mkdir -p /.out && mount --bind %q /.out && mkdir -p %q && mount --bind %q %q && mount --bind /.out %q\n' \
        "$out" "$PWD" "/.host-tmp/${PWD#/tmp/}" "$PWD" "$out" ;;
  esac
  printf 'cd %q 2>/dev/null || { echo "run.sh: cannot cd to %q inside the VM" >&2; exit 125; }\n' "$PWD" "$PWD"
  printf 'exec'; printf ' %q' "$@"; echo
} > "$out/$script"

# qboot starts the kernel ~0.2 s sooner than SeaBIOS and prints nothing.
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
# The CPU: everything TCG emulates but AVX (QEMU 7.2, Debian 12's, was the first to emulate AVX/AVX2),
# so the guest's JVMs, kernel and fio run their long-proven SSE code. (Guest JVM crashes once blamed
# on AVX came from multi-threaded TCG: see README.md.) UBLKGW_VM_CPU overrides it.
cpu=${UBLKGW_VM_CPU:-max,avx=off,avx2=off,fma=off,f16c=off,vaes=off,vpclmulqdq=off}
# TCG threads: see README.md ("Why single-threaded TCG").
qemu=(qemu-system-x86_64 -accel "tcg,thread=$tcg" -cpu "$cpu" -smp "$smp" -m "$mem"
  -nodefaults -nographic -no-reboot -serial stdio -monitor none "${bios[@]}"
  -kernel "$cache/vmlinuz" -initrd "$cache/initramfs.cpio.gz"
  -append "console=ttyS0 oops=panic panic=-1 quiet mitigations=off ublkgw.out=$out ublkgw.run=$out/$script ${systemd:+ublkgw.systemd=1} ${UBLKGW_VM_9P_CACHE:+ublkgw.cache=$UBLKGW_VM_9P_CACHE}"
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap")

# QEMU runs in the background so a TERM/INT to this script can stop it at once;
# the console is copied to our stdout and to a log we search for the marker.
log=$tmp/console.log
set +e
timeout --foreground -k 10 "$tmo" "${qemu[@]}" </dev/null > >(tee "$log") &
qpid=$!
stopped=""
trap 'stopped=1; kill -TERM $qpid 2>/dev/null' INT TERM HUP
wait $qpid; qrc=$?
while kill -0 $qpid 2>/dev/null; do wait $qpid; qrc=$?; done
wait   # let tee finish the log
set -e

rc=$(tr -d '\r' < "$log" | grep -ao 'UBLKGW-VM-EXIT=[0-9]*' | tail -1 | cut -d= -f2 || true)
if [ -z "$rc" ]; then
  [ -z "$stopped" ] || echo "run.sh: interrupted, VM stopped" >&2
  [ "$qrc" != 124 ] && [ "$qrc" != 137 ] || echo "run.sh: timeout after ${tmo}s, VM killed" >&2
  echo "VM ended without an exit marker: kernel panic/oops or timeout; see output above" >&2
  exit 125
fi
exit "$rc"
