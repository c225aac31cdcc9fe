/**
 * Issue 9, no blind window: under 1 000 exec/s of procgen's mix, with the
 * checker, the daemon is killed with SIGKILL and started again 5 s later.
 * Its programs stayed pinned and attached, its ring kept the outage, and the
 * new daemon drains it: every exec of the run is reported once with its
 * correct lineage. The same across an upgrade: the new daemon's set differs
 * (other bpf settings, as another build's would), so it attaches its own,
 * detaches the old one, drains the old ring, and skips the events both saw;
 * and into a build of the next wire version (scripts/build-wire-next.sh).
 * The runs are `make kill-restart` (docs/benchmarks.md), shorter.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Limits } from '../../src/collector/layout';
import { requireBuilt, ROOT } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

const SOAK = join(ROOT, 'dist', 'tools', 'soak', 'soak.js');
/** bpf_drain_batch_records' default: a kill replays at most the one pass it interrupted. */
const ONE_PASS = 4096;

interface PinStats {
  state: string;
  dir: string;
  backlog_bytes: number;
  open_ms: number;
  lost_while_down: Record<string, number>;
  replaced: { name: string; wire_version: number; backlog_bytes: number; records: number; unreadable: boolean }[];
  overlap_duplicates: number;
}

interface Summary {
  verdict: { ok: boolean; problems: string[] };
  check: { truth: number; correct: number; lost: number; wrong: number; duplicates: number; incomplete: { total: number } };
  daemon: { finalStats: { ring: { pin: PinStats; lost: Record<string, number> } } };
}

let dir: string;

function run(name: string, extra: string[]): { status: number | null; out: string; summary: Summary } {
  const out = join(dir, name);
  const r = spawnSync(process.execPath, [SOAK, '--duration', '16', '--rate', '1000', '--mode', 'mix', '--query-rate', '0',
    '--kill-daemon', '5,5', '--max-duplicates', String(ONE_PASS), '--out', out, ...extra], { encoding: 'utf8', timeout: 180_000 });
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  return { status: r.status, out: r.stdout + r.stderr, summary };
}

function pinRoots(): string[] {
  return readdirSync('/sys/fs/bpf').filter((n) => n.startsWith('anc-soak-'));
}

before(() => {
  requireRootAndBpf();
  requireBuilt(SOAK);
  requireBuilt(join(ROOT, 'build', 'procgen'));
  dir = mkdtempSync(join(tmpdir(), 'anc-pin-'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 under 1 000 exec/s, started again 5 s later (bpf_pin)', () => {
  it('the new daemon takes the pinned programs over and every exec of the run is reported, lineage correct', (t) => {
    const before = pinRoots();
    const r = run('restart', []);
    assert.equal(r.status, 0, r.out);
    const s = r.summary;
    assert.equal(s.verdict.ok, true, s.verdict.problems.join('; '));
    assert.ok(s.check.truth > 12_000, `${s.check.truth} execs generated`);
    assert.equal(s.check.lost, 0);
    assert.equal(s.check.wrong, 0);
    assert.equal(s.check.correct + s.check.incomplete.total, s.check.truth);
    assert.ok(s.check.duplicates <= ONE_PASS, `${s.check.duplicates} duplicates: at most the one pass the kill interrupted`);
    const pin = s.daemon.finalStats.ring.pin;
    assert.equal(pin.state, 'adopted');
    assert.ok(pin.backlog_bytes > 1_000_000, `the ring held the 5 s outage: ${pin.backlog_bytes} bytes`);
    assert.deepEqual(pin.lost_while_down, { exec: 0, exec_failed: 0, fork: 0, exit: 0 });
    t.diagnostic(`${s.check.truth} execs, ${s.check.duplicates} duplicates; backlog ${pin.backlog_bytes} bytes, adopted in ${pin.open_ms} ms`);
    assert.deepEqual(pinRoots(), before, 'the run removed its pins');
  });

  /** Every exec correct across the kill and the replacement; the old set's ring drained. Returns the new set's figures. */
  function assertReplaced(r: ReturnType<typeof run>): PinStats {
    assert.equal(r.status, 0, r.out);
    const s = r.summary;
    assert.equal(s.verdict.ok, true, s.verdict.problems.join('; '));
    assert.equal(s.check.lost, 0);
    assert.equal(s.check.wrong, 0);
    assert.ok(s.check.duplicates <= ONE_PASS, `${s.check.duplicates} duplicates`);
    const pin = s.daemon.finalStats.ring.pin;
    assert.equal(pin.state, 'created');
    assert.equal(pin.replaced.length, 1, JSON.stringify(pin));
    assert.ok(pin.replaced[0].records > 5_000, `the old ring's backlog was drained: ${JSON.stringify(pin.replaced[0])}`);
    assert.equal(pin.replaced[0].unreadable, false);
    assert.ok(!existsSync(join('/sys/fs/bpf', `anc-soak-${process.pid}`)), 'the run removed its pins');
    return pin;
  }

  it('the same across an upgrade to a set made otherwise: attached before the old one is detached, the old ring drained, the overlap skipped', (t) => {
    const pin = assertReplaced(run('upgrade', ['--restart-arg=--bpf_argv_max_bytes=2048']));
    t.diagnostic(`old ring ${pin.replaced[0].backlog_bytes} bytes, ${pin.replaced[0].records} records; `
      + `${pin.overlap_duplicates} overlap duplicates skipped`);
  });

  it('the same across an upgrade to a build of the next wire version, which reads this one', (t) => {
    const next = join(ROOT, '.cache', 'wire-next');
    const built = spawnSync(join(ROOT, 'scripts', 'build-wire-next.sh'), [next], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stdout + built.stderr);
    const pin = assertReplaced(run('wire-upgrade', [`--restart-build=${next}`]));
    const v = Limits.ET_FORMAT_VERSION;
    assert.match(pin.dir, new RegExp(`/w${v + 1}-[0-9a-f]{16}$`), `the new build pins a set of wire version ${v + 1}`);
    assert.equal(pin.replaced[0].wire_version, v);
    t.diagnostic(`the version-${v} ring: ${pin.replaced[0].backlog_bytes} bytes, ${pin.replaced[0].records} records`);
  });
});
