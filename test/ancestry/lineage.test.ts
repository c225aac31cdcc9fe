import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntityIds } from '../../src/ancestry/identity';
import { KernelChain } from '../../src/collector/kernel-chain';
import { LineageResult, walkLineage, type LineageSource } from '../../src/ancestry/lineage';
import { ProcessEntry } from '../../src/ancestry/process-entry';
import type { IncompleteReason } from '../../src/ancestry/process-view';

const ctx = { ids: new EntityIds('0'.repeat(32)), epochNs: (b: bigint) => b };

/** pid n's parent is n - 1; pid 1 is the root. */
function chainOf(n: number): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (let pid = 1; pid <= n; pid++) {
    const e = new ProcessEntry(ctx, pid, BigInt(pid * 1000), 'event');
    e.ppid = pid - 1;
    e.parent = out.at(-1) ?? null;
    out.push(e);
  }
  return out;
}

function source(maxDepth: number, opts: { gapAt?: number; uncertainAt?: number; missingDetailsAt?: number } = {}): LineageSource {
  return {
    maxDepth,
    parentOf: (cur) => (cur.parent !== null && cur.parent.pid === opts.gapAt ? null : cur.parent),
    gapReason: (): IncompleteReason => 'evicted',
    linkUncertain: (cur) => cur.pid === opts.uncertainAt,
    detailsReason: (e) => (e.pid === opts.missingDetailsAt ? 'exited_before_start' : null),
  };
}

function walk(src: LineageSource, p: ProcessEntry, out = new LineageResult()) {
  walkLineage(src, p, KernelChain.EMPTY, out);
  return { pids: out.ancestry.map((a) => a.pid), reason: out.incompleteReason, complete: out.complete, missing: out.missingAncestor };
}

describe('walkLineage', () => {
  it('walks to the root; exactly max depth with the root is complete, one short is capped', () => {
    const c = chainOf(6);
    assert.deepEqual(walk(source(5), c[5]), { pids: [5, 4, 3, 2, 1], reason: null, complete: true, missing: null });
    assert.deepEqual(walk(source(4), c[5]), { pids: [5, 4, 3, 2], reason: 'depth_cap', complete: false, missing: null });
  });

  it('a gap stops the walk, names the missing ancestor and wins over other reasons', () => {
    const c = chainOf(6);
    const r = walk(source(3, { gapAt: 3, uncertainAt: 6 }), c[5]);
    assert.deepEqual(r.pids, [5, 4]);
    assert.equal(r.reason, 'evicted');
    assert.equal(r.missing?.pid, 3);
  });

  it('a doubt the walk goes past (uncertain link, missing details) beats the depth cap', () => {
    const c = chainOf(6);
    assert.equal(walk(source(2, { uncertainAt: 6 }), c[5]).reason, 'events_lost');
    c[4].detailsMissing = true;
    assert.equal(walk(source(2, { missingDetailsAt: 5 }), c[5]).reason, 'exited_before_start');
    c[4].detailsMissing = false;
    // An uncertain link beyond the cap is never followed, so it does not count.
    assert.equal(walk(source(2, { uncertainAt: 4 }), c[5]).reason, 'depth_cap');
  });

  it('reuses the result: a shorter lineage after a longer one has the right length', () => {
    const c = chainOf(8);
    const out = new LineageResult();
    assert.equal(walk(source(64), c[7], out).pids.length, 7);
    assert.deepEqual(walk(source(64), c[2], out).pids, [2, 1]);
    assert.equal(out.ancestry.length, 2);
  });
});
