#!/usr/bin/env bash
# Runs every test: unit tests, then e2e tests against the real kernel, a real
# Kafka broker (started here) and real HTTPS servers (started by the tests).
# Called by `make test` after `make deps all`; CI runs exactly that.
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "run-tests: e2e tests load BPF programs: run as root (sudo make test)" >&2
  exit 1
fi

unit=(dist/test/{collector,ancestry,events,sinks,daemon,harness}/**/*.test.js)
e2e=(dist/test/e2e/**/*.test.js)
if [ ${#unit[@]} -eq 0 ] || [ ${#e2e[@]} -eq 0 ]; then
  echo "run-tests: no compiled tests under dist/test: run make first" >&2
  exit 1
fi

tools/kafka/kafka.sh start
trap 'tools/kafka/kafka.sh stop >/dev/null 2>&1 || true' EXIT
export ANCESTRYD_KAFKA_BOOTSTRAP
ANCESTRYD_KAFKA_BOOTSTRAP="$(tools/kafka/kafka.sh bootstrap)"

# One file at a time: e2e files share the kernel, the broker and the CPU.
node --test --test-concurrency=1 --test-timeout=900000 "${unit[@]}" "${e2e[@]}"
