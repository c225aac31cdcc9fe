/**
 * Lineages of real processes on the real kernel (issue 3): each scenario is
 * built by build/ancestry-scenario, drained by the real collector in this
 * process and fed to process tables; the expected lineage is built from the
 * raw fork records and the task snapshot, and checked pid by pid, start time
 * by start time, with the completeness flags.
 */
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ExecFlags } from '../../src/collector/layout';
import { startTicks } from '../../src/ancestry/identity';
import type { ForkRecord } from '../../src/collector/decode';
import { AncestryHarness, Helper, idents, SCENARIO, type Captured, type HarnessOptions, type Ident } from './helpers/ancestry-harness';

const tagOf = (scenario: string) => `anc-e2e-${process.pid}-${scenario}`;

/** Run fn with a harness that always closes. */
async function withHarness(tag: string, opts: HarnessOptions, fn: (h: AncestryHarness) => Promise<void>, bootstrap = true): Promise<void> {
  const h = new AncestryHarness(tag, opts);
  try {
    if (bootstrap) {
      h.bootstrap();
      h.start();
    }
    await fn(h);
  } finally {
    await h.close();
  }
}

function assertLineage(h: AncestryHarness, got: Captured, expected: Ident[], what: string): void {
  assert.deepEqual(idents(got.ancestry), idents(expected), `${what}: ancestry (pid:start_boottime), nearest first`);
  assert.deepEqual(got.ancestry.map((a) => a.entityId), expected.map((e) => h.entityId(e)), `${what}: entity ids`);
  assert.equal(got.ancestry.at(-1)?.pid, 1, `${what}: ends at pid 1`);
  // The JSON the events owner embeds says the same, start times to the nanosecond.
  const json = JSON.parse(got.ancestryJson) as { pid: number; ppid: number; entity_id: string }[];
  assert.deepEqual(json.map((a) => [a.pid, a.entity_id]), expected.map((e) => [e.pid, h.entityId(e)]), `${what}: JSON`);
  const starts = [...got.ancestryJson.matchAll(/"start_boottime":(\d+)/g)].map((m) => BigInt(m[1]));
  assert.deepEqual(starts, expected.map((e) => e.startNs), `${what}: JSON start_boottime`);
  for (let i = 0; i + 1 < json.length; i++) assert.equal(json[i].ppid, json[i + 1].pid, `${what}: JSON ppid links`);
}

const SH = realpathSync('/bin/sh');

describe('ancestry on the real kernel', () => {
  it('exec chain: sh → exec → exec is one entity with its earlier images', async () => {
    const tag = tagOf('chain');
    await withHarness(tag, {}, async (h) => {
      const helper = new Helper(['chain', tag], h);
      const leaf = await h.leaf(tag);
      await helper.done();
      const H = h.forked(await helper.line('h'));
      const C = h.forked(await helper.line('c'));
      const execs = h.captured.filter((c) => c.table === 0 && c.record.tgid === C.pid);
      assert.deepEqual(execs.map((e) => e.record.filename), ['/bin/sh', SCENARIO, SCENARIO]);
      for (const e of execs) {
        assert.equal(e.process.entityId, h.entityId(C), 'one entity across the execs');
        assertLineage(h, e, [H, ...h.selfAndAncestors()], `exec of ${e.record.filename}`);
        assert.equal(e.complete, true);
      }
      assert.equal(leaf.process.execCount, 3);
      // The images the kernel ran: /bin/sh resolved (dash on Debian), not the name exec was given.
      assert.deepEqual(leaf.process.execChain, [SH, SCENARIO]);
      // Quotes and $ in argv come out as valid JSON with the exact command line.
      const shJson = JSON.parse(execs[0].processJson) as { cmdline: string; path: string; entity_id: string };
      assert.equal(shJson.cmdline, `sh -c exec "$0" exec2 "$1" ${SCENARIO} ${tag}`);
      assert.equal(shJson.path, SH);
      assert.equal(shJson.entity_id, h.entityId(C));
    });
  });

  for (const mode of ['orphan', 'daemonize'] as const) {
    it(`${mode === 'orphan' ? 'parent exits before its child execs' : 'double fork daemonizing to init'}: lineage keeps the original parent`, async () => {
      const tag = tagOf(mode);
      await withHarness(tag, {}, async (h) => {
        const helper = new Helper([mode, tag], h);
        const leaf = await h.leaf(tag);
        await helper.done();
        const [H, P, C] = [h.forked(await helper.line('h')), h.forked(await helper.line('p')), h.forked(await helper.line('c'))];
        const adopted = await helper.line('adopted');
        assert.equal(leaf.process.entityId, h.entityId(C));
        assertLineage(h, leaf, [P, H, ...h.selfAndAncestors()], mode);
        assert.equal(leaf.complete, true);
        assert.equal(leaf.reason, null);
        assert.equal(leaf.ancestry[0].exited, true, 'the original parent had exited');
        assert.equal(adopted.ppid, 1, `the orphan was adopted by pid ${adopted.ppid}, a child subreaper above this test; run the e2e tests outside it`);
        assert.equal(leaf.currentParent?.pid, 1, 'the current parent is init');
        assert.equal(leaf.currentParent?.entityId, h.entityId(h.selfAndAncestors().at(-1)!));
      });
    });
  }

  it('double fork under a subreaper: lineage keeps the original parent, the subreaper is the current parent', async () => {
    const tag = tagOf('subreaper');
    await withHarness(tag, {}, async (h) => {
      const helper = new Helper(['subreaper', tag], h);
      const leaf = await h.leaf(tag);
      await helper.done();
      const [H, P] = [h.forked(await helper.line('h')), h.forked(await helper.line('p'))];
      assert.equal((await helper.line('adopted')).ppid, H.pid);
      assertLineage(h, leaf, [P, H, ...h.selfAndAncestors()], 'subreaper');
      assert.equal(leaf.complete, true);
      assert.deepEqual(leaf.currentParent && idents([leaf.currentParent]), idents([H]));
    });
  });

  it('exec from a non-leader thread updates its thread group', async () => {
    const tag = tagOf('thread');
    await withHarness(tag, {}, async (h) => {
      const helper = new Helper(['thread', tag], h);
      const leaf = await h.leaf(tag);
      await helper.done();
      const H = h.forked(await helper.line('h'));
      const thread = await helper.line('thread');
      assert.notEqual(thread.tid, H.pid);
      assert.equal(leaf.record.tid, thread.tid, 'the exec came from the thread');
      assert.equal(leaf.record.flags & ExecFlags.ET_EXEC_FROM_THREAD, ExecFlags.ET_EXEC_FROM_THREAD);
      assert.equal(leaf.process.pid, H.pid);
      assert.equal(leaf.process.entityId, h.entityId(H), 'same entity: the thread group, not the thread');
      assert.equal(leaf.process.execCount, 2);
      assert.deepEqual(leaf.process.execChain, [SCENARIO]);
      assertLineage(h, leaf, h.selfAndAncestors(), 'thread exec');
      assert.equal(leaf.complete, true);
      assert.equal(h.records.some((r) => r.kind === 'fork' && r.childTgid === thread.tid), false, 'no process for the thread');
    });
  });

  it('PID reuse: two processes with one pid keep their own lineages (ns_last_pid)', async () => {
    const tag = tagOf('pidreuse');
    await withHarness(tag, {}, async (h) => {
      const helper = new Helper(['pidreuse', tag], h);
      const leafA = await h.leaf(`${tag}:a`);
      const leafB1 = await h.leaf(`${tag}:b1`);
      const leafB = await h.leaf(`${tag}:b`);
      await helper.done();
      const hLine = await helper.line('h');
      const [H, X, A, B] = [h.forked(hLine), h.forked(await helper.line('x')), h.forked(await helper.line('a')), h.forked(await helper.line('b'))];
      assert.equal(A.pid, hLine.target);
      assert.equal(B.pid, A.pid, 'the pid was reused');
      assert.notEqual(B.startNs, A.startNs);
      const self = h.selfAndAncestors();
      assertLineage(h, leafA, [X, H, ...self], 'first incarnation');
      assertLineage(h, leafB, [H, ...self], 'second incarnation');
      assertLineage(h, leafB1, [B, H, ...self], 'child of the second incarnation');
      assert.equal(leafB.process.entityId, h.entityId(B));
      assert.notEqual(leafB.process.entityId, leafA.process.entityId);
      for (const l of [leafA, leafB, leafB1]) assert.equal(l.complete, true);
    });
  });

  it('depth beyond process_ancestry_max_depth: capped and flagged; a deep enough table reaches pid 1', async () => {
    const tag = tagOf('depth');
    await withHarness(tag, { tables: [{ maxDepth: 8 }, { maxDepth: 64 }] }, async (h) => {
      const helper = new Helper(['depth', tag, '40'], h);
      const capped = await h.leaf(tag, 0);
      const full = await h.leaf(tag, 1);
      await helper.done();
      const levels = helper.all('level').sort((a, b) => Number(b.level) - Number(a.level)).map((l) => h.forked(l));
      const H = h.forked(await helper.line('h'));
      const truth = [...levels.slice(1), H, ...h.selfAndAncestors()];
      assert.equal(full.record.flags & ExecFlags.ET_EXEC_CHAIN_TRUNCATED, ExecFlags.ET_EXEC_CHAIN_TRUNCATED, 'deeper than the kernel chain');
      assertLineage(h, full, truth, 'max depth 64');
      assert.equal(full.complete, true);
      assert.deepEqual(idents(capped.ancestry), idents(truth.slice(0, 8)));
      assert.equal(capped.complete, false);
      assert.equal(capped.reason, 'depth_cap');
    });
  });

  it('processes older than the daemon: lineage from the snapshot, exact start times', async () => {
    const tag = tagOf('hold');
    const helper = new Helper(['hold', tag]);
    const cLine = await helper.line('c');
    await withHarness(tag, {}, async (h) => {
      h.helpers.push(helper);
      h.bootstrap();
      h.start();
      helper.send('go');
      const leaf = await h.leaf(tag);
      await helper.done();
      const [H, P, C] = [h.fromSnapshot(await helper.line('h')), h.fromSnapshot(await helper.line('p')), h.fromSnapshot(cLine)];
      assert.equal(leaf.process.entityId, h.entityId(C));
      assertLineage(h, leaf, [P, H, ...h.selfAndAncestors()], 'older than the daemon');
      assert.deepEqual(leaf.ancestry.slice(0, 2).map((a) => a.source), ['bootstrap', 'bootstrap']);
      assert.deepEqual(leaf.ancestry.slice(0, 2).map((a) => a.path), [SCENARIO, SCENARIO], 'details read from /proc');
      assert.equal(leaf.complete, true);
    }, false);
  });

  it('an ancestor that started before the daemon and was gone before the snapshot: exited_before_start', async () => {
    const tag = tagOf('prestart');
    const helper = new Helper(['prestart', tag]);
    const pLine = await helper.line('p');
    await withHarness(tag, {}, async (h) => {
      h.helpers.push(helper);
      // Attached, no snapshot yet: P forks C and exits, H reaps P.
      helper.send('fork');
      const adopted = await helper.line('adopted');
      await helper.line('reaped');
      h.bootstrap();
      h.start();
      helper.send('go');
      const leaf = await h.leaf(tag);
      await helper.done();
      const cLine = await helper.line('c');
      const fork = h.records.find((r): r is ForkRecord => r.kind === 'fork' && r.childTgid === cLine.pid);
      assert.ok(fork, 'the fork of C was recorded');
      const P = { pid: fork.parentTgid, startNs: fork.parentStartNs };
      assert.equal(P.pid, pLine.pid);
      assert.equal(startTicks(P.startNs), pLine.start_ticks);
      assert.equal(h.tasks.some((t) => t.tgid === P.pid && t.startNs === P.startNs), false, 'P is not in the snapshot');
      assert.deepEqual(leaf.ancestry, []);
      assert.equal(leaf.complete, false);
      assert.equal(leaf.reason, 'exited_before_start');
      assert.deepEqual(leaf.missing, { pid: P.pid, entityId: h.entityId(P) });
      assert.equal(leaf.currentParent?.pid, adopted.ppid);
    }, false);
  });

  it('a lost fork record: the kernel chain fills the lineage in, flagged events_lost', async () => {
    const tag = tagOf('lostfork');
    // A small ring, not drained during the flood: the fork of P cannot fit.
    // Big enough to keep up with a busy machine once draining again.
    await withHarness(tag, { ringBytes: 64 << 10 }, async (h) => {
      h.bootstrap();
      const helper = new Helper(['lostfork', tag, '3000'], h);
      const hLine = await helper.line('h');
      helper.send('flood');
      const pLine = await helper.line('p');
      h.start();
      await h.waitFor('the ring to drain', () => (h.collector.drainStats.pendingBytes === 0 ? true : undefined));
      const dropped = h.collector.counters().fork.dropped;
      assert.ok(dropped > 0, 'the flood overflowed the ring');
      assert.equal(h.records.some((r) => r.kind === 'fork' && r.childTgid === pLine.pid), false, `P's fork record was lost (${dropped} forks dropped)`);
      h.tables[0].noteDrops(dropped);
      helper.send('go');
      const leaf = await h.leaf(tag);
      helper.send('quit');
      await helper.done();
      // H is live at P's exec: the kernel chain names it exactly.
      const H = leaf.record.chain.refs()[0];
      assert.equal(H.tgid, hLine.pid);
      assert.equal(startTicks(H.startNs), hLine.start_ticks);
      assert.equal(leaf.process.pid, pLine.pid);
      assert.equal(startTicks(leaf.process.startNs), pLine.start_ticks);
      assertLineage(h, leaf, [{ pid: H.tgid, startNs: H.startNs }, ...h.selfAndAncestors()], 'lost fork');
      assert.equal(leaf.complete, false);
      assert.equal(leaf.reason, 'events_lost');
      assert.ok(h.tables[0].stats.execsWithoutFork >= 1);
    }, false);
  });

  it('TTL: a pinned ancestor outlives the TTL while its descendant lives; an unpinned sibling expires', async () => {
    const tag = tagOf('ttl');
    await withHarness(tag, { tables: [{ cacheTtlSeconds: 1 }] }, async (h) => {
      const helper = new Helper(['orphan', tag, '1500'], h);
      const leaf = await h.leaf(tag);
      const t = h.tables[0];
      const [H, P, S] = [h.forked(await helper.line('h')), h.forked(await helper.line('p')), h.forked(await helper.line('sibling'))];
      assertLineage(h, leaf, [P, H, ...h.selfAndAncestors()], 'after 1.5 s with a 1 s TTL');
      assert.equal(leaf.complete, true);
      t.expire(h.clock.nowBootNs());
      assert.equal(t.lookup(S.pid, S.startNs), null, 'the sibling expired');
      assert.ok(t.stats.expired >= 1);
      await helper.done();
      // The orphan is gone: P is released and expires a TTL later.
      await h.waitFor('the exit of the orphan', () => (t.lookup(leaf.process.pid, leaf.process.startNs)?.exitBootNs ?? null) !== null ? true : undefined);
      t.expire(h.clock.nowBootNs());
      assert.notEqual(t.lookup(P.pid, P.startNs), null, 'P restarts its TTL when released');
      await new Promise((r) => setTimeout(r, 1100));
      t.expire(h.clock.nowBootNs());
      assert.equal(t.lookup(P.pid, P.startNs), null);
    });
  });

  it('LRU pressure: tables far smaller than the live process count still give exact lineages', async (t) => {
    const tag = tagOf('lru');
    const sizes = [16, 32];
    await withHarness(tag, { tables: sizes.map((cacheSize) => ({ cacheSize })) }, async (h) => {
      assert.ok(h.tasks.length > 2 * 32, `${h.tasks.length} live processes: the test needs more than the tables hold`);
      const readsAtStart = h.tables.map((x) => x.stats.procfsReads);
      const helper = new Helper(['orphan', tag], h);
      const leaves = await Promise.all(sizes.map((_, i) => h.leaf(tag, i)));
      await helper.done();
      const [H, P] = [h.forked(await helper.line('h')), h.forked(await helper.line('p'))];
      const truth = [P, H, ...h.selfAndAncestors()];
      for (const [i, leaf] of leaves.entries()) {
        if (sizes[i] >= 32 || leaf.complete) {
          assertLineage(h, leaf, truth, `cache size ${sizes[i]}`);
          assert.equal(leaf.complete, true);
        } else {
          // 16 entries hold little more than the machine's parent processes: on a
          // busy machine the pinned P can be least recently used. Then the answer
          // must still be true as far as it goes, and say why it stops.
          assert.deepEqual(idents(leaf.ancestry), idents(truth.slice(0, leaf.ancestry.length)));
          assert.equal(leaf.reason, 'evicted');
        }
        const st = h.tables[i].stats;
        assert.ok(st.evictionsLive > 0, JSON.stringify(st));
        assert.ok(st.size <= sizes[i] + 8, `size ${st.size}`);
        t.diagnostic(`cache ${sizes[i]}: ${leaf.complete ? 'complete' : leaf.reason}, ${st.evictionsLive} live evictions, ${st.evictedLive} evicted live now, `
          + `${st.procfsReads - readsAtStart[i]} /proc re-reads, ${st.hits} hits, ${st.misses} misses`);
      }
    });
  });
});
