#!/usr/bin/env bash
# ansible-core and ansible-lint from PyPI, for deploy/ansible and its tests,
# in a virtualenv under runtime/ (gitignored): runtime/ansible-venv/bin/ansible-playbook.
# Versions are pinned in deploy/ansible/requirements.txt; the venv keeps a copy
# of the file it was built from, so a changed pin rebuilds it. Idempotent and
# quiet when the venv matches.
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=deploy/ansible/requirements.txt
VENV="$PWD/runtime/ansible-venv"
STAMP="$VENV/requirements.installed"

if [ -x "$VENV/bin/ansible-playbook" ] && [ -x "$VENV/bin/ansible-lint" ] && cmp -s "$REQ" "$STAMP"; then
  exit 0
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  # Debian splits venv and ensurepip out of python3.
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-ansible: python3 has no venv module; apt-get install python3-venv (as root)" >&2
    exit 1
  fi
  echo "install-ansible: apt-get install python3-venv" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
echo "install-ansible: installing $REQ into runtime/ansible-venv" >&2
start=$(date +%s)
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQ"
cp "$REQ" "$STAMP"
echo "install-ansible: $("$VENV/bin/ansible-playbook" --version | head -n 1), $(NO_COLOR=1 "$VENV/bin/ansible-lint" --nocolor --version 2>/dev/null | head -n 1) in $(( $(date +%s) - start )) s" >&2
