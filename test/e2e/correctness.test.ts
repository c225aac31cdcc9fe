/**
 * Issue 3 / issue 6: every exec procgen makes, in every shape, reaches the
 * results log once, with the lineage the process itself saw (ground truth),
 * judged by the checker. A short run per mode against one real daemon with
 * process_ancestry_max_depth=12, so that deep trees also exercise the depth
 * cap (an honest, flagged prefix). The 60 s run at 1k exec/s is `make
 * correctness` (docs/benchmarks.md).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { adminRequest } from '../../src/daemon/admin/admin-client';
import { CheckSession, type SessionResult } from '../support/check/check-session';
import { renderCheck } from '../support/check/check-text';
import { startDaemon, type DaemonHandle } from '../support/daemon-process';
import { requireBuilt, ROOT } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

const PROCGEN = join(ROOT, 'build', 'procgen');
const MAX_DEPTH = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('correctness: procgen ground truth vs the daemon\'s results log', () => {
  let dir: string;
  let daemon: DaemonHandle;
  const prefix = `c${Date.now().toString(36)}`;
  const summaries: Record<string, { execs: number; pid_wraps: number; failures: number; unfinished: number }> = {};
  let result: SessionResult;

  before(async () => {
    requireRootAndBpf();
    requireBuilt(PROCGEN);
    requireBuilt(join(ROOT, 'build', 'exec_trace.bpf.o'));
    dir = mkdtempSync(join(tmpdir(), 'anc-correct-'));
    daemon = await startDaemon(join(dir, 'daemon'), [`--process_ancestry_max_depth=${MAX_DEPTH}`]);
    const truth = join(dir, 'truth.jsonl');
    const session = new CheckSession({
      logDir: daemon.logDir, truthPath: truth, tagPrefix: prefix, maxDepth: MAX_DEPTH, monoMinusBootNs: 0n, follow: true,
    });
    session.start();
    const modes: [string, string[]][] = [
      ['flat', []], ['tree', ['--depth', String(MAX_DEPTH)]], ['churn', []], ['daemonize', []], ['subreaper', []],
      ['thread-exec', []], ['pid-wrap', ['--wrap-forks', '2', '--wrap-every', '0.5']], ['mix', ['--wrap-every', '1']],
    ];
    for (const [mode, extra] of modes) {
      const r = spawnSync(PROCGEN, [mode, '--workers', '2', '--duration', '2', '--rate', '400', '--truth', truth,
        '--tag', `${prefix}-${mode}`, ...extra], { encoding: 'utf8' });
      assert.equal(r.status, 0, `procgen ${mode}: ${r.stderr}${r.stdout}`);
      summaries[mode] = JSON.parse(r.stdout);
    }
    // 200 long-lived processes: exec'd, then killed when the holder is stopped.
    const hold = spawn(PROCGEN, ['hold', '--count', '200', '--workers', '2', '--duration', '120', '--truth', truth, '--tag', `${prefix}-hold`],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: hold.stdout! })[Symbol.asyncIterator]();
    const held = JSON.parse(String((await lines.next()).value)) as { held: number };
    assert.equal(held.held, 200);
    hold.kill('SIGTERM');
    summaries.hold = JSON.parse(String((await lines.next()).value));
    // Wait (bounded) for the last lines to reach the log.
    for (let i = 0; i < 150 && session.pending() > 0; i++) await sleep(100);
    result = session.finish();
  });

  after(async () => {
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses no exec, reports none twice, and gets every lineage right', () => {
    const r = result.check;
    const report = renderCheck(r).join('\n');
    assert.equal(r.lost, 0, report);
    assert.equal(r.wrong, 0, report);
    assert.equal(r.duplicates, 0, report);
    assert.equal(r.unmatched, 0, report);
    assert.equal(result.badLines, 0, result.badLineExamples.join('\n'));
    const generated = Object.values(summaries).reduce((a, s) => a + s.execs, 0);
    assert.equal(r.truth, generated, 'every exec procgen counted has a truth line');
    assert.ok(Object.values(summaries).every((s) => s.failures === 0 && s.unfinished === 0), JSON.stringify(summaries));
  });

  it('is complete for every shape, except honest depth-capped prefixes of deep trees', () => {
    const r = result.check;
    const report = renderCheck(r).join('\n');
    for (const mode of ['flat', 'tree', 'churn', 'daemonize', 'subreaper', 'thread-exec', 'pid-wrap', 'hold']) {
      const m = r.byMode[mode];
      assert.ok(m && m.truth > 0, `mode ${mode} ran`);
      assert.equal(m.correct + m.incomplete, m.truth, `${mode}: ${report}`);
    }
    assert.deepEqual(Object.keys(r.incomplete.byReason), ['depth_cap'], report);
    assert.equal(r.incomplete.needless, 0);
    assert.ok(r.byMode.tree.incomplete > 0, 'trees deeper than the cap were reported incomplete (depth_cap)');
  });

  it('wrapped the pid space while it ran', () => {
    assert.ok(summaries['pid-wrap'].pid_wraps >= 1, JSON.stringify(summaries['pid-wrap']));
  });

  it('dropped nothing in the kernel ring', async () => {
    const s = await adminRequest(daemon.adminSocket, 'stats', {}) as { ring: { lost: Record<string, number> } };
    assert.deepEqual(Object.values(s.ring.lost).filter((v) => v > 0), []);
  });
});
