/**
 * Random fork/exec/exit streams with fast pid wrap, checked against the
 * model's ground truth after every exec, with the table's structural
 * invariants (lists, pins, refs) checked after every record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecLineage } from '../../src/ancestry/process-view';
import type { ProcessEntry } from '../../src/ancestry/process-entry';
import { LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED } from '../../src/ancestry/process-entry';
import { imageBytes } from '../../src/ancestry/entry-store';
import type { ProcessTable } from '../../src/ancestry/table';
import { ids, idsOf, SyntheticKernel, type KProc } from './synthetic-kernel';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Internals {
  index: Map<number, ProcessEntry>;
  evictedLive: Map<number, ProcessEntry>;
  retained: { head: ProcessEntry | null; length: number };
  exited: { head: ProcessEntry | null; length: number };
  pinnedCount: number;
  ownedBytes: number;
}

function checkInvariants(t: ProcessTable): void {
  const x = (t as unknown as { store: Internals }).store;
  const all: ProcessEntry[] = [];
  const walk = (l: { head: ProcessEntry | null; length: number }, allowed: number[]) => {
    let n = 0;
    for (let e = l.head; e !== null; e = e.next) {
      assert.ok(allowed.includes(e.list), `entry ${e.pid} tagged ${e.list} on the wrong list`);
      all.push(e);
      n++;
    }
    assert.equal(n, l.length);
  };
  walk(x.retained, [LIST_LIVE, LIST_PINNED]);
  walk(x.exited, [LIST_EXITED]);
  let indexed = 0;
  for (const head of x.index.values()) for (let e: ProcessEntry | null = head; e !== null; e = e.olderSamePid) indexed++;
  assert.equal(indexed, all.length, 'every listed entry is indexed, and only those');
  for (const t2 of x.evictedLive.values()) {
    assert.equal(t2.list, LIST_EVICTED_LIVE);
    assert.equal(t2.needing, true);
    all.push(t2);
  }
  let pinned = 0;
  const pins = new Map<ProcessEntry, number>();
  for (const e of all) {
    if (e.list === LIST_PINNED) pinned++;
    const alive = e.exitBootNs === null;
    if (e.list === LIST_LIVE) assert.ok(alive);
    if (e.list === LIST_EXITED || e.list === LIST_PINNED) assert.ok(!alive);
    if (e.list !== LIST_EVICTED_LIVE) assert.equal(e.needing, alive || e.pins > 0, `needing of ${e.pid}`);
    if (e.list === LIST_EXITED) assert.equal(e.pins, 0, `pins of ${e.pid} on list ${e.list}`);
    if (e.list === LIST_PINNED) assert.ok(e.pins > 0);
    if (e.parent !== null && e.needing) pins.set(e.parent, (pins.get(e.parent) ?? 0) + 1);
  }
  assert.equal(pinned, x.pinnedCount);
  let owned = 0;
  for (const e of all) owned += imageBytes(e);
  assert.equal(x.ownedBytes, owned, 'the byte estimate tracks exactly what entries hold');
  for (const e of all) assert.equal(e.pins, pins.get(e) ?? 0, `pins of ${e.pid}:${e.startBoottimeNs}`);
}

function isPrefix(a: string[], of: string[]): boolean {
  return a.length <= of.length && a.every((v, i) => v === of[i]);
}

/** Every element of a, in order, within b: what a lineage may be when records were lost (reapers are ancestors). */
function isSubsequence(a: string[], b: string[]): boolean {
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j] !== x) j++;
    if (j === b.length) return false;
    j++;
  }
  return true;
}

function run(seed: number, opts: { cacheSize: number; ttl: number; maxDepth: number; steps: number; lossRate?: number; resyncEvery?: number }) {
  const r = rng(seed);
  const k = new SyntheticKernel();
  k.pidMax = 420; // ~120 pids: reuse every few dozen forks
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  const t = k.table({ cacheSize: opts.cacheSize, cacheTtlSeconds: opts.ttl, maxDepth: opts.maxDepth });
  t.bootstrap(k.snapshot());
  const users = (): KProc[] => [...k.live.values()].filter((p) => p.pid > 2);
  let execs = 0;
  let complete = 0;
  let lost = 0;
  // The kernel's ring dropping records: the table never sees them.
  const feed = <T extends Parameters<ProcessTable['apply']>[0]>(rec: T) => {
    if (opts.lossRate !== undefined && r() < opts.lossRate) {
      lost++;
      return null;
    }
    return t.apply(rec);
  };
  for (let step = 0; step < opts.steps; step++) {
    if (opts.resyncEvery !== undefined && step > 0 && step % opts.resyncEvery === 0) t.resync(k.snapshot(), lost);
    k.tick(Math.floor(r() * 200e6));
    const procs = users();
    const p = procs[Math.floor(r() * procs.length)];
    const roll = r();
    if (roll < 0.4 && k.live.size < 110) {
      const child = k.fork(p);
      if (r() < 0.05) child.proc.subreaper = true;
      feed(child.record);
    } else if (roll < 0.7) {
      const res = feed(k.exec(p, `/bin/p${step}`, [`p${step}`, 'a b', '"q"'])) as ExecLineage | null;
      if (res === null) continue;
      execs++;
      const truth = idsOf(k.lineage(p));
      const got = ids(res.ancestry);
      assert.equal(res.process.startBoottimeNs, p.startNs);
      if (res.complete) {
        complete++;
        assert.deepEqual(got, truth, `seed ${seed} step ${step}: complete lineage differs`);
      } else if (opts.lossRate === undefined) {
        assert.ok(isPrefix(got, truth), `seed ${seed} step ${step}: incomplete lineage is not a prefix of the truth`);
        assert.ok(res.incompleteReason === 'depth_cap' || res.incompleteReason === 'evicted', `reason ${res.incompleteReason}`);
        if (res.incompleteReason === 'depth_cap') assert.equal(got.length, opts.maxDepth);
      } else {
        assert.ok(isSubsequence(got, truth), `seed ${seed} step ${step}: lineage with lost records names a non-ancestor`);
      }
      const cur = res.currentParent ?? res.ancestry[0];
      if (p.parent !== null && cur !== undefined && res.incompleteReason === null) {
        assert.equal(cur.pid, p.parent.pid, 'current parent');
      }
    } else if (p !== shell) {
      feed(k.exit(p));
    }
    checkInvariants(t);
  }
  return { t, execs, complete, lost };
}

describe('ProcessTable under random churn with pid wrap', () => {
  it('a table large enough is always exact and complete, whatever the TTL (pinning)', () => {
    for (const seed of [1, 2, 3]) {
      const { t, execs, complete } = run(seed, { cacheSize: 100_000, ttl: 0, maxDepth: 64, steps: 3000 });
      assert.equal(complete, execs, `seed ${seed}: ${JSON.stringify(t.stats.incomplete)}`);
      assert.ok(t.stats.expired > 0, 'TTL 0 expired what nobody needed');
    }
  });

  it('with 5% of records lost and periodic resyncs: complete means exact; otherwise only true ancestors, in order', () => {
    for (const seed of [7, 8, 9]) {
      const { t, execs, complete, lost } = run(seed, { cacheSize: 100_000, ttl: 30, maxDepth: 64, steps: 3000, lossRate: 0.05, resyncEvery: 250 });
      assert.ok(lost > 50 && execs > 500 && complete > 0, `lost ${lost}, execs ${execs}, complete ${complete}`);
      assert.ok(t.stats.resyncs >= 10);
      assert.ok(t.stats.incomplete.events_lost > 0, 'losses were reported as such');
    }
  });

  it('a small table is exact when it says complete, a true prefix with a reason when not', () => {
    for (const seed of [4, 5, 6]) {
      const { t, execs, complete } = run(seed, { cacheSize: 16, ttl: 5, maxDepth: 6, steps: 3000 });
      assert.ok(execs > 500);
      assert.ok(complete > 0);
      assert.ok(t.stats.evictions > 0);
    }
  });
});
