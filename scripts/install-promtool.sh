#!/usr/bin/env bash
# promtool, to check deploy/prometheus's alert rules and run their unit tests.
# Debian ships it only inside the prometheus package, whose installation would
# also start a Prometheus server; so the package is downloaded and only
# promtool is unpacked, into runtime/bin/ (gitignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="$PWD/runtime/bin/promtool"
if [ -x "$OUT" ] || command -v promtool >/dev/null 2>&1; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's _apt user writes the download here
if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
  apt-get update -qq
  (cd "$tmp" && apt-get download -qq prometheus)
fi
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
mkdir -p "$(dirname "$OUT")"
install -m 0755 "$tmp/x/usr/bin/promtool" "$OUT"
echo "install-promtool: $("$OUT" --version 2>&1 | head -n 1) in runtime/bin/" >&2
