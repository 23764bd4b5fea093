#!/usr/bin/env bash
# Installs everything the build, the tests and the VM test bed need on a fresh Debian 12 machine, and
# downloads (never installs) the two guest kernels: Debian's bookworm-backports 6.12 and the newest
# 7.x of trixie-backports. Idempotent: a second run with everything present does nothing but check.
set -euo pipefail

need_pkgs=(maven qemu-system-x86 busybox-static cpio fio e2fsprogs liburing2 libssl3 openssl kmod util-linux cryptsetup-bin libnbd-bin qemu-utils nbdkit systemd python3)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

KDIR=/var/cache/ublk-gateway/kernel
# 6.12: one package with vmlinuz and modules. 7.x: vmlinuz (linux-binary), modules (linux-modules)
# and modules.builtin (linux-base), all three of one version.
have_612() { ls "$KDIR"/linux-image-6.12.*+deb12-amd64-unsigned_*.deb >/dev/null 2>&1; }
have_7() {
  local b v
  for b in "$KDIR"/linux-binary-7.*+deb13-amd64_*.deb; do
    [ -f "$b" ] || continue
    v=${b##*/linux-binary-}; v=${v%%_*}
    ls "$KDIR/linux-modules-${v}_"*.deb "$KDIR/linux-base-${v}_"*.deb >/dev/null 2>&1 && return 0
  done
  return 1
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

add_suite() { # NAME PIN: an apt suite from deb.debian.org, pinned low when PIN is set
  local suite=$1 pin=${2:-} file=/etc/apt/sources.list.d/ublk-gateway-$1.sources
  grep -rqs "^Suites:.*\b$suite\b\|^deb .* $suite " /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  echo "adding $suite to apt sources (for a guest kernel of the VM test bed)"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$suite" \
    | $SUDO tee "$file" >/dev/null
  if [ -n "$pin" ]; then
    # Only downloaded by name; a pin below 100 keeps apt from ever upgrading this machine from it.
    printf 'Package: *\nPin: release n=%s\nPin-Priority: %s\n' "$suite" "$pin" \
      | $SUDO tee "/etc/apt/preferences.d/ublk-gateway-$suite" >/dev/null
  fi
}

download() { # PACKAGE...: into $KDIR
  local tmp
  $SUDO mkdir -p "$KDIR"
  tmp=$(mktemp -d); chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -qq "$@" 2>/dev/null) || { rm -rf "$tmp"; echo "error: apt-get download $* failed" >&2; exit 1; }
  $SUDO mv "$tmp"/*.deb "$KDIR"/
  rm -rf "$tmp"
  echo "downloaded $*"
}

if [ ${#missing[@]} -gt 0 ] || ! have_612 || ! have_7; then
  export DEBIAN_FRONTEND=noninteractive
  add_suite bookworm-backports
  add_suite trixie-backports 50
  $SUDO apt-get update -qq >/dev/null || echo "warning: apt-get update reported errors (continuing)" >&2
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! have_612; then
    pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$pkg" ] || { echo "error: no linux-image-6.12.*-amd64-unsigned package in bookworm-backports; check apt sources" >&2; exit 1; }
    download "$pkg"
  fi
  if ! have_7; then
    # The newest 7.x whose three packages the suite serves (Debian moves the version now and then).
    ver=""
    for v in $(apt-cache search --names-only '^linux-binary-7\.[0-9.]+\+deb13-amd64$' | awk '{print $1}' | sed 's/^linux-binary-//' | sort -rV); do
      if apt-cache show "linux-modules-$v" "linux-base-$v" >/dev/null 2>&1; then ver=$v; break; fi
    done
    [ -n "$ver" ] || { echo "error: no linux-binary-7.*+deb13-amd64 with its linux-modules and linux-base in trixie-backports; check apt sources" >&2; exit 1; }
    download "linux-binary-$ver" "linux-modules-$ver" "linux-base-$ver"
  fi
fi
echo "dependencies ok"
