/**
 * The entry store alone: no records, no /proc. Entries are built by hand
 * and moved through insert, link, exit and maintain, and the store's
 * invariants (list membership, pin counts, tombstones, eviction order) are
 * checked after each step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntryStore, imageBytes } from '../../src/ancestry/entry-store';
import type { EntryList } from '../../src/ancestry/entry-list';
import { EntityIds } from '../../src/ancestry/identity';
import {
  LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED, LIST_REMOVED, PARENT_FROM_FORK, ProcessEntry, USE_TICK_NS,
} from '../../src/ancestry/process-entry';
import { argvOf } from '../support/argv';

const ctx = { ids: new EntityIds('0'.repeat(32)), epochNs: (b: bigint) => b };
const SEC = 1e9;

/** A store at t = 100 s with room for `size` entries and a TTL of `ttl` seconds. */
function store(size: number, ttl = 60): EntryStore {
  const s = new EntryStore(size, ttl);
  s.advance(100 * SEC);
  return s;
}

/** A new live process, inserted and linked to its parent as the table does. */
function spawn(s: EntryStore, pid: number, parent: ProcessEntry | null, start = BigInt(pid) * 1000n): ProcessEntry {
  const e = new ProcessEntry(ctx, pid, start, 'event');
  if (parent !== null) e.setParent(parent.pid, parent.startBoottimeNs, PARENT_FROM_FORK);
  s.insert(e);
  s.link(e, parent);
  return e;
}

function exit(s: EntryStore, e: ProcessEntry): void {
  s.markExited(e, s.nowNs, 0, 0);
}

function pids(l: EntryList): number[] {
  const out: number[] = [];
  for (let e = l.head; e !== null; e = e.next) out.push(e.pid);
  return out;
}

/** Every invariant that must hold between two calls, whatever the store was asked. */
function checkInvariants(s: EntryStore): void {
  const listed: ProcessEntry[] = [];
  const walk = (l: EntryList, allowed: number[]) => {
    let n = 0;
    let prev: ProcessEntry | null = null;
    for (let e = l.head; e !== null; e = e.next) {
      assert.ok(allowed.includes(e.list), `${e.pid} tagged ${e.list} on the wrong list`);
      assert.equal(e.prev, prev, `${e.pid}: prev link`);
      prev = e;
      listed.push(e);
      n++;
    }
    assert.equal(l.tail, prev);
    assert.equal(n, l.length);
  };
  walk(s.retained, [LIST_LIVE, LIST_PINNED]);
  walk(s.exited, [LIST_EXITED]);
  const indexed = new Set<ProcessEntry>();
  for (const head of s.index.values()) for (let e: ProcessEntry | null = head; e !== null; e = e.olderSamePid) indexed.add(e);
  assert.deepEqual(new Set(listed), indexed, 'every listed entry is indexed, and only those');
  const all = [...listed];
  for (const t of s.evictedLive.values()) {
    assert.equal(t.list, LIST_EVICTED_LIVE);
    all.push(t);
  }
  const pins = new Map<ProcessEntry, number>();
  const refs = new Map<ProcessEntry, number>();
  const tombstones = new Set<ProcessEntry>();
  let pinned = 0;
  let owned = 0;
  for (const e of all) {
    const alive = e.exitBootNs === null;
    if (e.list === LIST_LIVE || e.list === LIST_EVICTED_LIVE) assert.ok(alive, `${e.pid} listed live after its exit`);
    if (e.list === LIST_EXITED) assert.equal(e.pins, 0, `${e.pid} exited but pinned`);
    if (e.list === LIST_PINNED) {
      assert.ok(!alive && e.pins > 0, `${e.pid} on the pinned list without pins`);
      pinned++;
    }
    assert.equal(e.needing, alive || e.pins > 0, `needing of ${e.pid}`);
    owned += imageBytes(e);
    const p = e.parent;
    if (p === null) continue;
    refs.set(p, (refs.get(p) ?? 0) + 1);
    if (e.needing) pins.set(p, (pins.get(p) ?? 0) + 1);
    if (p.list === LIST_REMOVED) tombstones.add(p);
  }
  for (const e of [...all, ...tombstones]) {
    assert.equal(e.pins, pins.get(e) ?? 0, `pins of ${e.pid}`);
    assert.equal(e.refs, refs.get(e) ?? 0, `refs of ${e.pid}`);
  }
  assert.equal(s.pinned, pinned);
  assert.equal(s.tombstones, tombstones.size);
  assert.equal(s.size, s.retained.length + s.exited.length);
  assert.equal(s.live, listed.filter((e) => e.list === LIST_LIVE).length);
  assert.equal((s as unknown as { ownedBytes: number }).ownedBytes, owned, 'image bytes track exactly what entries hold');
}

describe('EntryStore', () => {
  it('indexes incarnations of a pid newest first, and finds each by start time only', () => {
    const s = store(16);
    const old = spawn(s, 7, null, 1000n);
    exit(s, old);
    s.retirePid(7, 2000n);
    const now = spawn(s, 7, null, 2000n);
    checkInvariants(s);
    assert.equal(s.index.get(7), now);
    assert.equal(now.olderSamePid, old);
    assert.equal(s.find(7, 1000n), old);
    assert.equal(s.find(7, 2000n), now);
    assert.equal(s.find(7, 3000n), null, 'a pid alone is not an identity');
    assert.equal(s.liveByPid(7), now);
    assert.deepEqual([...s.liveEntries()], [now]);
  });

  it('a new incarnation retires a live one with another start time as an inferred exit', () => {
    const s = store(16);
    const stale = spawn(s, 9, null, 1000n);
    s.retirePid(9, 1000n);
    assert.equal(stale.exitBootNs, null, 'the same identity is not retired');
    s.retirePid(9, 5000n);
    checkInvariants(s);
    assert.equal(stale.exitBootNs, 100 * SEC);
    assert.equal(stale.exitCode, null, 'no exit record, no status');
    assert.equal(stale.list, LIST_EXITED);
    assert.equal(s.exitsInferred, 1);
  });

  it('a live child pins its exited ancestors, all the way up, and releases them when it exits', () => {
    const s = store(16);
    const init = spawn(s, 1, null);
    const a = spawn(s, 10, init);
    const b = spawn(s, 11, a);
    const c = spawn(s, 12, b);
    assert.deepEqual([init.pins, a.pins, b.pins, c.pins], [1, 1, 1, 0]);
    exit(s, b);
    exit(s, a);
    checkInvariants(s);
    assert.equal(a.list, LIST_PINNED);
    assert.equal(b.list, LIST_PINNED);
    assert.equal(s.pinned, 2);
    assert.deepEqual(pids(s.exited), []);
    exit(s, c);
    checkInvariants(s);
    assert.deepEqual([init.pins, a.pins, b.pins, c.pins], [0, 0, 0, 0], 'the leaf released the whole chain');
    assert.deepEqual(pids(s.exited), [12, 11, 10], 'released leaf first, then each ancestor it freed');
    assert.equal(s.pinned, 0);
    assert.equal(s.live, 1);
  });

  it('a child linking to an exited parent pins it; relinking moves the pin', () => {
    const s = store(16);
    const init = spawn(s, 1, null);
    const p = spawn(s, 10, init);
    exit(s, p);
    assert.equal(p.list, LIST_EXITED);
    const c = spawn(s, 20, p);
    checkInvariants(s);
    assert.equal(p.list, LIST_PINNED);
    assert.equal(p.pins, 1);
    s.link(c, init);
    checkInvariants(s);
    assert.equal(p.list, LIST_EXITED, 'its last needing child moved away');
    assert.equal(p.pins, 0);
    assert.equal(p.refs, 0);
    assert.equal(init.pins, 1, 'only c needs init: p, exited and unpinned, released it');
  });

  it('evicts unneeded exited entries first, least recently used first', () => {
    const s = store(4);
    const init = spawn(s, 1, null);
    const x = spawn(s, 10, init);
    const y = spawn(s, 11, init);
    exit(s, x);
    exit(s, y);
    s.touch(x); // x is now the more recently used
    spawn(s, 12, init);
    spawn(s, 13, init);
    s.maintain();
    checkInvariants(s);
    assert.equal(s.size, 4);
    assert.equal(s.evictionsExited, 1);
    assert.equal(y.list, LIST_REMOVED, 'least recently used exited entry goes first');
    assert.equal(x.list, LIST_EXITED);
    assert.equal(s.find(11, y.startBoottimeNs), null);
    assert.equal(s.evictionsLive + s.evictionsPinned, 0, 'nothing live or pinned while exited ones remain');
  });

  it('then evicts live and pinned together in LRU order: live ones to tombstones, pinned ones removed', () => {
    const s = store(3);
    const init = spawn(s, 1, null);
    const p = spawn(s, 10, init);
    const c = spawn(s, 11, p);
    exit(s, p); // pinned by c, and now the most recently used
    s.touch(c);
    s.touch(init);
    assert.deepEqual(pids(s.retained), [10, 11, 1]);
    const d = spawn(s, 12, init);
    s.maintain();
    checkInvariants(s);
    assert.equal(p.list, LIST_REMOVED, 'the pinned parent was least recently used');
    assert.equal(s.evictionsPinned, 1);
    assert.equal(s.tombstones, 1, 'c still points at it');
    assert.equal(c.parent, p);
    s.touch(init);
    s.touch(d);
    spawn(s, 13, init);
    s.maintain();
    checkInvariants(s);
    assert.equal(c.list, LIST_EVICTED_LIVE, 'a live entry becomes a tombstone that keeps its identity and link');
    assert.equal(s.evictedLive.get(11), c);
    assert.equal(c.detailsMissing, true);
    assert.equal(c.parent, p);
    assert.equal(s.findHeld(11, c.startBoottimeNs), c);
    assert.equal(s.find(11, c.startBoottimeNs), null);
    assert.equal(s.evictionsLive, 1);
    assert.equal(s.evictions, 2);
  });

  it('exited entries expire a TTL after their last use; pinned ones never do', () => {
    const s = store(16, 10);
    const init = spawn(s, 1, null);
    const p = spawn(s, 10, init);
    spawn(s, 11, p);
    const q = spawn(s, 12, init);
    exit(s, p);
    exit(s, q);
    s.advance(105 * SEC);
    s.touch(q);
    s.advance(110 * SEC + USE_TICK_NS);
    s.maintain();
    assert.equal(q.list, LIST_EXITED, 'used at 105 s: not due until 115 s');
    s.advance(115 * SEC + USE_TICK_NS);
    s.maintain();
    checkInvariants(s);
    assert.equal(q.list, LIST_REMOVED);
    assert.equal(s.expired, 1);
    s.advance(10_000 * SEC);
    s.maintain();
    assert.equal(p.list, LIST_PINNED, 'a live descendant keeps its ancestor past any TTL');
  });

  it('an evicted live entry read back is listed live again; one that died is a tombstone', () => {
    const s = store(2);
    const init = spawn(s, 1, null);
    const a = spawn(s, 10, init);
    const b = spawn(s, 11, a);
    s.maintain(); // three live in room for two: init, the least recently used, goes
    assert.equal(init.list, LIST_EVICTED_LIVE);
    s.reinstate(init);
    checkInvariants(s);
    assert.equal(init.list, LIST_LIVE);
    assert.equal(s.evictedLive.size, 0);
    s.maintain(); // now a is the oldest
    assert.equal(a.list, LIST_EVICTED_LIVE);
    s.killEvictedLive(a, 120 * SEC);
    checkInvariants(s);
    assert.equal(a.list, LIST_REMOVED);
    assert.equal(a.exitBootNs, 120 * SEC);
    assert.equal(s.tombstones, 1, 'b still points at a');
    assert.equal(init.pins, 0, 'a no longer needs init');
    s.link(b, null);
    checkInvariants(s);
    assert.equal(s.tombstones, 0, 'a tombstone nobody points at is freed');
  });

  it('a child of an evicted parent that died links to its tombstone, which then counts', () => {
    const s = store(1);
    const p = spawn(s, 10, null);
    spawn(s, 11, null);
    s.maintain();
    assert.equal(p.list, LIST_EVICTED_LIVE);
    s.killEvictedLive(p, 110 * SEC);
    assert.equal(s.tombstones, 0, 'nobody points at it yet');
    const c = spawn(s, 12, p);
    checkInvariants(s);
    assert.equal(c.parent, p);
    assert.equal(s.tombstones, 1);
  });

  it('a reused pid kills its evicted tombstone; the new incarnation can be evicted in its place', () => {
    const s = store(1);
    const old = spawn(s, 5, null, 1000n);
    const other = spawn(s, 6, null);
    s.maintain();
    assert.equal(old.list, LIST_EVICTED_LIVE);
    s.retirePid(5, 2000n);
    assert.equal(old.list, LIST_REMOVED, 'the pid is reused: the tombstone was not alive');
    const now = spawn(s, 5, null, 2000n);
    s.touch(other);
    s.maintain();
    checkInvariants(s);
    assert.equal(s.evictedLive.get(5), now);
  });

  it('counts the image bytes entries hold, and frees them with the entry', () => {
    const s = store(16, 0);
    const e = spawn(s, 10, null);
    s.releaseImage(e);
    e.setImage('/usr/bin/make', argvOf(['make', '-j2']), false);
    e.ownImage = true;
    s.holdImage(e);
    checkInvariants(s);
    assert.ok(imageBytes(e) > 0);
    exit(s, e);
    s.advance(101 * SEC);
    s.maintain();
    checkInvariants(s);
    assert.equal(e.list, LIST_REMOVED);
    assert.equal(e.path, '', 'a removed entry keeps no strings');
    assert.equal(s.estimatedBytes, 0);
  });
});
