/**
 * The daemon's user-space hot path replayed without the kernel: wire bytes →
 * decode → redaction → table → osquery line → one write(2) per pass, plus the
 * recent-events copy, for a procgen-flat-like stream (a worker `--depth`
 * levels below init forks a child that execs /usr/bin/true and exits).
 *
 * Why: `make bench` measures the whole daemon beside the kernel, the timers
 * and the scheduler, and on this VM its CPU per exec moves ±15 % between
 * reps, more than most single changes to the hot path. This replays the same
 * records through the same code in one process, so two builds compare
 * closer (run each build's dist/ in turn), though its CPU figures still move
 * ±10 % between runs here. It leaves out what only a real run has: wakeups,
 * the ring's Atomics, the V8 heap of a long-lived table. Those stay
 * `make bench`'s.
 *
 * Prints per build one line: CPU µs per exec (process-wide: V8's GC threads
 * included), wall µs per exec, GC pauses per exec, median and spread over
 * --reps (after one warm-up rep), and the bytes of V8 heap allocated per
 * exec, which move 1–3 % between reps, whatever the machine's load. Flags: USAGE below.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { ArgvRedactor, DEFAULT_REDACTION_PATTERNS } from '../../src/ancestry/argv-redaction';
import type { ProcessTable } from '../../src/ancestry/table';
import { argvList } from '../../src/collector/byte-text';
import { decodeRecord, type ExecRecord, type ExitRecord, type ForkRecord, type TaskRecord } from '../../src/collector/decode';
import { LineBuffer } from '../../src/events/line-buffer';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import { RecentEvents } from '../../src/daemon/recent-events';
import { SyntheticKernel, type KProc } from '../../test/ancestry/synthetic-kernel';
import { encodeExec, encodeExit, encodeFork } from '../../test/support/encode';
import { Flags } from '../lib/cli-args';

const flags = new Flags('usage: npm run bench:pipeline -- [--execs 20000] [--reps 5] [--depth 6] [--pass-execs 20] [--pace-ms 0] [--pace-wait timer|block] [--out DIR]', {
  execs: { type: 'string', default: '20000' }, reps: { type: 'string', default: '5' }, depth: { type: 'string', default: '6' },
  'pass-execs': { type: 'string', default: '20' }, 'pace-ms': { type: 'string', default: '0' }, 'pace-wait': { type: 'string', default: 'timer' }, out: { type: 'string', default: tmpdir() },
});
const EXECS = flags.number('execs', { integer: true, min: 1 });
const REPS = flags.number('reps', { integer: true, min: 1 });
const DEPTH = flags.number('depth', { integer: true, min: 1, max: 60 });
// 20 execs: a 10 ms drain pass at 2 000 exec/s (30 with the default 15 ms period).
const PASS_RECORDS = 3 * flags.number('pass-execs', { integer: true, min: 1 });
// 0: passes back to back (the hot path on warm caches). N: one pass every N ms (waiting as --pace-wait says), as the
// drain runs while records flow, so caches and TLBs go cold between passes the way they do in the daemon.
const PACE_MS = flags.number('pace-ms', { integer: true, min: 0, max: 1000 });
// timer: the event loop waits, as the daemon's drain does. block: the thread sleeps in Atomics.wait and never returns
// to the event loop, as a thread running the drain as a blocking loop would; set beside timer, it shows how much of
// a paced pass's cost such a thread would save (docs/benchmarks.md, "The floor by how a pass is woken").
const PACE_WAIT = flags.choice('pace-wait', ['timer', 'block'] as const);
/** Nothing notifies it: each Atomics.wait on it sleeps its full timeout. */
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

/** The ring's 8-byte record header, then the record, 8-aligned: as RingDrain reads it. */
function ringOf(records: Buffer[]): { ring: Buffer; offsets: Int32Array; lengths: Int32Array } {
  const offsets = new Int32Array(records.length);
  const lengths = new Int32Array(records.length);
  let size = 0;
  for (const r of records) size += (8 + r.length + 7) & ~7;
  const ring = Buffer.alloc(size);
  let at = 0;
  records.forEach((r, i) => {
    r.copy(ring, at + 8);
    offsets[i] = at + 8;
    lengths[i] = r.length;
    at += (8 + r.length + 7) & ~7;
  });
  return { ring, offsets, lengths };
}

function wireOf(r: ForkRecord | ExecRecord | ExitRecord): Buffer {
  const t = BigInt(r.ktimeNs);
  if (r.kind === 'fork') {
    return encodeFork({
      parent_tgid: r.parentTgid, child_tgid: r.childTgid, parent_start_ns: r.parentStartNs, child_start_ns: r.childStartNs,
      creator_tgid: r.creatorTgid, uid: r.uid, comm: r.comm,
    }, t);
  }
  if (r.kind === 'exit') {
    return encodeExit({ tgid: r.tgid, ppid: r.ppid, start_ns: r.startNs, parent_start_ns: r.parentStartNs, exit_code: r.status, comm: r.comm }, t);
  }
  return encodeExec({
    ktimeNs: t,
    fields: {
      tgid: r.tgid, tid: r.tid, ppid: r.ppid, uid: r.uid, gid: r.gid, euid: r.euid, egid: r.egid, loginuid: r.loginuid,
      sessionid: r.sessionid, pgid: r.pgid, sid: r.sid, flags: r.flags, pid_ns: r.pidNs, mnt_ns: r.mntNs,
      start_ns: r.startNs, parent_start_ns: r.parentStartNs, cgroup_id: r.cgroupId, comm: r.comm,
    },
    chain: r.chain.refs(), filename: r.filename, exe: r.exe, argv: argvList(r.argvText),
  });
}

// The stream, made once: `depth` ancestors (init, shells, procgen), then EXECS × (fork, exec, exit) of the worker.
const k = new SyntheticKernel();
let worker: KProc = k.init;
for (let d = 1; d < DEPTH; d++) worker = k.preexisting(worker, d === DEPTH - 1 ? '/work/build/procgen' : `/usr/bin/level${d}`,
  d === DEPTH - 1 ? ['procgen', 'flat', '--workers', '2'] : [`level${d}`, '--depth', String(d)]);
const tasks: TaskRecord[] = k.snapshot();
const wire: Buffer[] = [];
for (let i = 0; i < EXECS; i++) {
  const f = k.fork(worker);
  wire.push(wireOf(f.record));
  wire.push(wireOf(k.exec(f.proc, '/usr/bin/true', ['/usr/bin/true', `tag-${i}`])));
  wire.push(wireOf(k.exit(f.proc)));
}
const { ring, offsets, lengths } = ringOf(wire);

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

interface Rep { cpuUs: number; wallUs: number; gcPerExec: number; gcUs: number; bytes: number; heapBytes: number }

/** One replay into a fresh table: what the pipeline does per record and per pass. */
async function replay(path: string): Promise<Rep> {
  const table: ProcessTable = k.table({ cacheSize: 10_000, cacheTtlSeconds: 60, maxDepth: 32 });
  table.bootstrap(tasks);
  const format = new OsqueryResultFormat({
    host: { hostname: 'bench', hostIdentifier: 'bench', machineId: null, bootId: '0123456789abcdef0123456789abcdef' },
    clock: k.clock,
  });
  const redactor = new ArgvRedactor(DEFAULT_REDACTION_PATTERNS);
  const recent = new RecentEvents(1000);
  const pass = new LineBuffer();
  const pids: number[] = [];
  const fd = openSync(path, 'w');
  let bytes = 0;
  const flush = () => {
    bytes += writeSync(fd, pass.data, 0, pass.pos);
    recent.pushLines(pids, pass.data, pass.ends, pass.count);
    pass.reset();
    pids.length = 0;
  };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < offsets.length; i++) {
    const r = decodeRecord(ring, offsets[i], lengths[i]);
    if (r.kind === 'exec' || r.kind === 'exec_failed') {
      redactor.redact(r);
      const res = table.applyExec(r);
      if (res !== null) {
        format.writeExec(res, pass);
        pass.end(r.ktimeNs);
        pids.push(r.tgid);
      }
    } else if (r.kind === 'fork') table.applyFork(r);
    else if (r.kind === 'exit') table.applyExit(r);
    if (i % PASS_RECORDS === PASS_RECORDS - 1) {
      flush();
      if (PACE_MS > 0) {
        if (PACE_WAIT === 'block') Atomics.wait(sleepWord, 0, 0, PACE_MS);
        else await new Promise((resolve) => setTimeout(resolve, PACE_MS));
      }
    }
  }
  flush();
  // Paced, the wall time is mostly the wait's: the figure is CPU.
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  closeSync(fd);
  return { cpuUs: (cpu.user + cpu.system) / EXECS, wallUs: wall / EXECS, gcPerExec: 0, gcUs: 0, bytes: bytes / EXECS, heapBytes: 0 };
}

/** GC entries reach the observer on the event loop: a rep's pauses are counted after it, once they have arrived. */
async function measured(path: string): Promise<Rep> {
  const gc0 = gcCount;
  const gcMs0 = gcMs;
  // What the rep allocated on V8's heap: the heap's growth plus what each GC freed. The machine's load does not
  // move it, so a change that allocates less shows here even where the CPU figures are noise.
  const profiler = new GCProfiler();
  profiler.start();
  const used0 = getHeapStatistics().used_heap_size;
  const r = await replay(path);
  let freed = 0;
  for (const g of profiler.stop().statistics) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  r.heapBytes = (getHeapStatistics().used_heap_size - used0 + freed) / EXECS;
  await new Promise((resolve) => setTimeout(resolve, 100));
  r.gcPerExec = (gcCount - gc0) / EXECS;
  r.gcUs = ((gcMs - gcMs0) * 1000) / EXECS;
  return r;
}

async function main(): Promise<void> {
  const path = join(flags.values.out, `bench-pipeline-${process.pid}.log`);
  const reps: Rep[] = [];
  try {
    for (let rep = 0; rep <= REPS; rep++) {
      const r = await measured(path);
      if (rep > 0) reps.push(r); // the first warms the JIT
    }
  } finally {
    rmSync(path, { force: true });
  }
  const med = (f: (r: Rep) => number) => {
    const s = reps.map(f).sort((a, b) => a - b);
    const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return `${m.toFixed(2)} (${s[0].toFixed(2)}–${s[s.length - 1].toFixed(2)})`;
  };
  console.log(`# bench:pipeline ${process.argv[1]}: ${EXECS} execs (fork, exec, exit) at depth ${DEPTH}, ${PASS_RECORDS / 3} execs per pass`
    + `${PACE_MS > 0 ? `, one pass every ${PACE_MS} ms (${PACE_WAIT === 'block' ? 'blocking in Atomics.wait' : 'on a timer'})` : ' back to back'}, `
    + `${REPS} reps after a warm-up, ${reps[0].bytes.toFixed(0)} B per exec line, written to ${flags.values.out}`);
  console.log(`CPU µs/exec ${med((r) => r.cpuUs)}   wall µs/exec ${med((r) => r.wallUs)}   GC µs/exec ${med((r) => r.gcUs)}   `
    + `GCs per 1000 execs ${med((r) => r.gcPerExec * 1000)}   heap bytes allocated/exec ${med((r) => r.heapBytes)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
