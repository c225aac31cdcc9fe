#!/usr/bin/env bash
# Installs and mounts what ancestryd needs to build, run and test on Debian 12,
# on a fresh machine, as root. Idempotent: does nothing when all is in place.
set -euo pipefail

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have clang    || need_pkgs+=(clang llvm)
have bpftool  || need_pkgs+=(bpftool)
have bpftrace || need_pkgs+=(bpftrace)
have cc       || need_pkgs+=(gcc libc6-dev)
have make     || need_pkgs+=(make)
have java     || need_pkgs+=(openjdk-17-jre-headless)
have mvn      || need_pkgs+=(maven)
have chromium || need_pkgs+=(chromium)
have systemd-analyze || need_pkgs+=(systemd)
[ -e /usr/include/bpf/bpf_helpers.h ] || need_pkgs+=(libbpf-dev)
ldconfig -p | grep -q 'libbpf.so.1 ' || need_pkgs+=(libbpf1)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages ${need_pkgs[*]}; run as root" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if [ "$(id -u)" -eq 0 ]; then
  # bpffs for pinning, tracefs for the failed-exec syscall tracepoints.
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
  mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
fi
