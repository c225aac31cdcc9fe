/**
 * Checks that the collector can run here, before it tries: each check says
 * what is wrong and what to do about it. Run by `ancestryd check` and at
 * daemon start. Mounts tracefs when it is needed and missing, if allowed.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { READABLE_VERSIONS } from './decode';
import { loadNative } from './libbpf';
import { fexitRefusal } from './load';
import { bpffsProblem, listPinnedSets, pinSetName, type PinIdentity } from './pins';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Present when !ok: what to do. */
  fix?: string;
}

export interface PreflightOptions {
  objectPath: string;
  /** Failed-exec events: fexit where the kernel loads it, else the syscall tracepoints, which need tracefs. */
  execFailed: boolean;
  /** Mount tracefs when it is missing (root only). */
  mountTracefs: boolean;
  /** bpf_pin: where sets are pinned and what makes this daemon's; null when off. */
  pin: (PinIdentity & { root: string }) | null;
}

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;
const TRACEFS_DIRS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const BPF_MAP_TYPE_RINGBUF = 27;

export function runPreflight(opts: PreflightOptions): PreflightCheck[] {
  const privileges = checkPrivileges();
  return [
    privileges,
    checkLibbpf(),
    checkBtf(),
    checkRingBuffer(privileges.ok),
    checkObject(opts.objectPath),
    checkTracefs(opts),
    failedExecCapture(opts),
    checkPins(opts.pin),
  ];
}

const BPF_PROG_TYPE_TRACEPOINT = 5;
const BPF_FUNC_LOOP = 181;

/**
 * The kernel features the configured daemon uses, each with whether this
 * kernel has it and what it costs the host: for the compliance report (it
 * probes, and changes nothing; the preflight mounts tracefs, this does not).
 * Fails when one is missing: the daemon would not start, or would run blind
 * to something (exe paths without bpf_loop).
 */
export function checkKernelFeatures(opts: PreflightOptions): PreflightCheck {
  const uses: string[] = [];
  const missing: string[] = [];
  const feature = (ok: boolean, use: string, lack: string) => {
    uses.push(`${ok ? '✓' : '✗'} ${use}`);
    if (!ok) missing.push(lack);
  };
  let n: ReturnType<typeof loadNative> | null = null;
  try {
    n = loadNative();
  } catch {
    missing.push('libbpf.so.1 (apt-get install libbpf1)');
  }
  feature(existsSync('/sys/kernel/btf/vmlinux'), 'BTF tracepoints sched_process_{fork,exec,exit} (tp_btf) and the task iterator (start-up snapshot)',
    'kernel BTF (CONFIG_DEBUG_INFO_BTF=y)');
  feature(n !== null && n.bpf.libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, null) === 1, 'a BPF ring buffer (Linux 5.8+)', 'BPF ring buffers');
  feature(n !== null && n.bpf.libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_LOOP, null) === 1,
    'bpf_loop (Linux 5.17+), to resolve the executed file\'s path', 'bpf_loop: exe paths would be unresolved (exe_unavailable)');
  if (opts.execFailed && fexitRefused(opts.objectPath) === null) {
    uses.push('✓ fexit on the execve and execveat syscalls for failed execs (no cost to other syscalls)');
  } else if (opts.execFailed) {
    feature(tracefsMounted() !== null, 'syscall tracepoints sys_exit_execve{,at} for failed execs (this kernel refuses fexit): every '
      + 'syscall on the host takes the slow path while they are attached (+55–72 ns per syscall measured here; '
      + 'exec_failed_events=false removes them)',
      'tracefs for the failed-exec tracepoints (mount -t tracefs tracefs /sys/kernel/tracing)');
  }
  if (opts.pin !== null) {
    feature(bpffsProblem(opts.pin.root) === null, `bpffs under ${opts.pin.root}, to keep the programs attached across restarts (bpf_pin)`,
      `bpffs under ${opts.pin.root}`);
  }
  return missing.length === 0
    ? { name: 'kernel-features', ok: true, detail: uses.join('; ') }
    : { name: 'kernel-features', ok: false, detail: `missing: ${missing.join('; ')} (in use: ${uses.join('; ')})`,
      fix: 'run on a kernel with what is missing, or turn off what needs it (exec_failed_events, bpf_pin)' };
}

/**
 * bpf_pin needs bpffs under bpf_pin_path; the sets found there are reported.
 * A set of another build or other settings does not fail the check: the
 * next start drains and replaces it (an upgrade), which this check must not block.
 */
export function checkPins(pin: PreflightOptions['pin']): PreflightCheck {
  const name = 'bpf pins';
  if (pin === null) {
    return { name, ok: true, detail: 'off (bpf_pin=false): the programs detach when the daemon stops, so a restart or crash is a blind window' };
  }
  const problem = bpffsProblem(pin.root);
  if (problem !== null) return { name, ok: false, detail: problem, fix: 'mount -t bpf bpf /sys/fs/bpf (systemd does at boot), or set bpf_pin=false' };
  let own: string;
  try {
    own = pinSetName(pin);
  } catch {
    return { name, ok: true, detail: `${pin.root}: the BPF object cannot be read (see its check)` };
  }
  const lines: string[] = [];
  for (const s of listPinnedSets(pin.root)) {
    if (s.name === own) lines.push(`${s.dir}: this build's, still attached; the next start takes it over`);
    else {
      const lost = s.wireVersion !== null && !READABLE_VERSIONS.includes(s.wireVersion) ? '; this build cannot read its wire format, so its backlog would be lost' : '';
      lines.push(`${s.dir}: left by another build or other bpf settings (wire version ${s.wireVersion})${lost}; `
        + 'the next start drains and replaces it, `ancestryd unpin` removes it');
    }
  }
  if (lines.length === 0) lines.push(`${pin.root}: no pinned set yet; the daemon pins ${own} at start`);
  return { name, ok: true, detail: lines.join('\n') };
}

/**
 * Which hook reports failed execs and what it costs the host: informational
 * (always ok), so an operator can weigh exec_failed_events. The figure is
 * `make bench`'s getppid() comparison (docs/benchmarks.md).
 */
function failedExecCapture(opts: PreflightOptions): PreflightCheck {
  const name = 'failed-exec capture';
  if (!opts.execFailed) return { name, ok: true, detail: 'off (exec_failed_events=false): no cost to other syscalls' };
  const refused = fexitRefused(opts.objectPath);
  return {
    name,
    ok: true,
    detail: refused === null
      ? 'fexit on the execve and execveat syscalls: no cost to other syscalls'
      : `syscall tracepoints sys_exit_execve and sys_exit_execveat (this kernel refuses fexit: ${refused}): while attached, `
        + 'every syscall on the host takes the slow path (+55–72 ns per syscall measured on a 2-vCPU VM); '
        + 'exec_failed_events=false removes them',
  };
}

export function preflightFailures(checks: PreflightCheck[]): PreflightCheck[] {
  return checks.filter((c) => !c.ok);
}

function effectiveCaps(): bigint {
  const m = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt('0x' + m[1]) : 0n;
}

function checkPrivileges(): PreflightCheck {
  const caps = effectiveCaps();
  const has = (bit: number) => (caps & (1n << BigInt(bit))) !== 0n;
  const uid = process.getuid?.() ?? -1;
  const ok = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
  return {
    name: 'privileges',
    ok,
    detail: `uid ${uid}, CAP_BPF=${has(CAP_BPF)} CAP_PERFMON=${has(CAP_PERFMON)} CAP_SYS_ADMIN=${has(CAP_SYS_ADMIN)}`,
    fix: ok ? undefined : 'run as root (the systemd unit in deploy/ keeps root to CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE)',
  };
}

function checkLibbpf(): PreflightCheck {
  try {
    const n = loadNative();
    const v = `${n.bpf.libbpf_major_version()}.${n.bpf.libbpf_minor_version()}`;
    const ok = n.bpf.libbpf_major_version() >= 1;
    return { name: 'libbpf', ok, detail: `libbpf.so.1 version ${v}`, fix: ok ? undefined : 'install libbpf 1.x: apt-get install libbpf1' };
  } catch (err) {
    return { name: 'libbpf', ok: false, detail: (err as Error).message, fix: 'apt-get install libbpf1' };
  }
}

function checkBtf(): PreflightCheck {
  const path = '/sys/kernel/btf/vmlinux';
  const ok = existsSync(path);
  return {
    name: 'kernel BTF',
    ok,
    detail: ok ? `${path} present` : `${path} missing`,
    fix: ok ? undefined : 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (CO-RE and BTF tracepoints need it)',
  };
}

function checkRingBuffer(privileged: boolean): PreflightCheck {
  if (!privileged) {
    return { name: 'BPF ring buffer', ok: false, detail: 'not probed: creating a BPF map needs the privileges above', fix: 'fix the privileges first' };
  }
  try {
    const n = loadNative();
    const rc = n.bpf.libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, null);
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const ok = rc === 1;
    return {
      name: 'BPF ring buffer',
      ok,
      detail: ok ? `supported (kernel ${release})` : `not supported (kernel ${release}, probe ${rc})`,
      fix: ok ? undefined : 'BPF ring buffers need Linux 5.8 or later; when root is missing the probe fails too',
    };
  } catch (err) {
    return { name: 'BPF ring buffer', ok: false, detail: (err as Error).message, fix: 'install libbpf1 first' };
  }
}

function checkObject(path: string): PreflightCheck {
  try {
    accessSync(path, constants.R_OK);
    return { name: 'BPF object', ok: true, detail: path };
  } catch {
    return { name: 'BPF object', ok: false, detail: `${path} not readable`, fix: 'build it with "make"' };
  }
}

/** Where tracefs is mounted, from /proc/self/mounts (its directories are root-only, so stat() would lie to others). */
function tracefsMounted(): string | null {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return null;
  }
  const points = new Set(mounts.split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'tracefs').map((f) => f[1]));
  return TRACEFS_DIRS.find((d) => points.has(d)) ?? null;
}

/** Why fexit will not report failed execs here, or null when it will; a probe that cannot run counts as a refusal. */
function fexitRefused(objectPath: string): string | null {
  try {
    return fexitRefusal(objectPath);
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

function checkTracefs(opts: PreflightOptions): PreflightCheck {
  if (!opts.execFailed) return { name: 'tracefs', ok: true, detail: 'not needed (exec_failed_events is off)' };
  if (fexitRefused(opts.objectPath) === null) return { name: 'tracefs', ok: true, detail: 'not needed (failed execs come from fexit)' };
  let where = tracefsMounted();
  let mounted = '';
  if (!where && opts.mountTracefs && process.getuid?.() === 0) {
    try {
      mkdirSync('/sys/kernel/tracing', { recursive: true });
      execFileSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'], { stdio: 'pipe' });
      where = tracefsMounted();
      mounted = ' (mounted it)';
    } catch (err) {
      mounted = ` (mount failed: ${(err as Error).message.split('\n')[0]})`;
    }
  }
  return {
    name: 'tracefs',
    ok: where !== null,
    detail: where ? `${where}${mounted}` : `not mounted${mounted}`,
    fix: where ? undefined : 'mount -t tracefs tracefs /sys/kernel/tracing, or set exec_failed_events=false',
  };
}
