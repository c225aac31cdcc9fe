/**
 * The kernel event source against the real kernel: the records of processes
 * this test starts, field by field.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecRecord, ExitRecord, ForkRecord, KernelRecord } from '../../src/collector/decode';
import { ExecFlags, Limits } from '../../src/collector/layout';
import { CollectorHarness, run } from '../support/collector-harness';
import { fexitRefusal } from '../../src/collector/load';
import { BPF_OBJECT, requireBuilt, ROOT } from '../support/paths';
import { NS_PER_TICK, procState } from '../support/proc-stat';
import { argvList } from '../../src/collector/byte-text';

const SHAPES = join(ROOT, 'build', 'exec-shapes');

const execsOf = (rs: KernelRecord[], tgid: number) =>
  rs.filter((r): r is ExecRecord => r.kind === 'exec' && r.tgid === tgid);
const exitOf = (rs: KernelRecord[], tgid: number) =>
  rs.find((r): r is ExitRecord => r.kind === 'exit' && r.tgid === tgid);
const forkOf = (rs: KernelRecord[], child: number) =>
  rs.find((r): r is ForkRecord => r.kind === 'fork' && r.childTgid === child);

/** start_boottime in clock ticks, as /proc/PID/stat shows it. */
const statStartTicks = (pid: number): bigint => BigInt(procState(pid)!.startTicks);

describe('collector on the real kernel', () => {
  let h: CollectorHarness;
  before(() => {
    requireBuilt(SHAPES);
    h = new CollectorHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('reports fork, exec and exit of a shell and its children with pids, argv and exit code', async () => {
    const sh = await run('/bin/bash', ['-c', 'sleep 0.2; /bin/true a "b c"; exit 3']);
    assert.equal(sh.code, 3);
    const shFork = await h.waitFor('fork of bash', (rs) => forkOf(rs, sh.pid));
    assert.equal(shFork.parentTgid, process.pid);
    assert.equal(shFork.creatorTgid, process.pid);

    const shExit = await h.waitFor('exit of bash', (rs) => exitOf(rs, sh.pid));
    assert.equal(shExit.exitCode, 3);
    assert.equal(shExit.signal, 0);
    assert.equal(shExit.startNs, shFork.childStartNs, 'exit and fork name the same process');

    const [shExec] = execsOf(h.records, sh.pid);
    assert.equal(shExec.filename, '/bin/bash');
    assert.deepEqual(argvList(shExec.argvText), ['/bin/bash', '-c', 'sleep 0.2; /bin/true a "b c"; exit 3']);
    assert.equal(shExec.ppid, process.pid);
    assert.equal(shExec.startNs, shFork.childStartNs);
    assert.equal(shExec.parentStartNs, statStartTicks(process.pid) * NS_PER_TICK + (shExec.parentStartNs % NS_PER_TICK),
      'parent start time agrees with /proc/self/stat to the tick');
    assert.equal(shExec.chain.tgid(0), process.pid);

    // Both children of the shell: forked by it, exec'd, exited 0.
    const kids = h.records.filter((r): r is ForkRecord => r.kind === 'fork' && r.parentTgid === sh.pid);
    assert.equal(kids.length, 2, 'bash forks sleep and true');
    const kidExecs = kids.map((k) => execsOf(h.records, k.childTgid)[0]);
    assert.deepEqual(kidExecs.map((e) => argvList(e.argvText)), [['sleep', '0.2'], ['/bin/true', 'a', 'b c']]);
    assert.deepEqual(kidExecs.map((e) => e.filename), ['/usr/bin/sleep', '/bin/true']);
    for (const [i, e] of kidExecs.entries()) {
      assert.equal(e.ppid, sh.pid);
      assert.equal(e.startNs, kids[i].childStartNs);
      assert.deepEqual(e.chain.refs().slice(0, 2), [
        { tgid: sh.pid, startNs: shFork.childStartNs },
        { tgid: process.pid, startNs: shExec.parentStartNs },
      ]);
      assert.equal(exitOf(h.records, e.tgid)?.exitCode, 0);
    }
    assert.deepEqual(h.invalid, []);
  });

  it('reports a failed exec with its errno, filename and argv', async () => {
    const sh = await run('/bin/bash', ['-c', '/nonexistent x "y z"; exit 0']);
    const failed = await h.waitFor('failed exec', (rs) => rs.find((r): r is ExecRecord =>
      r.kind === 'exec_failed' && r.filename === '/nonexistent'));
    assert.equal(failed.ret, -2, 'ENOENT');
    assert.deepEqual(argvList(failed.argvText), ['/nonexistent', 'x', 'y z']);
    const kid = forkOf(h.records, failed.tgid);
    assert.equal(kid?.parentTgid, sh.pid, 'bash forked the child that failed to exec');
    assert.equal(failed.startNs, kid?.childStartNs);
    assert.equal(failed.chain.tgid(0), sh.pid);
  });

  it('reports failed execs through fexit where this kernel loads it, else the syscall tracepoints, and says which and why', async () => {
    const refused = fexitRefusal(requireBuilt(BPF_OBJECT));
    const want = refused === null ? 'fexit' : 'tracepoint';
    assert.deepEqual(h.collector.failedExecCapture, { hook: want, fexitRefusal: refused });
    assert.ok(h.collector.attachedPrograms.includes(want === 'fexit' ? 'et_execve_fexit' : 'et_execve_exit'));
    assert.ok(!h.collector.attachedPrograms.includes(want === 'fexit' ? 'et_execve_exit' : 'et_execve_fexit'), 'never both');
    // Told to use fexit without the probe: where the kernel refuses it, the load falls back and says why.
    const forced = new CollectorHarness({ failedExecHook: 'fexit' });
    try {
      assert.equal(forced.collector.failedExecCapture.hook, want);
      if (refused !== null) assert.match(forced.collector.failedExecCapture.fexitRefusal ?? '', /loading .* failed/);
      await run('/bin/sh', ['-c', '/nonexistent-forced-hook 2>/dev/null; exit 0']);
      await forced.waitFor('the failed exec, either way', (rs) => rs.find((r) => r.kind === 'exec_failed' && r.filename === '/nonexistent-forced-hook'));
    } finally {
      await forced.close();
    }
    const off = new CollectorHarness({ execFailed: false });
    try {
      assert.deepEqual(off.collector.failedExecCapture, { hook: null, fexitRefusal: null });
      assert.deepEqual([...off.collector.attachedPrograms].sort(), ['et_exec', 'et_exit', 'et_fork']);
    } finally {
      await off.close();
    }
  });

  it('names the thread group, not the thread, when a non-leader thread execs', async () => {
    const p = await run(SHAPES, ['thread-exec', '/bin/echo', 'from-thread']);
    const m = /step=thread pid=(\d+) tid=(\d+)/.exec(p.stdout);
    assert.ok(m, p.stdout);
    const [pid, tid] = [Number(m[1]), Number(m[2])];
    assert.notEqual(pid, tid);
    assert.equal(p.pid, pid);
    const execs = await h.waitFor('exec from thread', (rs) => {
      const e = execsOf(rs, pid);
      return e.length === 2 ? e : undefined;
    });
    const fromThread = execs[1];
    assert.equal(fromThread.tgid, pid);
    assert.equal(fromThread.tid, tid);
    assert.ok(fromThread.flags & ExecFlags.ET_EXEC_FROM_THREAD);
    assert.deepEqual(argvList(fromThread.argvText), ['/bin/echo', 'from-thread']);
    assert.equal(fromThread.startNs, execs[0].startNs, 'the process keeps its identity across the exec');
    assert.equal(h.records.filter((r) => r.kind === 'fork' && r.childTgid === tid).length, 0, 'a thread is not a process');
    const exit = await h.waitFor('exit', (rs) => exitOf(rs, pid));
    assert.equal(exit.startNs, execs[0].startNs);
  });

  it('keeps a process that exits right after its exec', async () => {
    const p = await run(SHAPES, ['exit-now']);
    assert.equal(p.code, 7);
    const exit = await h.waitFor('exit', (rs) => exitOf(rs, p.pid));
    const [exec] = execsOf(h.records, p.pid);
    assert.ok(exec, 'exec record present');
    assert.equal(exit.exitCode, 7);
    assert.ok(exec.ktimeNs < exit.ktimeNs);
    const fork = forkOf(h.records, p.pid);
    assert.ok(fork && fork.ktimeNs < exec.ktimeNs, 'fork, exec, exit arrive in order');
    process.stdout.write(`# exec→exit took ${((exit.ktimeNs - exec.ktimeNs) / 1e3).toFixed(0)} µs\n`);
  });

  it('carries the kernel ancestor chain of a 5-deep tree up to pid 1', async () => {
    const p = await run(SHAPES, ['tree', '5', '/bin/true', 'leaf']);
    assert.equal(p.code, 0);
    const levels = [...p.stdout.matchAll(/step=level level=(\d+) pid=(\d+) ppid=(\d+)/g)].map((m) => Number(m[2]));
    assert.equal(levels.length, 5);
    const leaf = await h.waitFor('leaf exec', (rs) => rs.find((r): r is ExecRecord =>
      r.kind === 'exec' && r.tgid === levels[4] && argvList(r.argvText)[1] === 'leaf'));
    const expected = [...levels.slice(0, 4).reverse(), process.pid];
    assert.deepEqual(leaf.chain.refs().slice(0, 5).map((a) => a.tgid), expected);
    for (const a of leaf.chain.refs().slice(0, 4)) {
      assert.equal(a.startNs, forkOf(h.records, a.tgid)?.childStartNs, `start time of ${a.tgid}`);
    }
    assert.equal(leaf.chain.refs().at(-1)?.tgid, 1, 'the chain ends at init');
    assert.equal(leaf.flags & ExecFlags.ET_EXEC_CHAIN_TRUNCATED, 0);
  });

  it('flags a chain cut at the configured depth', async () => {
    const shallow = new CollectorHarness({ chainDepth: 2 });
    try {
      const p = await run(SHAPES, ['tree', '4', '/bin/true', 'deep']);
      const levels = [...p.stdout.matchAll(/step=level level=\d+ pid=(\d+)/g)].map((m) => Number(m[1]));
      const leaf = await shallow.waitFor('leaf exec', (rs) => rs.find((r): r is ExecRecord =>
        r.kind === 'exec' && argvList(r.argvText)[1] === 'deep'));
      assert.deepEqual(leaf.chain.refs().map((a) => a.tgid), [levels[2], levels[1]]);
      assert.ok(leaf.flags & ExecFlags.ET_EXEC_CHAIN_TRUNCATED);
    } finally {
      await shallow.close();
    }
  });

  it('walks 64 ancestors with chainDepth 64: complete at exactly 64, cut one deeper (issue 9)', async () => {
    // This process's own line up to init: the leaf's chain ends with it.
    let own = 0;
    for (let pid = process.pid; pid !== 0; own++) pid = procState(pid)!.ppid;
    const deep = new CollectorHarness({ chainDepth: 64 });
    try {
      for (const [extra, tag] of [[0, 'exact64'], [1, 'over64']] as const) {
        const depth = 65 - own + extra;
        const p = await run(SHAPES, ['tree', String(depth), '/bin/true', tag]);
        assert.equal(p.code, 0);
        const leaf = await deep.waitFor(`${tag} leaf exec`, (rs) => rs.find((r): r is ExecRecord =>
          r.kind === 'exec' && argvList(r.argvText)[1] === tag));
        assert.equal(leaf.chain.length, 64, tag);
        if (extra === 0) {
          assert.equal(leaf.chain.refs().at(-1)?.tgid, 1, 'the 64th ancestor is init');
          assert.equal(leaf.flags & ExecFlags.ET_EXEC_CHAIN_TRUNCATED, 0);
        } else {
          assert.notEqual(leaf.chain.refs().at(-1)?.tgid, 1);
          assert.ok(leaf.flags & ExecFlags.ET_EXEC_CHAIN_TRUNCATED);
        }
      }
    } finally {
      await deep.close();
    }
  });

  it('drains by itself at both ends of bpf_drain_timeout_ms: the 1 ms timer, and at 10 s the kernel wakeup', async () => {
    for (const [waitTimeoutMs, wakeupBytes, trigger] of [[1, Limits.ET_WAKEUP_BYTES_DEFAULT, 'timeouts'], [10_000, 0, 'wakeups']] as const) {
      const own = new CollectorHarness({ waitTimeoutMs, wakeupBytes });
      try {
        const tag = `drain-${waitTimeoutMs}`;
        await run('/bin/true', [tag]);
        // No drainNow() here: only the collector's own triggers may deliver the record.
        let found = false;
        for (let i = 0; i < 300 && !found; i++) {
          await new Promise((r) => setTimeout(r, 10));
          found = own.records.some((r) => r.kind === 'exec' && argvList(r.argvText)[1] === tag);
        }
        assert.ok(found, `exec delivered within 3 s with waitTimeoutMs=${waitTimeoutMs}`);
        assert.ok(own.collector.drainStats[trigger] > 0, `drained by ${trigger}: ${JSON.stringify(own.collector.drainStats)}`);
      } finally {
        await own.close();
      }
    }
  });

  it('stops its timer once the ring is quiet, and the next record wakes it through the kernel at once', async () => {
    // 200 ms timer: the first quiet tick puts the drain to sleep; default wakeup_bytes: only the sleeping flag can wake it.
    const own = new CollectorHarness({ waitTimeoutMs: 200 });
    try {
      const stats = own.collector.drainStats;
      for (let i = 0; i < 500 && stats.sleeps === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(stats.sleeps > 0, `the drain went to sleep within 5 s: ${JSON.stringify(stats)}`);
      const timeouts = stats.timeouts;
      const wakeups = stats.wakeups;
      const tag = 'drain-asleep';
      const started = Date.now();
      await run('/bin/true', [tag]);
      let found = false;
      while (!found && Date.now() - started < 3000) {
        await new Promise((r) => setTimeout(r, 5));
        found = own.records.some((r) => r.kind === 'exec' && argvList(r.argvText)[1] === tag);
      }
      const ms = Date.now() - started;
      assert.ok(found, 'exec delivered within 3 s while the drain slept');
      assert.ok(stats.wakeups > wakeups, `woken by the kernel: ${JSON.stringify(stats)}`);
      assert.equal(stats.missedWakeups, 0, 'no record waited for the fallback poll');
      assert.equal(stats.timeouts, timeouts, 'no timer tick delivered it');
      assert.ok(ms < 200, `delivered in ${ms} ms, before the 200 ms timer could have`);
    } finally {
      await own.close();
    }
  });

  it('cuts argv at the configured size and says so, for execs and failed execs', async () => {
    const small = new CollectorHarness({ argvMaxBytes: 64 });
    try {
      const long = 'x'.repeat(100);
      await run('/bin/echo', ['tag-trunc', long]);
      await run('/bin/bash', ['-c', `/nonexistent-trunc ${long}; true`]);
      const exec = await small.waitFor('truncated exec', (rs) => rs.find((r): r is ExecRecord =>
        r.kind === 'exec' && argvList(r.argvText)[1] === 'tag-trunc'));
      assert.ok(exec.flags & ExecFlags.ET_EXEC_ARGV_TRUNCATED);
      assert.deepEqual(argvList(exec.argvText), ['/bin/echo', 'tag-trunc', 'x'.repeat(64 - '/bin/echo\0tag-trunc\0'.length)]);
      const failed = await small.waitFor('truncated failed exec', (rs) => rs.find((r): r is ExecRecord =>
        r.kind === 'exec_failed' && r.filename === '/nonexistent-trunc'));
      assert.ok(failed.flags & ExecFlags.ET_EXEC_ARGV_TRUNCATED);
      assert.equal(argvList(failed.argvText)[0], '/nonexistent-trunc');
      assert.equal(argvList(failed.argvText).join('\0').length, 63, 'argv_max_bytes counts the NUL the kernel keeps');
      const untouched = await run('/bin/echo', ['short']);
      const full = await small.waitFor('short exec', (rs) => execsOf(rs, untouched.pid)[0]);
      assert.equal(full.flags & ExecFlags.ET_EXEC_ARGV_TRUNCATED, 0);
    } finally {
      await small.close();
    }
  });

  it('snapshots live processes with the kernel start times', () => {
    const tasks = h.collector.snapshot();
    const self = tasks.find((t) => t.tgid === process.pid);
    assert.ok(self);
    assert.equal(self.startNs / NS_PER_TICK, statStartTicks(process.pid));
    const init = tasks.find((t) => t.tgid === 1);
    assert.ok(init, 'init is in the snapshot');
    assert.equal(init.startNs / NS_PER_TICK, statStartTicks(1));
    assert.ok(tasks.some((t) => t.kthread), 'kernel threads are flagged');
  });

  it('counts what it emitted and dropped nothing at this rate', () => {
    const c = h.collector.counters();
    assert.ok(c.exec.emitted > 0 && c.fork.emitted > 0 && c.exit.emitted > 0 && c.exec_failed.emitted > 0);
    assert.deepEqual([c.exec.dropped, c.fork.dropped, c.exit.dropped, c.exec_failed.dropped], [0, 0, 0, 0]);
  });
});

describe('collector lifecycle', () => {
  it('leaves no descriptor or mapping behind after close(), also when closed twice', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('anon_inode:bpf')).length;
    // Warm up once: libbpf and koffi open a few descriptors for good on first use.
    await new CollectorHarness().close();
    const [fd0, map0] = [fds(), maps()];
    const h = new CollectorHarness();
    assert.ok(fds() > fd0, 'the collector holds descriptors while open');
    assert.equal(maps(), map0 + 3, 'consumer page, data area and the et_consumer flag are mapped while open');
    await run('/bin/true', []);
    await h.close();
    await h.close();
    assert.equal(fds(), fd0, 'descriptors after close');
    assert.equal(maps(), map0, 'ring buffer mappings after close');
  });
});
