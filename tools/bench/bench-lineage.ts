/**
 * Ancestry engine micro-benchmark (issue 3): the per-exec hot path — one
 * exec record in, its lineage out — on a warm table, for lineages of depth
 * 5, 16 and 32; and ProcessTable.apply() for fork, exec and exit records of
 * short-lived processes with pid reuse. Records are built before timing, so
 * the figures are the table's own cost (decode is bench:decode's).
 *
 * Prints, per case: ns/op as mean ± sd over runs, heap bytes allocated per
 * op (heap growth over a run with no GC in it; "gc!" marks a run a GC hit,
 * whose figure is then a lower bound), CPU µs/op, and RSS at the end.
 * Side by side, so one run compares them: the ancestry text of the lineage,
 * rendered fresh (ancestryJson) vs joined from the formats' element cache.
 *
 * Flags: USAGE below.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { ExecRecord, ExitRecord, ForkRecord } from '../../src/collector/decode';
import { ancestorJson } from '../../src/events/ancestor-json';
import { ancestryJson } from '../../test/support/ancestry-json';
import { AncestorTextCache, joinAncestry } from '../../src/events/lineage-element';
import type { ExecLineage } from '../../src/ancestry/process-view';
import { SyntheticKernel, type KProc } from '../../test/ancestry/synthetic-kernel';
import { Flags } from '../lib/cli-args';

const flags = new Flags('usage: npm run bench:lineage -- [--ops 100000] [--runs 5]', {
  ops: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' },
});
const OPS = flags.number('ops', { integer: true, min: 1 });
const RUNS = flags.number('runs', { integer: true, min: 1 });
const gc = (globalThis as { gc?: () => void }).gc;

/** Scavenges and incremental marks only: the explicit full gc() between runs does not count. */
let gcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind !== 4) gcs++;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise<void>((r) => setTimeout(r, 20));

interface Result {
  nsPerOp: number[];
  bytesPerOp: number;
  cpuUsPerOp: number;
  gcHit: boolean;
}

/** Run `body(n)` RUNS + 1 times (the first warms the JIT); time and heap per op. */
async function measure(ops: number, body: (n: number) => void): Promise<Result> {
  const ns: number[] = [];
  let bytes = Infinity;
  let cpu = 0;
  let gcHit = false;
  for (let run = 0; run <= RUNS; run++) {
    gc?.();
    await settle();
    const gc0 = gcs;
    const heap0 = process.memoryUsage().heapUsed;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    body(ops);
    const t1 = process.hrtime.bigint();
    const c = process.cpuUsage(cpu0);
    const heap1 = process.memoryUsage().heapUsed;
    await settle();
    if (run === 0) continue;
    ns.push(Number(t1 - t0) / ops);
    cpu += (c.user + c.system) / ops;
    // The smallest growth of a GC-free run is the allocation per op.
    if (gcs === gc0) bytes = Math.min(bytes, (heap1 - heap0) / ops);
    else gcHit = true;
  }
  return { nsPerOp: ns, bytesPerOp: bytes === Infinity ? NaN : bytes, cpuUsPerOp: cpu / RUNS, gcHit: gcHit && bytes === Infinity };
}

function line(name: string, r: Result): void {
  const mean = r.nsPerOp.reduce((a, b) => a + b, 0) / r.nsPerOp.length;
  const sd = Math.sqrt(r.nsPerOp.reduce((a, b) => a + (b - mean) ** 2, 0) / r.nsPerOp.length);
  const heap = Number.isNaN(r.bytesPerOp) ? 'gc! n/a' : `${r.bytesPerOp.toFixed(1)} B/op`;
  console.log(`${name.padEnd(34)} ${mean.toFixed(0).padStart(7)} ns/op ± ${sd.toFixed(0).padStart(4)}  `
    + `${heap.padStart(12)}  ${r.cpuUsPerOp.toFixed(3)} CPU µs/op  samples ${r.nsPerOp.map((x) => x.toFixed(0)).join(' ')}`);
}

/** A table holding `background` unrelated live processes and a chain giving `leaf` exactly `depth` ancestors. */
function warmTable(depth: number, background = 2000) {
  const k = new SyntheticKernel();
  const t = k.table({ cacheSize: 65536, maxDepth: 64 });
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  t.bootstrap(k.snapshot());
  for (let i = 0; i < background; i++) {
    const f = k.fork(shell);
    t.apply(f.record);
    t.apply(k.exec(f.proc, '/usr/bin/sleep', ['sleep', String(i)]));
  }
  let cur: KProc = shell;
  for (let d = 2; d < depth; d++) {
    const f = k.fork(cur);
    t.apply(f.record);
    t.apply(k.exec(f.proc, `/usr/bin/step${d}`, [`step${d}`, '--level', String(d)]));
    cur = f.proc;
  }
  const leaf = k.fork(cur);
  t.apply(leaf.record);
  const rec = k.exec(leaf.proc, '/usr/bin/python3', ['python3', '-m', 'http.server', '8080']);
  t.apply(rec); // first exec: the image is set, later applications only walk
  return { k, t, rec };
}

async function main(): Promise<void> {
  console.log(`# bench-lineage: ${OPS} ops × ${RUNS} runs${gc ? '' : ' (run with --expose-gc for heap figures)'}; node ${process.version}`);
  let sink = 0;
  for (const depth of [5, 16, 32]) {
    const { t, rec } = warmTable(depth);
    const first = t.apply(rec) as ExecLineage;
    if (first.ancestry.length !== depth || !first.complete) throw new Error(`depth ${depth}: got ${first.ancestry.length}, complete ${first.complete}`);
    line(`lineage depth ${depth}`, await measure(OPS, (n) => {
      for (let i = 0; i < n; i++) sink += (t.apply(rec) as ExecLineage).ancestry.length;
    }));
    const l = t.apply(rec) as ExecLineage;
    const cache = new AncestorTextCache(ancestorJson);
    line(`  + ancestry text, element cache`, await measure(OPS / 10, (n) => {
      for (let i = 0; i < n; i++) sink += joinAncestry(cache, l.ancestry, '[', ',', ']').length;
    }));
    line(`  + ancestry text, fresh`, await measure(OPS / 10, (n) => {
      for (let i = 0; i < n; i++) sink += ancestryJson(l.ancestry).length;
    }));
  }

  // Churn: short-lived processes under a shell, pids wrapping every ~30k forks.
  const k = new SyntheticKernel();
  k.pidMax = 32768;
  const t = k.table({ cacheSize: 16384, cacheTtlSeconds: 60, maxDepth: 32 });
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  t.bootstrap(k.snapshot());
  const BATCH = 1000;
  const batches = Math.max(10, Math.floor(OPS / BATCH));
  const build = () => {
    const forks: ForkRecord[] = [];
    const execs: ExecRecord[] = [];
    const exits: ExitRecord[] = [];
    const procs: KProc[] = [];
    for (let i = 0; i < BATCH; i++) {
      const f = k.fork(shell);
      forks.push(f.record);
      procs.push(f.proc);
    }
    for (const p of procs) execs.push(k.exec(p, '/usr/bin/true', ['true', '--flag', 'value']));
    for (const p of procs) exits.push(k.exit(p));
    return { forks, execs, exits };
  };
  const times: Record<'fork' | 'exec' | 'exit', number[]> = { fork: [], exec: [], exit: [] };
  // Records of one batch are built untimed, then applied kind by kind (each exec finds its fork applied).
  for (let b = 0; b < batches; b++) {
    const recs = build();
    for (const kind of ['fork', 'exec', 'exit'] as const) {
      const list = recs[`${kind}s` as const];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < list.length; i++) t.apply(list[i]);
      times[kind].push(Number(process.hrtime.bigint() - t0) / BATCH);
    }
  }
  for (const kind of ['fork', 'exec', 'exit'] as const) {
    const s = times[kind].slice(Math.floor(batches / 5)); // skip warm-up batches
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
    const sorted = [...s].sort((a, b) => a - b);
    console.log(`${`apply(${kind}), churn + pid wrap`.padEnd(34)} ${mean.toFixed(0).padStart(7)} ns/op ± ${sd.toFixed(0).padStart(4)}  `
      + `median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ns (${s.length} batches of ${BATCH}, GC pauses included)`);
  }
  // Heap per fork/exec/exit cycle, on fresh records, after the churn warmed up.
  const pools = Array.from({ length: RUNS + 1 }, build);
  let run = 0;
  const cyc = await measure(BATCH, (n) => {
    const one = pools[run++];
    for (let i = 0; i < n; i++) { t.apply(one.forks[i]); t.apply(one.execs[i]); t.apply(one.exits[i]); }
  });
  console.log(`${'heap per fork+exec+exit cycle'.padEnd(34)} ${Number.isNaN(cyc.bytesPerOp) ? 'gc! n/a' : `${cyc.bytesPerOp.toFixed(0)} B/cycle`}  (entry + entity id + start times; steady state frees as much)`);
  const st = t.stats;
  console.log(`# table after churn: size ${st.size}, expired ${st.expired}, evictions ${st.evictions}, exitsInferred ${st.exitsInferred}, `
    + `~${(st.estimatedBytes / 1048576).toFixed(1)} MiB estimated; RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB${sink < 0 ? '' : ''}`);
}

void main();
