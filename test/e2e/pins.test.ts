/**
 * bpf_pin on the real kernel's bpffs: a set outlives its collector, the next
 * one takes it over with what ran meanwhile, a set made otherwise (or
 * broken) is replaced with its ring drained, leftovers of a killed start are
 * cleaned, and unpinning detaches the programs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ExecRecord, KernelRecord } from '../../src/collector/decode';
import { loadNative } from '../../src/collector/libbpf';
import { fexitRefusal } from '../../src/collector/load';
import { unpinAll } from '../../src/collector/pins';
import { isAncestrydError } from '../../src/errors';
import { CollectorHarness } from '../support/collector-harness';
import { BPF_OBJECT } from '../support/paths';
import { argvList } from '../../src/collector/byte-text';

const ROOT = `/sys/fs/bpf/anc-pins-${process.pid}`;
/** The failed-exec programs this kernel runs: fexit where it loads them. */
const FAILED_EXEC = fexitRefusal(BPF_OBJECT) === null ? ['et_execve_fexit', 'et_execveat_fexit'] : ['et_execve_exit', 'et_execveat_exit'];

function execOf(marker: string): (rs: KernelRecord[]) => ExecRecord | undefined {
  return (rs) => rs.find((r): r is ExecRecord => r.kind === 'exec' && argvList(r.argvText).includes(marker));
}

function marker(name: string): string {
  const m = `${name}-${process.pid}-${Date.now()}`;
  assert.equal(spawnSync('/bin/true', [m]).status, 0);
  return m;
}

after(() => rmSync(ROOT, { recursive: true, force: true }));

describe('pinned sets on bpffs (bpf_pin)', () => {
  it('a set stays attached after its collector closes; the next one takes it over and drains what ran meanwhile', async () => {
    const h1 = new CollectorHarness({ pinRoot: ROOT });
    assert.equal(h1.collector.pin.state, 'created');
    const dir = h1.collector.pin.dir!;
    const h1Hook = h1.collector.failedExecCapture.hook;
    for (const f of ['et_ring', 'et_consumer', 'et_counters', 'et_task_iter', 'link_et_exec', 'link_et_fork', 'link_et_exit',
      ...FAILED_EXEC.map((p) => `link_${p}`)]) {
      assert.ok(existsSync(join(dir, f)), `${f} pinned`);
    }
    await h1.close();
    assert.ok(existsSync(join(dir, 'link_et_exec')), 'closing leaves the set pinned');
    const m = marker('while-closed');
    const h2 = new CollectorHarness({ pinRoot: ROOT });
    try {
      assert.equal(h2.collector.pin.state, 'adopted');
      assert.equal(h2.collector.pin.dir, dir);
      assert.ok(h2.collector.pin.backlogBytes > 0);
      assert.deepEqual([...h2.collector.attachedPrograms].sort(), ['et_exec', ...FAILED_EXEC, 'et_exit', 'et_fork'].sort());
      assert.equal(h2.collector.failedExecCapture.hook, h1Hook, 'a pinned set says which hook it runs');
      await h2.waitFor('the exec that ran while no collector did', execOf(m));
      // And the programs still report what runs now.
      await h2.waitFor('an exec after the takeover', execOf(marker('after')));
      // The snapshot works from the pinned iterator.
      assert.ok(h2.collector.snapshot().some((t) => t.tgid === process.pid));
      // A pin removed under a running collector (rm, not unpin): it holds its links, so the program still reports.
      rmSync(join(dir, 'link_et_exit'));
      const child = spawnSync('/bin/true', ['unpinned-under-it']);
      await h2.waitFor('an exit after its link pin was removed', (rs) => rs.find((r) => r.kind === 'exit' && r.tgid === child.pid));
    } finally {
      await h2.close();
    }
  });

  it('a collector made otherwise replaces the set: its own attached first, the old ring drained before it, the old set removed', async () => {
    const old = readdirSync(ROOT);
    assert.equal(old.length, 1);
    const m = marker('before-upgrade');
    const h = new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 });
    try {
      assert.equal(h.collector.pin.state, 'created');
      const replaced = h.collector.pin.replaced;
      assert.equal(replaced.length, 1);
      assert.equal(replaced[0].name, old[0]);
      assert.equal(replaced[0].unreadable, false);
      assert.ok(replaced[0].records > 0);
      assert.ok(execOf(m)(h.records), 'the old ring\'s record is drained at start');
      assert.deepEqual(readdirSync(ROOT), [h.collector.pin.dir!.split('/').pop()], 'only the new set is left');
      await h.waitFor('an exec seen by the new programs', execOf(marker('after-upgrade')));
    } finally {
      await h.close();
    }
  });

  it('a set that lost a link (a blind spot) is replaced by a whole one, and its ring drained', async () => {
    const [name] = readdirSync(ROOT);
    rmSync(join(ROOT, name, 'link_et_fork'));
    const m = marker('broken-set');
    const h = new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 });
    try {
      assert.equal(h.collector.pin.state, 'created');
      assert.equal(h.collector.pin.replaced.length, 1);
      assert.ok(execOf(m)(h.records));
      assert.ok(existsSync(join(h.collector.pin.dir!, 'link_et_fork')));
      assert.deepEqual(readdirSync(ROOT), [name]);
    } finally {
      await h.close();
    }
  });

  it('a ring that fills while no collector runs: the drops are counted per kind in the pinned counters and reported once, as lost while down', async () => {
    const root = `${ROOT}-small`;
    try {
      // 64 KiB: a few hundred execs overflow it.
      const h1 = new CollectorHarness({ pinRoot: root, ringBytes: 64 * 1024, wakeupBytes: 0 });
      await h1.close();
      for (let i = 0; i < 600; i++) spawnSync('/bin/true', [`overflow-${i}`]);
      const h2 = new CollectorHarness({ pinRoot: root, ringBytes: 64 * 1024, wakeupBytes: 0 });
      try {
        const lost = h2.collector.pin.droppedWhileDown;
        assert.equal(h2.collector.pin.state, 'adopted');
        assert.ok(lost.exec > 0 && lost.fork > 0 && lost.exit > 0, `lost while down, per kind: ${JSON.stringify(lost)}`);
        const c = h2.collector.counters();
        assert.equal(c.exec.dropped, lost.exec, 'the pinned counters survived the restart');
        // The daemon reports them (the pipeline's housekeeping): the next collector counts only later drops.
        h2.collector.dropsAccounted(c);
      } finally {
        await h2.close();
      }
      const h3 = new CollectorHarness({ pinRoot: root, ringBytes: 64 * 1024, wakeupBytes: 0 });
      try {
        assert.deepEqual(h3.collector.pin.droppedWhileDown, { exec: 0, exec_failed: 0, fork: 0, exit: 0 });
      } finally {
        await h3.close();
      }
    } finally {
      unpinAll(loadNative(), root);
    }
  });

  it('a second collector on the same pin root is refused while the first runs, whatever its pidfile', async () => {
    const h = new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 });
    try {
      assert.throws(() => new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 }),
        (e: unknown) => isAncestrydError(e) && e.code === 'ANC_ALREADY_RUNNING' && /another ancestryd uses bpf_pin_path/.test(e.message));
      assert.throws(() => unpinAll(loadNative(), ROOT), (e: unknown) => isAncestrydError(e) && e.code === 'ANC_ALREADY_RUNNING');
    } finally {
      await h.close();
    }
  });

  it('a set an interrupted upgrade left attached beside this build\'s is drained and removed when this build\'s is adopted', async () => {
    const root = `${ROOT}-left`;
    const other = `${ROOT}-other`;
    try {
      await new CollectorHarness({ pinRoot: root }).close();
      const ho = new CollectorHarness({ pinRoot: other, argvMaxBytes: 2048 });
      const left = ho.collector.pin.dir!.split('/').pop()!;
      await ho.close();
      // Both sets attached under one root, as when an upgrade is killed before it unpinned the old one.
      renameSync(join(other, left), join(root, left));
      const m = marker('two-sets');
      const h = new CollectorHarness({ pinRoot: root });
      try {
        assert.equal(h.collector.pin.state, 'adopted');
        assert.deepEqual(h.collector.pin.replaced.map((r) => r.name), [left]);
        assert.ok(h.collector.pin.replaced[0].records > 0);
        assert.ok(!existsSync(join(root, left)), 'the left-over set is removed');
        await h.waitFor('the exec both sets saw', execOf(m));
      } finally {
        await h.close();
      }
    } finally {
      for (const r of [root, other]) if (existsSync(r)) unpinAll(loadNative(), r);
    }
  });

  it('a staging directory left by a start that was killed is removed', async () => {
    mkdirSync(join(ROOT, 'staging_999999'));
    const h = new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 });
    try {
      assert.equal(h.collector.pin.state, 'adopted');
      assert.ok(!existsSync(join(ROOT, 'staging_999999')));
    } finally {
      await h.close();
    }
  });

  it('a pin root off bpffs is refused with the fix', () => {
    assert.throws(() => new CollectorHarness({ pinRoot: '/tmp/anc-not-bpffs' }),
      (e: unknown) => isAncestrydError(e) && e.code === 'ANC_BPF_PIN' && /not on a bpffs mount/.test(e.message));
  });

  it('unpinning removes every set and the root, and the programs detach', async () => {
    const h = new CollectorHarness({ pinRoot: ROOT, argvMaxBytes: 2048 });
    assert.equal(h.collector.pin.state, 'adopted');
    const link = join(h.collector.pin.dir!, 'link_et_exec');
    await h.close();
    const shown = spawnSync('bpftool', ['-j', 'link', 'show', 'pinned', link], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    const id = (JSON.parse(shown.stdout) as { id: number }).id;
    const removed = unpinAll(loadNative(), ROOT);
    assert.equal(removed.length, 1);
    assert.ok(!existsSync(ROOT));
    // The link is released with its last reference, the pin (released asynchronously by the kernel).
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = spawnSync('bpftool', ['link', 'show', 'id', String(id)]).status !== 0;
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, `link ${id} (et_exec) is detached`);
    // With nothing pinned, a new unpinned collector sees no set and leaves none.
    const plain = new CollectorHarness({});
    try {
      assert.equal(plain.collector.pin.state, 'off');
      await plain.waitFor('an exec', execOf(marker('unpinned')));
    } finally {
      await plain.close();
    }
    assert.ok(!existsSync(ROOT));
  });
});
