/**
 * The whole daemon's benchmark (issue 6), in one run, printed as markdown:
 *
 *  1. Exec rate. build/procgen flat, 2 workers, flat out, for --secs, with no
 *     tracer, with ancestryd (the whole daemon, file sink: a fresh daemon's
 *     first --secs, V8 still compiling, then the same daemon's next --secs,
 *     the steady cost the targets are about) and with bpftrace on
 *     the same tracepoints (tools/bench/bpftrace/exec-trace.bt); --reps runs
 *     each, in rotating order. The three runs do the same work: procgen writes
 *     its truth file in each, and nothing of the benchmark's follows the results
 *     log meanwhile (latency is measured in 2, at paced rates: following a log
 *     that grows 13 MB/s cost about 2 % of the exec rate, charged to ancestryd).
 *     For ancestryd: daemon CPU µs per exec and per ring record, peak RSS, and
 *     loss (execs missing from the log, checked against procgen's truth
 *     afterwards, plus kernel ring drops).
 *  2. Paced load and cold vs warm (the old benchmark's "restart, query; query again").
 *     a. Execs on a daemon just started vs the same again (600 exec/s), then
 *        --reps runs at 1000 exec/s, then --reps runs at 600 exec/s after at
 *        least STEADY_AFTER_SECS of load, once V8 has compiled most of the
 *        hot path (steady, what the target is about): CPU
 *        µs/exec, the main thread's share, per wakeup of the drain, latency
 *        p50/p99. Then the floor under those wakeups, --reps times at 600
 *        exec/s with the daemon stopped: a process that wakes as often as the
 *        drain and writes the steady runs' bytes per wakeup, and does nothing
 *        else. Three of them, in rotating order: Node on a timer (the
 *        drain's way, tools/bench/pass-floor.ts), Node blocking in
 *        Atomics.wait (a drain thread's loop without the event loop) and C
 *        (tools/bench/pass-floor.c, any program).
 *     b. --hold processes held alive by procgen: ancestry queries over the
 *        admin socket, one at a time, first pass (cold) and second pass (warm),
 *        on a daemon that saw them start and on one started while they lived
 *        (table from /proc); queries/s, p50/p99, cache hits/misses.
 *  3. Memory under load: RSS idle, with --hold live processes in the table,
 *     and per process. RSS leaves out the ring buffer's mapping (its pages
 *     are counted twice, see ringRssKb), which is reported apart.
 *     Idle CPU: --idle-secs with no load, ms of CPU per second and the drain's wakeups.
 *  4. Host-wide cost of failed-exec capture: getppid() ns per call with no
 *     tracer, with the daemon, and with the daemon and exec_failed_events=false
 *     (the syscall tracepoints put every syscall on the slow path; fexit,
 *     where the kernel loads it, should not). The table names the hook.
 *
 * Flags: USAGE below; `make bench BENCH_ARGS="..."` passes them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fexitRefusal } from '../../src/collector/load';
import { adminRequest } from '../../src/daemon/admin/admin-client';
import { OPTIONS } from '../../src/daemon/config/option-schema';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';
import { FILE_SINK_DEFAULTS } from '../../src/sinks/file/config';
import { CheckSession } from '../../test/support/check/check-session';
import { startDaemon, type DaemonHandle } from '../../test/support/daemon-process';
import { ROOT } from '../../test/support/paths';
import { ringRssKb, sampleProc, schedCpuMs, threadCpuMs } from '../../test/support/proc-stat';
import { Samples, type Summary } from '../../test/support/samples';
import { Flags } from '../lib/cli-args';
import { readClockOffsets } from '../lib/clock-offset';
import { underBpftrace } from './bpftrace-baseline';
import { LatencyTail } from './latency-tail';

const BUILD = join(ROOT, 'build');
const PROCGEN = join(BUILD, 'procgen');

const flags = new Flags('usage: node dist/tools/bench/bench.js [--reps 3] [--secs 10] [--hold 10000] [--queries 5000] [--idle-secs 10] [--json FILE]', {
  reps: { type: 'string', default: '3' }, secs: { type: 'string', default: '10' }, hold: { type: 'string', default: '10000' },
  queries: { type: 'string', default: '5000' }, 'idle-secs': { type: 'string', default: '10' }, json: { type: 'string' },
});
const REPS = flags.number('reps', { integer: true, min: 1 });
const SECS = flags.number('secs', { above: 0 });
const HOLD = flags.number('hold', { integer: true, min: 1 });
const IDLE_SECS = flags.number('idle-secs', { above: 0 });
const QUERIES = flags.number('queries', { integer: true, min: 1 });
const jsonOut = flags.values.json ?? null;

/** Each paced run, and each run of the floor under it. */
const PACED_SECS = 5;
/** Seconds of paced load a daemon has had, at least, before its steady 600 exec/s runs. */
const STEADY_AFTER_SECS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const range = (xs: number[], d = 0) => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})` : '');

interface Stats {
  cache_hits: number;
  cache_misses: number;
  cache_size: number;
  cache_live: number;
  events: Record<string, number>;
  ring: { records: Record<string, number>; lost: Record<string, number>; drain: { timer_passes: number; kernel_wakeups: number } };
  ancestry: { evictionsLive?: number; evictedLive?: number; estimatedBytes?: number };
  sinks?: Record<string, { sent_events?: number }>;
}
const stats = (d: DaemonHandle) => adminRequest(d.adminSocket, 'stats', {}, { timeoutMs: 30_000 }) as unknown as Promise<Stats>;

interface PgSummary { execs: number; execs_per_sec: number; failures: number }

function procgen(args: string[]): PgSummary {
  const r = spawnSync(PROCGEN, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`procgen ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PgSummary;
}

function procgenAsync(args: string[]): Promise<PgSummary> {
  return new Promise((resolve, reject) => {
    const cp = spawn(PROCGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cp.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    cp.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    cp.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as PgSummary)
      : reject(new Error(`procgen ${args.join(' ')} failed (${code}): ${err || out}`))));
  });
}

interface DaemonRun {
  execsPerSec: number;
  ringMb: number;
  cpuUsPerExec: number;
  /** The main thread's share (JS, the event loop, write(2)); the rest is V8's compiler and GC threads. */
  mainUsPerExec: number;
  /**
   * Execs the daemon delivered; the drain's wakeups (timer fires, the quiet ones after the load included, and
   * kernel wakeups), and what each cost and wrote: what the floor's wakeups are set against.
   */
  execs: number;
  wakeups: number;
  cpuUsPerWakeup: number;
  bytesPerWakeup: number;
  cpuUsPerRecord: number;
  latency: Summary;
  rssMb: number;
  hwmMb: number;
  lost: number;
  wrong: number;
  ringLost: number;
}

/**
 * Runs procgen while the daemon runs; daemon CPU, records, loss and, with
 * `followLatency`, latency over that run (the log is then read as it grows).
 */
async function underDaemon(d: DaemonHandle, dir: string, tag: string, pgArgs: string[], mono: bigint, followLatency: boolean): Promise<DaemonRun> {
  const truth = join(dir, `${tag}.truth`);
  const tail = new LatencyTail(d.logDir, mono);
  if (followLatency) tail.start();
  const s0 = await stats(d);
  const bytes0 = resultsBytes(d.logDir);
  // schedstat's ns: /proc/PID/stat's 10 ms ticks are 3 µs per exec over 5 s at 600 exec/s.
  const cpu0 = schedCpuMs(d.pid);
  const main0 = threadCpuMs(d.pid, d.pid);
  const p0 = sampleProc(d.pid)!;
  const ringKb = () => ringRssKb(d.pid);
  let rssMax = p0.rssKb - ringKb();
  const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, (sampleProc(d.pid)?.rssKb ?? 0) - ringKb()); }, 250);
  const load = await procgenAsync([...pgArgs, '--truth', truth, '--tag', tag]);
  // Wait until the daemon has delivered every exec procgen made (bounded).
  let s1 = await stats(d);
  for (let i = 0; i < 100 && (s1.events.exec ?? 0) - (s0.events.exec ?? 0) < load.execs; i++) {
    await sleep(100);
    s1 = await stats(d);
  }
  await sleep(300);
  s1 = await stats(d);
  const cpu1 = schedCpuMs(d.pid);
  const main1 = threadCpuMs(d.pid, d.pid);
  const p1 = sampleProc(d.pid)!;
  clearInterval(rssTimer);
  tail.stop();
  const check = new CheckSession({ logDir: d.logDir, truthPath: truth, tagPrefix: tag, maxDepth: 32, monoMinusBootNs: mono }).finish().check;
  unlinkSync(truth);
  const cpuUs = (cpu1 - cpu0) * 1000;
  const execs = (s1.events.exec ?? 0) - (s0.events.exec ?? 0);
  const wakeups = (s1.ring.drain.timer_passes + s1.ring.drain.kernel_wakeups) - (s0.ring.drain.timer_passes + s0.ring.drain.kernel_wakeups);
  return {
    execsPerSec: load.execs_per_sec,
    cpuUsPerExec: cpuUs / execs,
    mainUsPerExec: ((main1 - main0) * 1000) / execs,
    execs,
    wakeups,
    cpuUsPerWakeup: wakeups > 0 ? cpuUs / wakeups : NaN,
    bytesPerWakeup: wakeups > 0 ? (resultsBytes(d.logDir) - bytes0) / wakeups : NaN,
    cpuUsPerRecord: cpuUs / (sum(s1.ring.records) - sum(s0.ring.records)),
    latency: tail.latencyMs.summary(),
    rssMb: Math.max(rssMax, p1.rssKb - ringKb()) / 1024,
    ringMb: ringKb() / 1024,
    hwmMb: p1.hwmKb / 1024,
    lost: check.lost,
    wrong: check.wrong,
    ringLost: sum(s1.ring.lost) - sum(s0.ring.lost),
  };
}

/** Bytes in the results log and its rotated copies (the oldest copy falls off past logger_rotate_max_files; no paced run gets there). */
function resultsBytes(logDir: string): number {
  return readdirSync(logDir).filter((f) => f.startsWith(FILE_SINK_DEFAULTS.fileName)).reduce((a, f) => {
    try {
      return a + statSync(join(logDir, f)).size;
    } catch {
      return a; // rotated away between the listing and the stat
    }
  }, 0);
}

interface Floor { wakeups: number; secs: number; cpuUsPerWakeup: number; cpuUsPerExec: number }

/** How the floor's process waits between wakeups. */
const FLOOR_KINDS = {
  timer: 'Node, a timer (the drain\'s way)',
  block: 'Node, blocking in Atomics.wait (no event loop)',
  c: 'C, nanosleep (any program)',
} as const;
type FloorKind = keyof typeof FLOOR_KINDS;
const FLOOR_KIND_LIST = Object.keys(FLOOR_KINDS) as FloorKind[];

/**
 * The floor's process under procgen paced at `rate`, no tracer: waking every
 * default bpf_drain_timeout_ms and writing `bytes` each time. Procgen starts
 * first and outlasts the floor's window at both ends.
 */
async function passFloor(dir: string, rate: number, bytes: number, kind: FloorKind): Promise<Floor> {
  const secs = PACED_SECS;
  const pg = procgenAsync(['flat', '--workers', '2', '--duration', String(secs + 3), '--rate', String(rate)]);
  await sleep(500);
  const args = ['--file', join(dir, 'floor.out'), '--period-ms', String(OPTIONS.bpf_drain_timeout_ms.default), '--bytes', String(Math.round(bytes)),
    '--secs', String(secs), '--warmup-secs', '1'];
  const r = kind === 'c'
    ? spawnSync(join(BUILD, 'pass-floor-c'), args, { encoding: 'utf8' })
    : spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, join(ROOT, 'dist', 'tools', 'bench', 'pass-floor.js'), ...args, '--wait', kind], { encoding: 'utf8' });
  await pg;
  if (r.status !== 0) throw new Error(`pass-floor (${kind}) failed (${r.error?.message ?? r.status}): ${r.stderr}`);
  const f = JSON.parse(r.stdout.trim()) as { wakeups: number; cpu_us: number };
  return { wakeups: f.wakeups, secs, cpuUsPerWakeup: f.cpu_us / f.wakeups, cpuUsPerExec: f.cpu_us / (rate * secs) };
}

async function withBpftrace(work: () => Promise<PgSummary>): Promise<{ load: PgSummary; cpuUsPerEvent: number; events: number; lost: number }> {
  const r = await underBpftrace(work);
  return { load: r.load, cpuUsPerEvent: (r.cpuMs * 1000) / Math.max(1, r.events), events: r.events, lost: r.lost };
}

/** `ancestry <pid>` for each pid, one at a time; queries/s and latency. */
async function queryPass(d: DaemonHandle, pids: number[]): Promise<{ qps: number; latency: Summary; notFound: number; hits: number; misses: number }> {
  const s0 = await stats(d);
  const lat = new Samples();
  let notFound = 0;
  const t0 = performance.now();
  for (const pid of pids) {
    const t = performance.now();
    try {
      await adminRequest(d.adminSocket, 'ancestry', { pid });
    } catch {
      notFound++;
    }
    lat.add(performance.now() - t);
  }
  const secs = (performance.now() - t0) / 1000;
  const s1 = await stats(d);
  return { qps: pids.length / secs, latency: lat.summary(), notFound, hits: s1.cache_hits - s0.cache_hits, misses: s1.cache_misses - s0.cache_misses };
}

/** RSS without the ring buffer's mapping, after 3 s of rest. */
async function settledRssMb(pid: number): Promise<number> {
  await sleep(3000);
  return ((sampleProc(pid)?.rssKb ?? NaN) - ringRssKb(pid)) / 1024;
}

/** An idle daemon's CPU, ms per second over IDLE_SECS, and how often it woke (its stats). */
async function idleCpuMsPerSec(d: DaemonHandle): Promise<{ msPerSec: number; timerPasses: number; kernelWakeups: number }> {
  const drain = async () => (await stats(d)).ring.drain;
  const d0 = await drain();
  const c0 = schedCpuMs(d.pid);
  await sleep(IDLE_SECS * 1000);
  const c1 = schedCpuMs(d.pid);
  const d1 = await drain();
  return {
    msPerSec: (c1 - c0) / IDLE_SECS,
    timerPasses: (d1.timer_passes - d0.timer_passes) / IDLE_SECS,
    kernelWakeups: (d1.kernel_wakeups - d0.kernel_wakeups) / IDLE_SECS,
  };
}

/** getppid() ns per call (build/burst, flat out): the syscall entry/exit cost. */
function syscallNs(calls: number): number {
  const r = spawnSync(join(BUILD, 'burst'), [String(calls)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`burst failed (${r.status}): ${r.stderr}`);
  return 1e9 / (JSON.parse(r.stdout.trim().split('\n').pop()!) as { calls_per_sec: number }).calls_per_sec;
}

interface Holder { cp: ChildProcess; pids: number[]; held: number; secs: number; stop(): Promise<void> }

/** procgen hold: N processes alive until stop(); their pids from the truth file. */
async function hold(n: number, dir: string, tag: string): Promise<Holder> {
  const truth = join(dir, `${tag}.truth`);
  const cp = spawn(PROCGEN, ['hold', '--count', String(n), '--workers', '2', '--duration', '3600', '--truth', truth, '--tag', tag],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const it = createInterface({ input: cp.stdout! })[Symbol.asyncIterator]();
  const first = JSON.parse(String((await it.next()).value)) as { held: number; secs: number };
  const pids = readFileSync(truth, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { pid: number }).pid);
  return {
    cp, pids, held: first.held, secs: first.secs,
    async stop() {
      cp.kill('SIGTERM');
      await it.next();
      await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
      unlinkSync(truth);
    },
  };
}

function sample<T>(xs: T[], n: number): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

async function main(): Promise<void> {
  for (const f of ['procgen', 'burst', 'clock-offset', 'pass-floor-c', 'exec_trace.bpf.o']) {
    if (!existsSync(join(BUILD, f))) throw new Error(`build/${f} is missing: run "make"`);
  }
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'anc-bench-'));
  const mono = readClockOffsets(ROOT).monotonicMinusBoottimeNs;
  const rows: Record<string, unknown>[] = [];
  const out: string[] = [];
  const say = (l: string) => { out.push(l); console.log(l); };
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  say(`# ancestryd benchmark: ${REPS} reps × ${SECS} s, hold ${HOLD}, ${new Date().toISOString()}`);
  say(`# kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, ${spawnSync('nproc').stdout.toString().trim()} CPUs, load average at start ${load}`);

  // 1. Exec rate: none / ancestryd / bpftrace.
  const flat = ['flat', '--workers', '2', '--duration', String(SECS)];
  // The same work in every run: the truth file ancestryd's run is checked against is written in the others too.
  const flatTruth = [...flat, '--truth', join(dir, 'flat.truth')];
  const none: number[] = [];
  const fresh: DaemonRun[] = [];
  const anc: DaemonRun[] = [];
  const bt: { rate: number; cpu: number; lost: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const order = [['none', 'ancestryd', 'bpftrace'], ['ancestryd', 'bpftrace', 'none'], ['bpftrace', 'none', 'ancestryd']][rep % 3];
    for (const cfg of order) {
      if (cfg === 'none') {
        const r = procgen(flatTruth);
        unlinkSync(join(dir, 'flat.truth'));
        none.push(r.execs_per_sec);
        rows.push({ section: 'rate', cfg, rep, r });
      } else if (cfg === 'ancestryd') {
        const d = await startDaemon(join(dir, `rate-${rep}`));
        try {
          await sleep(1000);
          // A fresh daemon's first run pays for V8 compiling the hot path; the next is what a daemon up for days costs.
          const first = await underDaemon(d, dir, `bf${rep}`, flat, mono, false);
          fresh.push(first);
          const r = await underDaemon(d, dir, `br${rep}`, flat, mono, false);
          anc.push(r);
          rows.push({ section: 'rate', cfg, rep, fresh: first, r });
        } finally {
          await d.stop();
          rmSync(join(dir, `rate-${rep}`), { recursive: true, force: true });
        }
      } else {
        const r = await withBpftrace(() => procgenAsync(flatTruth));
        unlinkSync(join(dir, 'flat.truth'));
        bt.push({ rate: r.load.execs_per_sec, cpu: r.cpuUsPerEvent, lost: r.lost });
        rows.push({ section: 'rate', cfg, rep, r });
      }
      console.error(`  rate rep ${rep} ${cfg} done`);
    }
  }
  const base = median(none);
  const pct = (x: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(1)}%`;
  const br = bt.map((r) => r.rate);
  say('');
  say(`## Exec rate, procgen flat, 2 workers, flat out (${REPS} × ${SECS} s; median (min–max))`);
  say('');
  say('| tracer | exec/s | vs none | CPU µs/exec | of it, main thread | CPU µs/record | RSS max MB (without ring) | lost |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|');
  say(`| none | ${f0(base)}${range(none)} | – | – | – | – | – | – |`);
  const ancRow = (label: string, runs: DaemonRun[]) => {
    const rates = runs.map((r) => r.execsPerSec);
    say(`| ${label} | ${f0(median(rates))}${range(rates)} | ${pct(median(rates))} | ${f1(median(runs.map((r) => r.cpuUsPerExec)))}${range(runs.map((r) => r.cpuUsPerExec), 1)} | `
      + `${f1(median(runs.map((r) => r.mainUsPerExec)))} | ${f1(median(runs.map((r) => r.cpuUsPerRecord)))} | ${f1(Math.max(...runs.map((r) => r.rssMb)))} | `
      + `${runs.reduce((a, r) => a + r.lost + r.ringLost, 0)} (wrong ${runs.reduce((a, r) => a + r.wrong, 0)}) |`);
  };
  ancRow(`ancestryd (daemon, file sink): a fresh daemon's first ${SECS} s`, fresh);
  ancRow(`ancestryd, the same daemon's next ${SECS} s (steady; the targets)`, anc);
  say(`| bpftrace (printf per event) | ${f0(median(br))}${range(br)} | ${pct(median(br))} | – | – | ${f1(median(bt.map((r) => r.cpu)))} per event | – | ${bt.reduce((a, r) => a + r.lost, 0)} |`);

  // 2a. Execs on a fresh daemon vs warm, then the latency target's rate.
  const cold = await startDaemon(join(dir, 'cold'));
  let coldRun: DaemonRun;
  let warmRun: DaemonRun;
  const at1k: DaemonRun[] = [];
  const steady: DaemonRun[] = [];
  const loadBeforeSteady = Math.max(STEADY_AFTER_SECS, (2 + REPS) * PACED_SECS);
  const idleRss = await settledRssMb(cold.pid);
  const idleRing = ringRssKb(cold.pid) / 1024;
  const idleCpu = await idleCpuMsPerSec(cold);
  try {
    const paced = (rate: number) => ['flat', '--workers', '2', '--duration', String(PACED_SECS), '--rate', String(rate)];
    coldRun = await underDaemon(cold, dir, 'bcold', paced(600), mono, true);
    warmRun = await underDaemon(cold, dir, 'bwarm', paced(600), mono, true);
    for (let rep = 0; rep < REPS; rep++) at1k.push(await underDaemon(cold, dir, `b1k${rep}`, paced(1000), mono, true));
    // V8 compiles most of the hot path over the first ~20 s of load (docs/benchmarks.md, "600 exec/s once V8 has
    // compiled"): load it unmeasured up to STEADY_AFTER_SECS whatever --reps, then measure.
    const settle = loadBeforeSteady - (2 + REPS) * PACED_SECS;
    if (settle > 0) await procgenAsync(['flat', '--workers', '2', '--duration', String(settle), '--rate', '600']);
    for (let rep = 0; rep < REPS; rep++) steady.push(await underDaemon(cold, dir, `bsteady${rep}`, paced(600), mono, true));
  } finally {
    await cold.stop();
  }
  // The floor under those wakeups, with the daemon stopped: as often, as many bytes, nothing else.
  const steadyBytes = median(steady.map((r) => r.bytesPerWakeup).filter(Number.isFinite));
  const floors: Record<FloorKind, Floor[]> = { timer: [], block: [], c: [] };
  if (Number.isFinite(steadyBytes)) {
    for (let rep = 0; rep < REPS; rep++) {
      for (let i = 0; i < FLOOR_KIND_LIST.length; i++) {
        const kind = FLOOR_KIND_LIST[(rep + i) % FLOOR_KIND_LIST.length];
        floors[kind].push(await passFloor(dir, 600, steadyBytes, kind));
      }
    }
  }
  say('');
  say('');
  say(`## Idle: no load for ${IDLE_SECS} s on a started daemon`);
  say('');
  say(`CPU ${idleCpu.msPerSec.toFixed(2)} ms per second (all threads, from schedstat); drain timer passes ${idleCpu.timerPasses.toFixed(1)}/s, kernel wakeups ${idleCpu.kernelWakeups.toFixed(1)}/s.`);
  rows.push({ section: 'idle', ...idleCpu });
  say('');
  say(`## Paced execs on one daemon, in this order: 600 exec/s just started (cold), 600/s again (warm), ${REPS} × 1000/s, ${REPS} × 600/s (steady); ${PACED_SECS} s each (median (min–max))`);
  say('');
  say('Wakeups: the drain\'s timer fires and kernel wakeups, each a wakeup of the main thread (a pass, or a look at an empty ring). '
    + 'Main thread: JS, the event loop and write(2); the rest of the CPU is V8\'s compiler and GC threads.');
  say('');
  say('| daemon | CPU µs/exec | of it, main thread | wakeups/s | CPU µs/wakeup | KB written/wakeup | latency p50 ms | latency p99 ms | lost |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const pacedRow = (label: string, runs: DaemonRun[]) => {
    const m = (f: (r: DaemonRun) => number, d = 1) => {
      const xs = runs.map(f);
      return d === 0 ? f0(median(xs)) : f1(median(xs)) + range(xs, d);
    };
    say(`| ${label} | ${m((r) => r.cpuUsPerExec)} | ${m((r) => r.mainUsPerExec)} | ${m((r) => r.wakeups / PACED_SECS, 0)} | ${m((r) => r.cpuUsPerWakeup, 0)} | `
      + `${f1(median(runs.map((r) => r.bytesPerWakeup / 1024)))} | ${m((r) => r.latency.p50)} | ${m((r) => r.latency.p99)} | ${runs.reduce((a, r) => a + r.lost + r.ringLost, 0)} |`);
  };
  pacedRow('just started (cold), 600/s', [coldRun]);
  pacedRow('same daemon, second run (warm), 600/s', [warmRun]);
  pacedRow('1000/s', at1k);
  pacedRow(`600/s after ${loadBeforeSteady} s of load (steady; the target)`, steady);
  if (floors.timer.length > 0) {
    const perExec = (k: FloorKind) => median(floors[k].map((f) => f.cpuUsPerExec));
    for (const k of FLOOR_KIND_LIST) {
      const fw = floors[k].map((f) => f.cpuUsPerWakeup);
      const fe = floors[k].map((f) => f.cpuUsPerExec);
      say(`| floor: ${FLOOR_KINDS[k]}, waking every ${OPTIONS.bpf_drain_timeout_ms.default} ms to write the steady runs' bytes; no tracer, 600/s (${REPS} × ${PACED_SECS} s) | `
        + `${f1(median(fe))}${range(fe, 1)} | – | ${f0(median(floors[k].map((f) => f.wakeups / f.secs)))} | ${f0(median(fw))}${range(fw)} | ${f1(steadyBytes / 1024)} | – | – | – |`);
    }
    const timerPerWakeup = median(floors.timer.map((f) => f.cpuUsPerWakeup));
    say('');
    say('The floor is what a process waking as often and writing as much pays here before it decodes a record: '
      + `${f1(perExec('timer'))} µs/exec for Node on a timer, ${f1(perExec('block'))} for Node without its event loop, ${f1(perExec('c'))} for C; `
      + `the target at 600/s is 25 µs/exec. Flat out (section 1, steady), ancestryd woke ${f1(median(anc.map((r) => (r.wakeups * 1000) / r.execs)))} times per 1 000 execs: `
      + `at the Node timer floor's cost per wakeup, ${f1(median(anc.map((r) => (timerPerWakeup * r.wakeups) / r.execs)))} µs/exec before any record (the target flat out is 12). `
      + 'A lower bound: flat out, each wakeup writes more, on busier CPUs.');
  } else {
    say('| floor | – (the steady runs woke the drain no time) | – | – | – | – | – | – | – |');
  }
  rows.push({ section: 'exec-cold-warm', coldRun, warmRun, at1k, steady, floors });

  // 2b + 3. Hold processes; queries cold/warm; memory.
  const cacheArgs = [`--process_ancestry_cache_size=${Math.max(4096, HOLD * 2)}`];
  const seen = await startDaemon(join(dir, 'seen'), cacheArgs);
  const idle = await settledRssMb(seen.pid);
  const holder = await hold(HOLD, dir, 'bhold');
  const qRows: string[] = [];
  let memRow = '';
  try {
    await sleep(2000);
    const loaded = await settledRssMb(seen.pid);
    const st = await stats(seen);
    memRow = `| ${HOLD} processes held (saw them start) | ${f1(idle)} | ${f1(loaded)} | ${f1(((loaded - idle) * 1024) / HOLD)} | ${st.cache_size} | ${st.cache_live} | ${((st.ancestry.estimatedBytes ?? NaN) / HOLD).toFixed(0)} |`;
    rows.push({ section: 'memory', idle, loaded, stats: st, holdSecs: holder.secs });
    const pids = sample(holder.pids, QUERIES);
    const p1 = await queryPass(seen, pids);
    const p2 = await queryPass(seen, pids);
    qRows.push(`| saw them start | first pass (cold) | ${f0(p1.qps)} | ${f1(p1.latency.p50 * 1000)} | ${f1(p1.latency.p99 * 1000)} | ${p1.hits} / ${p1.misses} | ${p1.notFound} |`);
    qRows.push(`| saw them start | second pass (warm) | ${f0(p2.qps)} | ${f1(p2.latency.p50 * 1000)} | ${f1(p2.latency.p99 * 1000)} | ${p2.hits} / ${p2.misses} | ${p2.notFound} |`);
    rows.push({ section: 'queries-seen', p1, p2 });
    await seen.stop();

    // A daemon started while they live: everything comes from /proc.
    const t0 = performance.now();
    const boot = await startDaemon(join(dir, 'boot'), cacheArgs);
    const readyMs = performance.now() - t0;
    try {
      const bootRss = await settledRssMb(boot.pid);
      const bst = await stats(boot);
      memRow += `\n| ${HOLD} processes held (read from /proc at start; ready in ${f0(readyMs)} ms) | – | ${f1(bootRss)} | – | ${bst.cache_size} | ${bst.cache_live} | ${((bst.ancestry.estimatedBytes ?? NaN) / HOLD).toFixed(0)} |`;
      const b1 = await queryPass(boot, pids);
      const b2 = await queryPass(boot, pids);
      qRows.push(`| started while they lived (/proc) | first pass (cold) | ${f0(b1.qps)} | ${f1(b1.latency.p50 * 1000)} | ${f1(b1.latency.p99 * 1000)} | ${b1.hits} / ${b1.misses} | ${b1.notFound} |`);
      qRows.push(`| started while they lived (/proc) | second pass (warm) | ${f0(b2.qps)} | ${f1(b2.latency.p50 * 1000)} | ${f1(b2.latency.p99 * 1000)} | ${b2.hits} / ${b2.misses} | ${b2.notFound} |`);
      rows.push({ section: 'queries-boot', readyMs, bootRss, stats: bst, b1, b2 });
    } finally {
      await boot.stop();
    }
  } finally {
    await holder.stop();
    await seen.stop();
  }
  say('');
  say(`## Cold vs warm: ancestry queries over the admin socket (${Math.min(QUERIES, HOLD)} of ${HOLD} held processes, one at a time, a connection each)`);
  say('');
  say('| daemon | pass | queries/s | p50 µs | p99 µs | cache hits / misses | not found |');
  say('|---|---|---:|---:|---:|---:|---:|');
  for (const r of qRows) say(r);
  say('');
  say(`## Memory under load (process_ancestry_cache_size=${Math.max(4096, HOLD * 2)}; default daemon idle: RSS ${f1(idleRss)} MB without the ring buffer mapping, which adds ${f1(idleRing)} MB)`);
  say('');
  say('| table | RSS idle MB | RSS loaded MB | RSS KB per process | cache_size | cache_live | estimated bytes per entry |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  say(memRow);

  // 4. The syscall slow path while the failed-exec tracepoints are attached.
  const CALLS = 3_000_000;
  const sys: { none: number; failedOn: number; failedOff: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const none = syscallNs(CALLS);
    const withDaemon = async (extra: string[]) => {
      const d = await startDaemon(join(dir, `sys-${rep}`), extra);
      try {
        return syscallNs(CALLS);
      } finally {
        await d.stop();
        rmSync(join(dir, `sys-${rep}`), { recursive: true, force: true });
      }
    };
    sys.push({ none, failedOn: await withDaemon([]), failedOff: await withDaemon(['--exec_failed_events=false']) });
  }
  rows.push({ section: 'syscall', sys, hook: fexitRefusal(join(ROOT, 'build', 'exec_trace.bpf.o')) === null ? 'fexit' : 'tracepoint' });
  say('');
  say(`## Host-wide cost of failed-exec capture: getppid() ns per call (${REPS} × ${CALLS} calls; median (min–max))`);
  say('');
  const refused = fexitRefusal(join(ROOT, 'build', 'exec_trace.bpf.o'));
  const hook = refused === null ? 'fexit' : 'syscall tracepoints';
  say(`| no tracer | ancestryd, exec_failed_events=true (${hook}) | ancestryd, exec_failed_events=false | added per syscall |`);
  say('|---:|---:|---:|---:|');
  const col = (xs: number[]) => `${f0(median(xs))}${range(xs)}`;
  say(`| ${col(sys.map((r) => r.none))} | ${col(sys.map((r) => r.failedOn))} | ${col(sys.map((r) => r.failedOff))} | `
    + `${f0(median(sys.map((r) => r.failedOn - r.none)))} ns |`);
  rmSync(dir, { recursive: true, force: true });
  if (jsonOut) writeFileSync(jsonOut, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
