import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decoded, KernelRecord } from '../../src/collector/decode';
import { ExecFlags } from '../../src/collector/layout';
import { isAncestrydError } from '../../src/errors';
import type { ExecLineage, ExitEventView, ForkEventView } from '../../src/ancestry/process-view';
import { ENTRY_CONTAINER, ENTRY_INIT, ENTRY_NONE, ENTRY_SSHD, ENTRY_TYPE_NAMES, ENTRY_UNKNOWN, entryLeaderIndex } from '../../src/ancestry/entry-leader';
import { ProcessTable } from '../../src/ancestry/table';
import { BOOT_ID, HOST_MNT_NS, HOST_NET_NS, ids, idsOf, SyntheticKernel, type KProc } from './synthetic-kernel';

/** A copy of what the table returned: results are reused by the next apply(). */
interface Seen {
  pid: number;
  entityId: string;
  ancestry: string[];
  ancestryEntityIds: string[];
  complete: boolean;
  reason: string | null;
  currentParent: string | null;
  missing: { pid: number; entityId: string | null } | null;
  execCount: number;
  execChain: string[];
  path: string;
}

function exec(t: ProcessTable, r: KernelRecord): Seen {
  const res = t.apply(r) as ExecLineage | null;
  assert.ok(res !== null && 'ancestry' in res, `exec of ${(r as { tgid?: number }).tgid} returned no lineage`);
  return {
    pid: res.process.pid,
    entityId: res.process.entityId,
    ancestry: ids(res.ancestry),
    ancestryEntityIds: res.ancestry.map((a) => a.entityId),
    complete: res.complete,
    reason: res.incompleteReason,
    currentParent: res.currentParent === null ? null : ids([res.currentParent])[0],
    missing: res.missingAncestor === null ? null : { ...res.missingAncestor },
    execCount: res.process.execCount,
    execChain: res.process.execChain.map((i) => i.path),
    path: res.process.path,
  };
}

function entityId(p: KProc): string {
  return `${BOOT_ID}-${p.startNs}-${p.pid}`;
}

/** A booted model with a login shell, and a table bootstrapped from it. */
function setup(opts: ConstructorParameters<typeof ProcessTable>[0] extends infer O ? Partial<O> : never = {}) {
  const k = new SyntheticKernel();
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  const t = k.table(opts);
  t.bootstrap(k.snapshot());
  const apply = (...rs: Decoded[]) => { for (const r of rs) t.apply(r); };
  const fork = (parent: KProc, pid?: number): KProc => {
    const f = k.fork(parent, pid);
    t.apply(f.record);
    return f.proc;
  };
  return { k, t, shell, apply, fork };
}

/** An sshd that leads its own session and an ssh login on pts/1 under it, both older than the daemon. */
function sshLogin(): { k: SyntheticKernel; sshd: KProc; login: KProc; PTS1: number } {
  const k = new SyntheticKernel();
  const PTS1 = (136 << 20) | 1;
  const sshd = k.preexisting(k.init, '/usr/sbin/sshd', ['sshd: /usr/sbin/sshd -D']);
  k.setsid(sshd);
  const login = k.preexisting(sshd, '/bin/bash', ['-bash']);
  k.setsid(login, PTS1);
  return { k, sshd, login, PTS1 };
}

describe('ProcessTable lineage', () => {
  it('follows fork-time parents to pid 1 with exact start times and entity ids', () => {
    const { k, t, shell, fork } = setup();
    const make = fork(shell);
    t.apply(k.exec(make, '/usr/bin/make', ['make', '-j2']));
    const cc = fork(make);
    const s = exec(t, k.exec(cc, '/usr/bin/cc', ['cc', '-c', 'a.c']));
    assert.deepEqual(s.ancestry, idsOf([make, shell, k.init]));
    assert.deepEqual(s.ancestryEntityIds, [make, shell, k.init].map(entityId));
    assert.equal(s.entityId, entityId(cc));
    assert.equal(s.complete, true);
    assert.equal(s.reason, null);
    assert.equal(s.currentParent, null);
    assert.equal(t.stats.hits, 1 + 2 + 1 + 3, 'each fork\'s parent lookup plus one hit per ancestor per exec');
  });

  it('PID reuse: a new process with a reused pid never inherits the old one\'s lineage', () => {
    const { k, t, shell, fork } = setup();
    const x = fork(shell);
    t.apply(k.exec(x, '/usr/bin/xterm', ['xterm']));
    const a = fork(x, 5000);
    const sa = exec(t, k.exec(a, '/bin/a', ['a']));
    assert.deepEqual(sa.ancestry, idsOf([x, shell, k.init]));
    t.apply(k.exit(a));
    t.apply(k.exit(x));

    const y = fork(shell);
    t.apply(k.exec(y, '/usr/bin/sshd', ['sshd']));
    const b = fork(y, 5000);
    assert.notEqual(a.startNs, b.startNs);
    const sb = exec(t, k.exec(b, '/bin/b', ['b']));
    assert.deepEqual(sb.ancestry, idsOf([y, shell, k.init]));
    assert.notEqual(sb.entityId, sa.entityId);
    assert.equal(t.lookup(5000, a.startNs)?.path, '/bin/a', 'the old incarnation stays resolvable until its TTL');
    assert.equal(t.lookup(5000, b.startNs)?.path, '/bin/b');

    // Through the reused pid as an ancestor: the new incarnation, by start time.
    const c = fork(b);
    const sc = exec(t, k.exec(c, '/bin/c', ['c']));
    assert.deepEqual(sc.ancestry, idsOf([b, y, shell, k.init]));
    assert.equal(sc.ancestryEntityIds[0], entityId(b));
  });

  it('PID reuse after a lost exit record retires the stale live entry', () => {
    const { k, t, shell, fork } = setup();
    const a = fork(shell, 7000);
    k.exit(a); // record lost
    const b = fork(shell, 7000);
    assert.equal(t.stats.exitsInferred, 1);
    assert.notEqual(t.lookup(7000, a.startNs)?.exitBootNs ?? null, null);
    assert.equal(t.lookup(7000, b.startNs)?.exitBootNs, null);
  });

  it('a parent that exits before its child execs stays in the lineage; the reaper is the current parent', () => {
    const { k, t, shell, fork } = setup();
    const p = fork(shell);
    t.apply(k.exec(p, '/usr/bin/nohup', ['nohup', 'job']));
    const c = fork(p);
    t.apply(k.exit(p));
    const s = exec(t, k.exec(c, '/usr/bin/job', ['job']));
    assert.deepEqual(s.ancestry, idsOf([p, shell, k.init]));
    assert.equal(s.currentParent, idsOf([k.init])[0]);
    assert.equal(s.complete, true);
    assert.notEqual(t.lookup(p.pid, p.startNs)?.exitBootNs, null);
  });

  it('double fork to init: the daemon keeps its lineage beyond the TTL while it lives (pinning)', () => {
    const { k, t, shell, fork } = setup({ cacheTtlSeconds: 10 });
    const starter = fork(shell);
    t.apply(k.exec(starter, '/usr/bin/start-daemon', ['start-daemon']));
    const mid = fork(starter);
    const daemon = fork(mid);
    t.apply(k.exit(mid));
    t.apply(k.exit(starter));
    const s1 = exec(t, k.exec(daemon, '/usr/sbin/mydaemon', ['mydaemon']));
    assert.deepEqual(s1.ancestry, idsOf([mid, starter, shell, k.init]));
    assert.equal(s1.currentParent, idsOf([k.init])[0]);

    k.tick(60e9);
    t.expire(k.nowNs);
    assert.equal(t.stats.pinned, 2, 'mid and starter are pinned by the live daemon');
    const child = fork(daemon);
    const s2 = exec(t, k.exec(child, '/bin/worker', ['worker']));
    assert.deepEqual(s2.ancestry, idsOf([daemon, mid, starter, shell, k.init]));
    assert.equal(s2.complete, true);

    // Once nothing needs them, they expire a TTL later.
    t.apply(k.exit(child));
    t.apply(k.exit(daemon));
    assert.equal(t.stats.pinned, 0);
    k.tick(11e9);
    t.expire(k.nowNs);
    assert.equal(t.lookup(mid.pid, mid.startNs), null);
    assert.equal(t.lookup(starter.pid, starter.startNs), null);
    assert.equal(t.stats.expired, 4);
  });

  it('double fork to a subreaper: lineage keeps the original parent, currentParent is the subreaper', () => {
    const { k, t, shell, fork } = setup();
    const sr = fork(shell);
    t.apply(k.exec(sr, '/usr/bin/tini', ['tini']));
    sr.subreaper = true;
    const p = fork(sr);
    const d = fork(p);
    t.apply(k.exit(p));
    assert.equal(d.parent, sr);
    const s = exec(t, k.exec(d, '/usr/bin/app', ['app']));
    assert.deepEqual(s.ancestry, idsOf([p, sr, shell, k.init]));
    assert.equal(s.currentParent, idsOf([sr])[0]);
    const view = t.lookup(d.pid, d.startNs)!;
    assert.equal(view.parentEntityId, entityId(p));
    assert.equal(view.currentParentEntityId, entityId(sr));
    assert.equal(view.currentPpid, sr.pid);
  });

  it('exec from a non-leader thread updates its thread group, not a new process', () => {
    const { k, t, shell, fork } = setup();
    const jvm = fork(shell);
    const s1 = exec(t, k.exec(jvm, '/usr/bin/java', ['java', '-jar', 'x.jar']));
    const r = k.exec(jvm, '/bin/sh', ['sh', '-c', 'id'], { tid: jvm.pid + 3 });
    const s2 = exec(t, r);
    assert.equal(r.tid !== r.tgid, true);
    assert.equal(s2.entityId, s1.entityId);
    assert.equal(s2.pid, jvm.pid);
    assert.equal(s2.path, '/bin/sh');
    assert.equal(s2.execCount, 2);
    assert.deepEqual(s2.execChain, ['/usr/bin/java']);
    assert.deepEqual(s2.ancestry, idsOf([shell, k.init]));
    assert.equal(t.stats.size, 4, 'init, kthreadd, shell, jvm: no entry for the thread');
  });

  it('exec chains (sh → exec → exec) keep one entity and record earlier images', () => {
    const { k, t, shell, fork } = setup();
    const p = fork(shell);
    const s1 = exec(t, k.exec(p, '/bin/sh', ['sh', '-c', 'exec env X=1 make']));
    const s2 = exec(t, k.exec(p, '/usr/bin/env', ['env', 'X=1', 'make']));
    const s3 = exec(t, k.exec(p, '/usr/bin/make', ['make']));
    assert.equal(s1.entityId, s3.entityId);
    assert.equal(s2.entityId, s3.entityId);
    assert.deepEqual(s3.ancestry, s1.ancestry);
    assert.equal(s3.execCount, 3);
    assert.deepEqual(s3.execChain, ['/bin/sh', '/usr/bin/env']);
    const view = t.lookup(p.pid, p.startNs)!;
    assert.equal(view.execChain[0].cmdline, 'sh -c exec env X=1 make');
  });

  it('a failed exec reports the lineage and leaves the image alone', () => {
    const { k, t, shell, fork } = setup();
    const p = fork(shell);
    t.apply(k.exec(p, '/bin/true', ['true']));
    const s = exec(t, k.exec(p, '/nonexistent', ['x'], { kind: 'exec_failed' }));
    assert.equal(s.path, '/bin/true');
    assert.equal(s.execCount, 1);
    assert.deepEqual(s.ancestry, idsOf([shell, k.init]));
  });

  it('depth beyond process_ancestry_max_depth: capped and flagged; exactly at the cap with init: complete', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['bash']);
    const snap = k.snapshot();
    const t8 = k.table({ maxDepth: 8 });
    const t64 = k.table({ maxDepth: 64 });
    t8.bootstrap(snap);
    t64.bootstrap(snap);
    let cur = shell;
    const chain: KProc[] = [];
    for (let i = 0; i < 40; i++) {
      const f = k.fork(cur);
      t8.apply(f.record);
      t64.apply(f.record);
      chain.push(f.proc);
      cur = f.proc;
    }
    const r = k.exec(cur, '/bin/deep', ['deep']);
    const s8 = exec(t8, r);
    const s64 = exec(t64, r);
    const truth = k.lineage(cur);
    assert.equal(truth.length, 41);
    assert.deepEqual(s8.ancestry, idsOf(truth.slice(0, 8)));
    assert.equal(s8.complete, false);
    assert.equal(s8.reason, 'depth_cap');
    assert.deepEqual(s64.ancestry, idsOf(truth));
    assert.equal(s64.ancestry.at(-1), idsOf([k.init])[0]);
    assert.equal(s64.complete, true);
    assert.equal(r.flags & 4, 4, 'the kernel chain itself was truncated at 32, the table was not');

    // A lineage of exactly max_depth that ends at pid 1 is complete.
    const t3 = k.table({ maxDepth: 3 });
    t3.bootstrap(k.snapshot());
    const a = k.fork(shell);
    t3.apply(a.record);
    const s3 = exec(t3, k.exec(a.proc, '/bin/x', ['x']));
    assert.deepEqual(s3.ancestry, idsOf([shell, k.init]));
    assert.equal(s3.complete, true);
    const b = k.fork(a.proc);
    t3.apply(b.record);
    const sb = exec(t3, k.exec(b.proc, '/bin/y', ['y']));
    assert.deepEqual(sb.ancestry, idsOf([a.proc, shell, k.init]));
    assert.equal(sb.complete, true);
  });

  it('processes older than the daemon come from the snapshot with exact start times', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const tmux = k.preexisting(shell, '/usr/bin/tmux', ['tmux']);
    const inner = k.preexisting(tmux, '/bin/zsh', ['zsh']);
    const kworker = k.preexisting(k.kthreadd, '', [], 900);
    kworker.kthread = true;
    const t = k.table();
    t.bootstrap(k.snapshot());
    const s = exec(t, k.exec(inner, '/usr/bin/vim', ['vim', 'notes.txt']));
    assert.deepEqual(s.ancestry, idsOf([tmux, shell, k.init]));
    assert.equal(s.complete, true);
    const tv = t.lookup(tmux.pid, tmux.startNs)!;
    assert.equal(tv.source, 'bootstrap');
    assert.equal(tv.path, '/usr/bin/tmux');
    assert.equal(tv.cwd, '/work');
    assert.equal(tv.startBoottimeNs, tmux.startNs);

    // A usermode helper: forked by a kernel thread, lineage ends at kthreadd.
    const helper = k.fork(kworker);
    t.apply(helper.record);
    const sh = exec(t, k.exec(helper.proc, '/sbin/modprobe', ['modprobe', 'x']));
    assert.deepEqual(sh.ancestry, idsOf([kworker, k.kthreadd]));
    assert.equal(sh.complete, true);
  });

  it('bootstrap does not trust /proc when the start time differs (pid reused since the snapshot)', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const victim = k.preexisting(shell, '/usr/bin/old', ['old']);
    const kid = k.preexisting(victim, '/usr/bin/kid', ['kid']);
    k.procfs.tickSkew.set(victim.pid, 7);
    const t = k.table();
    t.bootstrap(k.snapshot());
    const v = t.lookup(victim.pid, victim.startNs)!;
    assert.equal(v.path, '', 'details of another process must not be attached');
    assert.equal(t.stats.procfsFailures.pid_reused, 1);
    // The lineage goes on through it, and says it is not whole.
    const s = exec(t, k.exec(kid, '/bin/true', ['true']));
    assert.deepEqual(s.ancestry, idsOf([victim, shell, k.init]));
    assert.equal(s.complete, false);
    assert.equal(s.reason, 'exited_before_start');
  });

  it('an ancestor that started before the daemon and was gone before the snapshot: exited_before_start', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const p = k.preexisting(shell, '/usr/bin/launcher', ['launcher']);
    // Attached: from here records flow, but the snapshot comes later.
    const pending: Decoded[] = [];
    const c = k.fork(p);
    pending.push(c.record);
    pending.push(k.exit(p));
    const t = k.table();
    t.bootstrap(k.snapshot());
    for (const r of pending) t.apply(r);
    assert.equal(t.stats.skipped.exit_unknown, 1);
    const s = exec(t, k.exec(c.proc, '/usr/bin/job', ['job']));
    assert.deepEqual(s.ancestry, []);
    assert.equal(s.complete, false);
    assert.equal(s.reason, 'exited_before_start');
    assert.deepEqual(s.missing, { pid: p.pid, entityId: entityId(p) });
    assert.equal(s.currentParent, idsOf([k.init])[0]);
  });

  it('a lost fork record: the kernel chain fills in, flagged events_lost; the daemon\'s own children are trusted', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const daemon = k.preexisting(k.init, '/usr/sbin/ancestryd', ['ancestryd']);
    const t = k.table({ selfTgid: daemon.pid });
    t.bootstrap(k.snapshot());
    const c = k.fork(shell).proc; // record lost
    const s = exec(t, k.exec(c, '/bin/ls', ['ls']));
    assert.deepEqual(s.ancestry, idsOf([shell, k.init]));
    assert.equal(s.complete, false);
    assert.equal(s.reason, 'events_lost');
    assert.equal(t.stats.execsWithoutFork, 1);

    // With the fork lost and a reaper as the parent now, the reaper may be an
    // adopter: the lineage stops, unknown, rather than name init as the parent.
    const p = k.fork(shell).proc; // lost
    const orphan = k.fork(p).proc; // lost
    k.exit(p); // lost
    const orphanExec = k.exec(orphan, '/bin/o', ['o']);
    assert.ok(orphanExec.flags & ExecFlags.ET_EXEC_PARENT_REAPER);
    const lo = t.apply(orphanExec) as ExecLineage;
    assert.deepEqual(lo.ancestry, []);
    assert.equal(lo.complete, false);
    assert.equal(lo.incompleteReason, 'events_lost');
    assert.equal(lo.missingAncestor, null, 'no pid to name: the fork-time parent is unknown');
    // A child of init whose fork was lost is treated alike: init may or may not be its real parent.
    const direct = k.fork(k.init).proc; // lost
    assert.deepEqual(exec(t, k.exec(direct, '/bin/d', ['d'])).ancestry, []);

    const child = k.fork(daemon).proc; // filtered in the kernel: the daemon's own fork
    const sd = exec(t, k.exec(child, '/bin/helper', ['helper']));
    assert.deepEqual(sd.ancestry, idsOf([daemon, k.init]));
    assert.equal(sd.complete, true);
  });

  it('ancestors only /proc knows: the kernel chain gives each one\'s parent exactly, read where the record holds it', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const t = k.table();
    t.bootstrap(k.snapshot());
    // Every record of a and b is lost: the table reads them from /proc, which gives a parent by pid alone.
    const a = k.fork(shell).proc;
    const b = k.fork(a).proc;
    const c = k.fork(b).proc;
    const s = exec(t, k.exec(c, '/bin/ls', ['ls']));
    assert.deepEqual(s.ancestry, idsOf([b, a, shell, k.init]), 'each /proc parent matched to the chain by pid');
    assert.equal(s.reason, 'events_lost', 'the forks were lost');
  });

  it('TTL: an exited process expires ttl seconds after exit or last use; expiries are counted', () => {
    const { k, t, shell, fork } = setup({ cacheTtlSeconds: 10 });
    const leaf = fork(shell);
    t.apply(k.exec(leaf, '/bin/true', ['true']));
    t.apply(k.exit(leaf));
    const bytesBefore = t.stats.estimatedBytes;
    k.tick(9e9);
    t.expire(k.nowNs);
    assert.notEqual(t.lookup(leaf.pid, leaf.startNs), null);
    k.tick(2e9);
    t.expire(k.nowNs);
    assert.equal(t.lookup(leaf.pid, leaf.startNs), null);
    assert.equal(t.stats.expired, 1);
    assert.ok(t.stats.estimatedBytes < bytesBefore);

    // A record's time drives expiry too, without a timer.
    const l2 = fork(shell);
    t.apply(k.exit(l2));
    k.tick(11e9);
    fork(shell);
    assert.equal(t.lookup(l2.pid, l2.startNs), null);
  });

  it('LRU pressure: exited entries go first, least recently used first; live ones only over the limit', () => {
    const { k, t, shell, fork } = setup({ cacheSize: 16 });
    const exitedOrder: KProc[] = [];
    for (let i = 0; i < 12; i++) {
      const p = fork(shell);
      t.apply(k.exit(p));
      exitedOrder.push(p);
    }
    const live: KProc[] = [];
    for (let i = 0; i < 10; i++) live.push(fork(shell));
    fork(shell); // one more record triggers the bound check
    const st = t.stats;
    assert.ok(st.size <= 17, `size ${st.size}`);
    assert.equal(st.evictionsLive, 0, 'no live process dropped while exited ones remain');
    assert.ok(st.evictionsExited >= 6);
    // Oldest exited first.
    assert.equal(t.lookup(exitedOrder[0].pid, exitedOrder[0].startNs), null);
    assert.notEqual(t.lookup(exitedOrder[11].pid, exitedOrder[11].startNs), null);
    for (const p of live) assert.notEqual(t.lookup(p.pid, p.startNs), null);
  });

  it('LRU pressure on live processes: evicted to tombstones, re-read from /proc, lineage still exact', () => {
    const { k, t, shell, fork } = setup({ cacheSize: 16 });
    let cur = shell;
    const procs: KProc[] = [];
    for (let i = 0; i < 30; i++) {
      cur = fork(cur);
      procs.push(cur);
    }
    fork(shell);
    assert.ok(t.stats.evictionsLive > 0);
    assert.ok(t.stats.evictedLive > 0);
    const readsBefore = t.stats.procfsReads;
    const s = exec(t, k.exec(cur, '/bin/deep', ['deep']));
    assert.deepEqual(s.ancestry, idsOf(k.lineage(cur)));
    assert.equal(s.complete, true);
    assert.ok(t.stats.procfsReads > readsBefore, 'evicted ancestors were re-read');
    assert.ok(t.stats.misses > 0);
  });

  it('LRU pressure: churn evicts unneeded exits, never pinned ancestors; past that, least recently used goes', () => {
    const { k, t, shell, fork } = setup({ cacheSize: 16 });
    const pairs: [KProc, KProc][] = [];
    const addPair = () => {
      const p = fork(shell);
      const c = fork(p);
      t.apply(k.exit(p));
      pairs.push([p, c]);
    };
    for (let i = 0; i < 5; i++) addPair();
    // Churn of short-lived processes: they go, the pinned ancestors and live processes stay.
    for (let i = 0; i < 40; i++) t.apply(k.exit(fork(shell)));
    let st = t.stats;
    assert.ok(st.evictionsExited > 0, JSON.stringify(st));
    assert.equal(st.evictionsPinned, 0);
    assert.equal(st.evictionsLive, 0);
    assert.equal(st.pinned, 5);
    for (const [p, c] of pairs) {
      const s = exec(t, k.exec(c, '/bin/c', ['c']));
      assert.deepEqual(s.ancestry, idsOf([p, shell, k.init]));
      assert.equal(s.complete, true);
    }

    // More needed processes than the table holds: the least recently used go, pinned or live.
    for (let i = 0; i < 12; i++) addPair();
    st = t.stats;
    assert.ok(st.evictionsPinned > 0, JSON.stringify(st));
    assert.ok(st.evictionsLive > 0);
    assert.ok(st.size <= 17);
    const [p0, c0] = pairs[0];
    const s0 = exec(t, k.exec(c0, '/bin/c0', ['c0']));
    assert.equal(s0.complete, false);
    assert.equal(s0.reason, 'evicted');
    assert.deepEqual(s0.ancestry, []);
    assert.deepEqual(s0.missing, { pid: p0.pid, entityId: entityId(p0) });
    // The most recent pair is whole: its live processes come back from /proc when evicted.
    const [pl, cl] = pairs.at(-1)!;
    const sl = exec(t, k.exec(cl, '/bin/cl', ['cl']));
    assert.deepEqual(sl.ancestry, idsOf([pl, shell, k.init]));
    assert.equal(sl.complete, true);
    assert.ok(t.stats.incomplete.evicted >= 1);
  });

  it('an evicted live parent that dies before it is re-read leaves a gap that says evicted', () => {
    const { k, t, shell, fork } = setup({ cacheSize: 16 });
    const p = fork(shell);
    // Fill the table with younger live processes so p is the least recently used.
    for (let i = 0; i < 20; i++) fork(shell);
    assert.equal(t.lookup(p.pid, p.startNs), null, 'p was evicted');
    const f = k.fork(p);
    k.exit(p); // gone before its child's fork record is applied
    t.apply(f.record);
    const s = exec(t, k.exec(f.proc, '/bin/x', ['x']));
    assert.equal(s.reason, 'evicted');
    assert.deepEqual(s.missing, { pid: p.pid, entityId: entityId(p) });
  });

  it('resync repairs lost exec, exit and fork records', () => {
    const { k, t, shell, fork } = setup();
    const stays = fork(shell);
    t.apply(k.exec(stays, '/bin/a', ['a']));
    const dies = fork(shell);
    // Lost: an exec of `stays`, the exit of `dies`, a new process and its exec.
    k.exec(stays, '/bin/b', ['b']);
    k.exit(dies);
    const fresh = k.fork(shell).proc;
    k.exec(fresh, '/bin/fresh', ['fresh']);
    t.resync(k.snapshot(), 42);
    const st = t.stats;
    assert.equal(st.resyncs, 1);
    assert.equal(st.kernelDrops, 42);
    assert.equal(st.exitsInferred, 1);
    assert.notEqual(t.lookup(dies.pid, dies.startNs)?.exitBootNs, null);
    const sv = t.lookup(stays.pid, stays.startNs)!;
    assert.equal(sv.path, '/bin/b');
    assert.deepEqual(sv.execChain.map((i) => i.path), ['/bin/a']);
    const fv = t.lookup(fresh.pid, fresh.startNs)!;
    assert.equal(fv.path, '/bin/fresh');
    const c = fork(fresh);
    const s = exec(t, k.exec(c, '/bin/c', ['c']));
    assert.deepEqual(s.ancestry, idsOf([fresh, shell, k.init]));
    assert.equal(s.reason, 'events_lost', 'fresh\'s parent came from a snapshot, not its fork record');
  });

  it('resync confirms with /proc before declaring a process gone (iterators that skip pid 1)', () => {
    const { k, t, shell, fork } = setup();
    const p = fork(shell);
    t.resync(k.snapshot().filter((x) => x.tgid !== 1 && x.tgid !== p.pid), 1);
    assert.equal(t.lookup(1, k.init.startNs)?.exitBootNs, null);
    assert.equal(t.lookup(p.pid, p.startNs)?.exitBootNs, null);
    assert.equal(t.stats.exitsInferred, 0);
  });

  it('fork and exit return their views', () => {
    const { k, t, shell } = setup();
    const f = k.fork(shell);
    const fv = t.apply(f.record) as ForkEventView;
    assert.equal(fv.process.pid, f.proc.pid);
    assert.equal(fv.parent?.entityId, entityId(shell));
    assert.equal(fv.process.path, '/bin/bash', 'a forked child runs its parent\'s image until it execs');
    const xv = t.apply(k.exit(f.proc, 3)) as ExitEventView;
    assert.equal(xv.process.entityId, entityId(f.proc));
    assert.equal(xv.process.exitCode, 3);
    assert.notEqual(xv.process.exitBootNs, null);
  });

  it('entry leaders: kinds from the snapshot (children before parents) and from exec records; a lineage finds its nearest', () => {
    const { k, sshd, login, PTS1 } = sshLogin();
    const t = k.table();
    // The iterator's order is not the tree's: the login comes before its sshd here.
    t.bootstrap(k.snapshot().reverse());
    assert.equal(t.lookup(sshd.pid, sshd.startNs)!.entryKind, ENTRY_INIT, 'a session leader init started');
    assert.equal(t.lookup(login.pid, login.startNs)!.entryKind, ENTRY_SSHD, 'its session child, from /proc');

    // A command in that login: no kind of its own, the login is its entry leader.
    const cmd = k.fork(login);
    const fv = t.apply(cmd.record) as ForkEventView;
    assert.equal(fv.process.entryKind, ENTRY_NONE, 'a forked child leads nothing until it says so');
    const vim = t.apply(k.exec(cmd.proc, '/usr/bin/vim', ['vim'])) as ExecLineage;
    assert.equal(vim.process.entryKind, ENTRY_NONE);
    assert.equal(vim.ancestry[entryLeaderIndex(vim.process, vim.ancestry)].pid, login.pid);

    // A new login after the daemon started: from the exec record.
    const child = k.fork(sshd);
    t.apply(child.record);
    k.setsid(child.proc, PTS1);
    const bash = t.apply(k.exec(child.proc, '/bin/bash', ['-bash'])) as ExecLineage;
    assert.equal(bash.process.entryKind, ENTRY_SSHD);
    assert.equal(entryLeaderIndex(bash.process, bash.ancestry), -1, 'its own entry leader');

    // A container's first process under the shim; the shim itself leads nothing.
    const shimFork = k.fork(k.init);
    t.apply(shimFork.record);
    const shim = t.apply(k.exec(shimFork.proc, '/usr/bin/containerd-shim-runc-v2', ['containerd-shim-runc-v2'])) as ExecLineage;
    assert.equal(shim.process.entryKind, ENTRY_NONE);
    const first = k.fork(shimFork.proc);
    t.apply(first.record);
    k.setsid(first.proc);
    const nginx = t.apply(k.exec(first.proc, '/usr/sbin/nginx', ['nginx'])) as ExecLineage;
    assert.equal(nginx.process.entryKind, ENTRY_CONTAINER);

    // It execs again without leading its session any more (setsid is not undone, but say a record says so).
    first.proc.sid = k.init.pid;
    const again = t.apply(k.exec(first.proc, '/bin/sh', ['sh'])) as ExecLineage;
    assert.equal(again.process.entryKind, ENTRY_NONE, 'the kind is the last exec\'s');
  });

  it('interactive: from /proc for a session older than the daemon, from exec records, a forked child inherits it', () => {
    const { k, sshd, login } = sshLogin();
    const t = k.table();
    t.bootstrap(k.snapshot());
    assert.equal(t.lookup(sshd.pid, sshd.startNs)!.interactive, false, 'no terminal');
    assert.equal(t.lookup(login.pid, login.startNs)!.interactive, true, 'stdin and stderr on its pty, from /proc');

    const cmd = k.fork(login);
    assert.equal((t.apply(cmd.record) as ForkEventView).process.interactive, true, 'a forked child has its creator\'s descriptors');
    const vim = t.apply(k.exec(cmd.proc, '/usr/bin/vim', ['vim'])) as ExecLineage;
    assert.equal(vim.process.interactive, true);
    assert.equal(vim.ancestry[0].interactive, true, 'the parent too');

    // `cmd < file 2>log`: same terminal, stdio elsewhere.
    const redirected = k.fork(login);
    t.apply(redirected.record);
    k.redirect(redirected.proc);
    const sortLine = t.apply(k.exec(redirected.proc, '/usr/bin/sort', ['sort'])) as ExecLineage;
    assert.equal(sortLine.process.interactive, false);

    // A record from a program that did not look leaves it unknown, whatever the entry held.
    const old = k.exec(cmd.proc, '/usr/bin/less', ['less']);
    if (old.kind !== 'exec') assert.fail('an exec record');
    const less = t.apply({ ...old, flags: old.flags & ~(ExecFlags.ET_EXEC_TTY_CHECKED | ExecFlags.ET_EXEC_INTERACTIVE) }) as ExecLineage;
    assert.equal(less.process.interactive, null);
  });

  it('an sshd session older than the daemon whose connection could not all be read counts as a partial read, once per read', () => {
    const session = (partialLeader: boolean) => {
      const k = new SyntheticKernel();
      const sshd = k.preexisting(k.init, '/usr/sbin/sshd', ['sshd: alice@pts/0']);
      sshd.tcpPeer = { ip: '198.51.100.23', port: 52022, netNs: HOST_NET_NS };
      const old = k.preexisting(sshd, '/bin/bash', ['-bash']);
      k.setsid(old);
      k.procfs.partialPeer.add(sshd.pid);
      if (partialLeader) k.procfs.partial.add(old.pid);
      const t = k.table();
      t.bootstrap(k.snapshot());
      // What was read still stands.
      assert.equal(t.lookup(old.pid, old.startNs)!.sourceIp, '198.51.100.23');
      return t.stats.procfsPartialReads;
    };
    assert.equal(session(false), 1, 'the connection alone');
    assert.equal(session(true), 1, 'the session leader\'s read already counted');
  });

  it('sourceIp: an sshd session\'s client, from the exec record or, for a session older than the daemon, /proc; no other kind has one', () => {
    const k = new SyntheticKernel();
    const sshd = k.preexisting(k.init, '/usr/sbin/sshd', ['sshd: alice@pts/0']);
    sshd.tcpPeer = { ip: '198.51.100.23', port: 52022, netNs: HOST_NET_NS };
    const old = k.preexisting(sshd, '/bin/bash', ['-bash']);
    k.setsid(old);
    const t = k.table();
    t.bootstrap(k.snapshot());
    assert.equal(t.lookup(old.pid, old.startNs)!.sourceIp, '198.51.100.23', 'from /proc, for the session leader');
    assert.equal(t.lookup(sshd.pid, sshd.startNs)!.sourceIp, null, 'sshd itself enters nothing');

    // A new login: the kernel reads the connection sshd holds when the session leader execs.
    sshd.tcpPeer = { ip: '2001:db8::7', port: 40000, netNs: HOST_NET_NS };
    const login = k.fork(sshd);
    t.apply(login.record);
    k.setsid(login.proc);
    const bash = t.apply(k.exec(login.proc, '/bin/bash', ['-bash'])) as ExecLineage;
    assert.equal(bash.process.sourceIp, '2001:db8::7');
    // Its commands: none of their own; the entry leader has it.
    const ls = k.fork(login.proc);
    t.apply(ls.record);
    const lsLine = t.apply(k.exec(ls.proc, '/bin/ls', ['ls'])) as ExecLineage;
    assert.equal(lsLine.process.sourceIp, null);
    assert.equal(lsLine.ancestry[entryLeaderIndex(lsLine.process, lsLine.ancestry)].sourceIp, '2001:db8::7');

    // A session under a parent that holds a connection but is no sshd: not where the session came from.
    const web = k.preexisting(k.init, '/usr/sbin/httpd', ['httpd']);
    web.tcpPeer = { ip: '203.0.113.9', port: 443, netNs: HOST_NET_NS };
    const cgi = k.fork(web);
    t.apply(cgi.record);
    k.setsid(cgi.proc);
    assert.equal((t.apply(k.exec(cgi.proc, '/usr/lib/cgi-bin/x', ['x'])) as ExecLineage).process.sourceIp, null);
  });

  it('an sshd anyone could make enters nothing: a copy outside the system directories, one in another mount namespace; nor is an address of another network namespace taken', () => {
    const k = new SyntheticKernel();
    const t = k.table();
    t.bootstrap(k.snapshot());
    const session = (path: string, peerNetNs: number, mntNs = HOST_MNT_NS) => {
      const fork = k.fork(k.init);
      t.apply(fork.record);
      fork.proc.mntNs = mntNs;
      t.apply(k.exec(fork.proc, path, ['sshd']));
      fork.proc.tcpPeer = { ip: '203.0.113.5', port: 22, netNs: peerNetNs };
      const child = k.fork(fork.proc);
      t.apply(child.record);
      k.setsid(child.proc);
      const line = t.apply(k.exec(child.proc, '/bin/bash', ['-bash'])) as ExecLineage;
      return [ENTRY_TYPE_NAMES[line.process.entryKind], line.process.sourceIp];
    };
    assert.deepEqual(session('/usr/sbin/sshd', HOST_NET_NS), ['sshd', '203.0.113.5'], 'the system\'s sshd');
    assert.deepEqual(session('/usr/lib/openssh/sshd-session', HOST_NET_NS), ['sshd', '203.0.113.5']);
    assert.deepEqual(session('/home/mallory/sshd', HOST_NET_NS), ['unknown', null], 'a user\'s copy');
    assert.deepEqual(session('/usr/sbin/../../home/mallory/sshd', HOST_NET_NS), ['unknown', null]);
    assert.deepEqual(session('/usr/sbin/sshd', HOST_NET_NS, 4026532999), ['unknown', null], 'bind-mounted over /usr/sbin/sshd in a mount namespace of its own, or a container\'s');
    assert.deepEqual(session('/usr/sbin/sshd', 4026532998), ['sshd', null], 'a connection in a network namespace of its own');
    // The same for the other kinds read from the parent's name.
    const fork = k.fork(k.init);
    t.apply(fork.record);
    t.apply(k.exec(fork.proc, '/tmp/containerd-shim-runc-v2', ['containerd-shim-runc-v2']));
    const child = k.fork(fork.proc);
    t.apply(child.record);
    k.setsid(child.proc);
    assert.equal((t.apply(k.exec(child.proc, '/bin/sh', ['sh'])) as ExecLineage).process.entryKind, ENTRY_UNKNOWN, 'a shim copy in /tmp');
  });

  it('a fork record for a process the snapshot already holds sets the fork-time parent', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const p = k.preexisting(shell, '/usr/bin/p', ['p']);
    const c = k.fork(p);
    const exitP = k.exit(p); // c now belongs to init
    const t = k.table();
    // Snapshot taken after the fork, before p exited in the stream's order? No: p is gone; c shows init.
    t.bootstrap(k.snapshot());
    assert.equal(t.lookup(c.proc.pid, c.proc.startNs)?.ppid, 1);
    t.apply(c.record);
    t.apply(exitP);
    const v = t.lookup(c.proc.pid, c.proc.startNs)!;
    assert.equal(v.ppid, p.pid, 'the fork record names the original parent');
    assert.equal(v.currentPpid, 1);
  });
});

describe('ProcessTable robustness', () => {
  it('counts and skips bad input without throwing', () => {
    const { k, t, shell } = setup();
    assert.equal(t.apply({ kind: 'invalid', reason: 'short_record', rawKind: 9 }), null);
    assert.equal(t.apply(k.snapshot()[0]), null);
    assert.equal(t.apply({ kind: 'bogus', ktimeNs: 1 } as unknown as Decoded), null);
    const ghost = k.fork(shell).proc;
    assert.equal(t.apply(k.exit(ghost)), null);
    const st = t.stats.skipped;
    assert.equal(st.invalid_record, 1);
    assert.equal(st.task_in_stream, 1);
    assert.equal(st.unknown_kind, 1);
    assert.equal(st.exit_unknown, 1);
  });

  it('a /proc read with a field unreadable is kept and counted; one of a reused pid is neither', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const half = k.preexisting(shell, '/usr/bin/half', ['half']);
    const reused = k.preexisting(shell, '/usr/bin/old', ['old']);
    k.procfs.partial.add(half.pid);
    k.procfs.partial.add(reused.pid);
    k.procfs.tickSkew.set(reused.pid, 7);
    const t = k.table();
    t.bootstrap(k.snapshot());
    const h = t.lookup(half.pid, half.startNs)!;
    assert.equal(h.path, '/usr/bin/half');
    assert.equal(h.cwd, null);
    assert.equal(t.stats.procfsPartialReads, 1);
    assert.equal(t.stats.procfsFailures.pid_reused, 1);
  });

  it('/proc failures (ENOENT, EACCES) on a missing ancestor end the walk with a reason, never a throw', () => {
    const { k, t, shell, fork } = setup({ cacheSize: 16 });
    let cur = shell;
    for (let i = 0; i < 20; i++) cur = fork(cur);
    fork(shell);
    for (const p of k.live.values()) k.procfs.failures.set(p.pid, 'denied');
    const s = exec(t, k.exec(cur, '/bin/x', ['x']));
    assert.equal(s.complete, false);
    assert.equal(s.reason, 'evicted');
    assert.ok(t.stats.procfsFailures.denied > 0);
  });

  it('a reader that throws is contained: counted as internal_error', () => {
    const k = new SyntheticKernel();
    k.preexisting(k.init, '/bin/bash', ['-bash']);
    const t = new ProcessTable({
      clock: k.clock, cacheSize: 100, cacheTtlSeconds: 60, maxDepth: 8,
      procfs: { read() { throw new Error('boom'); }, readStartTicks() { throw new Error('boom'); }, tcpPeer() { throw new Error('boom'); }, hostNamespaces() { throw new Error('boom'); } },
    });
    const c = k.fork(k.init).proc;
    assert.equal(t.apply(k.exec(c, '/bin/x', ['x'])), null);
    assert.equal(t.stats.skipped.internal_error, 1);
    assert.match(String(t.lastError), /boom/);
  });

  it('rejects out-of-range options with the option name and range', () => {
    const k = new SyntheticKernel();
    const bad = (o: object, msg: string) => assert.throws(() => k.table(o), (e: unknown) => {
      assert.ok(isAncestrydError(e, 'ANC_CONFIG_INVALID'));
      assert.equal((e as Error).message, msg);
      return true;
    });
    bad({ maxDepth: 200 }, 'process_ancestry_max_depth=200 is out of range [1, 64]');
    bad({ cacheSize: 3 }, 'process_ancestry_cache_size=3 is out of range [16, 10000000]');
    bad({ cacheTtlSeconds: -1 }, 'process_ancestry_cache_ttl=-1 is out of range [0, 86400]');
  });

  it('estimates bytes held and reports sizes by state', () => {
    const { k, t, shell, fork } = setup();
    const before = t.stats.estimatedBytes;
    const p = fork(shell);
    t.apply(k.exec(p, '/usr/bin/python3', ['python3', '-m', 'http.server', '8080']));
    const st = t.stats;
    assert.ok(st.estimatedBytes > before);
    assert.equal(st.size, st.live + st.exited + st.pinned);
    assert.equal(st.live, 4);
  });
});

describe('a backlog older than the snapshot (a pinned ring taken over)', () => {
  it('applies the records of the gap after the snapshot: lineage through a parent that forked, exec\'d and exited in it, and a zombie\'s image from its exec record', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const since = k.tick();
    // While no daemon ran: a forks, execs make, forks b and exits; b (orphaned) execs and exits unreaped.
    const a = k.fork(shell);
    const backlog: KernelRecord[] = [a.record, k.exec(a.proc, '/usr/bin/make', ['make'])];
    const b = k.fork(a.proc);
    backlog.push(b.record, k.exit(a.proc));
    const bExec = k.exec(b.proc, '/bin/true', ['/bin/true', 'gap-tag']);
    backlog.push(bExec);
    k.procfs.zombies.add(b.proc.pid);

    const t = k.table();
    t.bootstrap(k.snapshot(), since);
    let seen: Seen | null = null;
    for (const r of backlog) {
      if (r === bExec) seen = exec(t, r);
      else t.apply(r);
    }
    assert.ok(seen !== null);
    assert.deepEqual(seen.ancestry, idsOf([a.proc, shell, k.init]), 'the fork-time parent, exited in the gap');
    assert.equal(seen.complete, true);
    assert.equal(seen.path, '/bin/true', 'the exec record\'s image, not the zombie\'s empty /proc read');
    assert.deepEqual(t.lookup(b.proc.pid, b.proc.startNs)?.argv, ['/bin/true', 'gap-tag']);
  });

  it('an orphan whose fork a daemon before this one applied is not linked to the reaper that adopted it', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    // Applied by the killed daemon (its table is gone): a forks, a forks c, a exits and init adopts c.
    const a = k.fork(shell).proc;
    const c = k.fork(a).proc;
    k.exit(a);
    const since = k.tick();
    // The backlog: c execs and exits before the new daemon's snapshot.
    const cExec = k.exec(c, '/bin/true', ['/bin/true']);
    const cExit = k.exit(c);
    const t = k.table();
    t.bootstrap(k.snapshot(), since);
    const s = exec(t, cExec);
    t.apply(cExit);
    assert.deepEqual(s.ancestry, [], 'init adopted it: not its fork-time parent');
    assert.equal(s.complete, false);
    assert.equal(s.reason, 'exited_before_start');
  });
});
