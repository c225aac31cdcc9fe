#!/usr/bin/env bash
# Builds "the next release" for the upgrade test (issue 9): this tree with the
# wire format's version one higher, whose decoder also reads this one, as the
# release after a layout change would (the layout itself stays: only the
# numbers differ). Run a daemon from it against a set this tree pinned, and it
# must replace that set and drain its ring. Needs `make` first.
#   scripts/build-wire-next.sh [OUT]     default .cache/wire-next
# OUT must lie inside the repository, so that its dist/ finds node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.cache/wire-next}"
cur=$(sed -n 's/^\tET_FORMAT_VERSION = \([0-9]*\),$/\1/p' bpf/exec_trace.h)
[ -n "$cur" ] || { echo "build-wire-next: ET_FORMAT_VERSION not found in bpf/exec_trace.h" >&2; exit 1; }
next=$((cur + 1))
[ -f dist/src/collector/decode.js ] && [ -f build/vmlinux.h ] || { echo "build-wire-next: run make first" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/bpf" "$out/build"
cp -r dist "$out/dist"
cp bpf/exec_trace.bpf.c bpf/exec_trace.h "$out/bpf/"
sed -i "s/^\tET_FORMAT_VERSION = $cur,\$/\tET_FORMAT_VERSION = $next,/" "$out/bpf/exec_trace.h"
sed -i "s/ET_FORMAT_VERSION: $cur,/ET_FORMAT_VERSION: $next,/" "$out/dist/src/collector/layout.js"
# The list of earlier readable versions gains this one, first ("[]" → "[N]", "[2]" → "[N, 2]").
sed -i -e "s/^const EARLIER_READABLE = \[/const EARLIER_READABLE = [$cur, /" -e "s/^\(const EARLIER_READABLE = \[$cur\), \]/\1]/" "$out/dist/src/collector/decode.js"
grep -q "ET_FORMAT_VERSION = $next," "$out/bpf/exec_trace.h"
grep -q "ET_FORMAT_VERSION: $next," "$out/dist/src/collector/layout.js"
grep -q "^const EARLIER_READABLE = \[$cur[],]" "$out/dist/src/collector/decode.js"
ARCH=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
${CLANG:-clang} -g -O2 -target bpf -D__TARGET_ARCH_$ARCH -Ibuild -I"$out/bpf" -Wall -Werror -c "$out/bpf/exec_trace.bpf.c" -o "$out/build/exec_trace.bpf.o"
echo "$out: wire version $next, reads $cur"
