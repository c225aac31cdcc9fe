#!/usr/bin/env bash
# A Debian 12 root filesystem that boots a real systemd under systemd-nspawn,
# for test/e2e/systemd.test.ts: the shipped unit, run by systemd as PID 1
# with its sandbox (this machine's own PID 1 may not be systemd). Built once
# with debootstrap into .cache/systemd-rootfs (gitignored; ~330 MB, ~1 min
# from the Debian mirror); python3 for the sd_notify tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-systemd-rootfs: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

ROOTFS="$PWD/.cache/systemd-rootfs"
[ -e "$ROOTFS/.complete" ] && exit 0
rm -rf "$ROOTFS"
mkdir -p "$(dirname "$ROOTFS")"
echo "install-systemd-rootfs: debootstrap bookworm into .cache/systemd-rootfs" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libbpf1,procps \
  bookworm "$ROOTFS" http://deb.debian.org/debian >/dev/null
echo anc-test >"$ROOTFS/etc/hostname"
touch "$ROOTFS/.complete"
