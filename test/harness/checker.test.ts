import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Checker, judge } from '../support/check/checker';
import { parseResultLine, tagOf, type ObservedExec } from '../support/check/result-line';
import { parseTruthLine, type TruthExec } from '../support/check/truth';
import { fake, resultLine, truthLine, type FakeExec, type LineOptions } from './fixture-lines';

function truth(t: FakeExec): TruthExec {
  return parseTruthLine(truthLine(t));
}

function observed(t: FakeExec, o: LineOptions = {}): ObservedExec {
  const r = parseResultLine(resultLine(t, o), 'pg');
  assert.ok(r.exec, 'the line is an exec of ours');
  return r.exec;
}

describe('judge', () => {
  const t = fake('pg-0-1-300');

  it('accepts the exact lineage, complete, with the right current parent', () => {
    assert.deepEqual(judge(truth(t), observed(t), 32), { kind: 'correct' });
    assert.deepEqual(judge(truth(t), observed(t, { numerics: true }), 32), { kind: 'correct' }, 'numerics mode reads the same');
  });

  it('calls a wrong ancestor wrong, naming the element, expected and got', () => {
    const v = judge(truth(t), observed(t, { ancestry: [[200, 50], [101, 40], [1, 0]] }), 32);
    assert.deepEqual(v, { kind: 'wrong', wrong: 'lineage_element', detail: 'ancestry[1] = (101, 40), expected (100, 40)' });
  });

  it('tells a reused pid by its start time', () => {
    const v = judge(truth(t), observed(t, { ancestry: [[200, 49], [100, 40], [1, 0]] }), 32);
    assert.equal(v.kind, 'wrong');
    assert.equal(v.kind === 'wrong' && v.wrong, 'lineage_element');
  });

  it('checks the exec\'ing process itself: pid and start from entity_id', () => {
    assert.equal((judge(truth(t), observed(t, { ticks: 61 }), 32) as { wrong: string }).wrong, 'self_start');
    const other = observed(t);
    assert.equal((judge(truth(t), { ...other, pid: 301 }, 32) as { wrong: string }).wrong, 'self_pid');
  });

  it('calls an honest prefix incomplete with its reason, not wrong', () => {
    const v = judge(truth(t), observed(t, { ancestry: [[200, 50]], complete: false, reason: 'evicted' }), 32);
    assert.deepEqual(v, { kind: 'incomplete', reason: 'evicted', needless: false });
  });

  it('calls a short lineage that claims to be complete wrong', () => {
    const v = judge(truth(t), observed(t, { ancestry: [[200, 50], [100, 40]] }), 32);
    assert.equal((v as { wrong: string }).wrong, 'complete_but_short');
  });

  it('calls a lineage longer than the truth wrong', () => {
    const v = judge(truth(t), observed(t, { ancestry: [[200, 50], [100, 40], [1, 0], [0, 0]] }), 32);
    assert.equal((v as { wrong: string }).wrong, 'lineage_too_long');
  });

  it('accepts the depth cap when it is flagged, and only then', () => {
    const capped = { ancestry: [[200, 50], [100, 40]] as [number, number][] };
    assert.deepEqual(judge(truth(t), observed(t, { ...capped, complete: false, reason: 'depth_cap' }), 2),
      { kind: 'incomplete', reason: 'depth_cap', needless: false });
    assert.equal((judge(truth(t), observed(t, capped), 2) as { wrong: string }).wrong, 'complete_but_capped');
  });

  it('counts a whole lineage flagged incomplete as needless, not wrong', () => {
    assert.deepEqual(judge(truth(t), observed(t, { complete: false, reason: 'evicted' }), 32), { kind: 'incomplete', reason: 'evicted', needless: true });
  });

  it('checks current_parent (the parent after reparenting)', () => {
    const churn = fake('pg-0-2-300', { mode: 'churn', parentNow: 1 });
    assert.deepEqual(judge(truth(churn), observed(churn), 32), { kind: 'correct' });
    const v = judge(truth(churn), observed(churn, { currentParent: 200 }), 32);
    assert.deepEqual(v, { kind: 'wrong', wrong: 'current_parent', detail: 'current_parent 200, expected 1' });
  });

  it('reports an element whose entity_id disagrees with its start_boottime', () => {
    const v = judge(truth(t), observed(t, { badEntityAt: 1 }), 32);
    assert.equal((v as { wrong: string }).wrong, 'element_inconsistent');
  });

  it('reports an element whose entity_id is not <boot id>-<start ns>-<tgid>', () => {
    const row = JSON.parse(resultLine(t)) as { columns: { ancestry: string } };
    const ancestry = JSON.parse(row.columns.ancestry) as { entity_id: string }[];
    ancestry[1].entity_id = ancestry[1].entity_id.slice(1); // a 31-digit boot id
    row.columns.ancestry = JSON.stringify(ancestry);
    const o = parseResultLine(JSON.stringify(row), 'pg').exec!;
    const v = judge(truth(t), o, 32);
    assert.equal((v as { wrong: string }).wrong, 'element_inconsistent');
    assert.match((v as { detail: string }).detail, /^1: entity_id [0-9a-f]{31}-\d+-\d+ is not <boot id>-<start ns>-<tgid>$/);
  });
});

describe('parseResultLine', () => {
  it('reads ticks as floor(start_boottime / 1e7), the eid\'s kernel time, and the tag', () => {
    const t = fake('pg-1-7-300');
    const r = parseResultLine(resultLine(t, { ktimeNs: 3_600_999_000_123 }), 'pg');
    assert.equal(r.ktimeNs, 3_600_999_000_123n);
    assert.equal(r.name, 'process_events');
    assert.deepEqual(r.exec?.ancestry, t.lineage);
    assert.equal(r.exec?.startTicks, 60);
    assert.equal(r.exec?.tag, 'pg-1-7-300');
    assert.equal(r.exec?.kind, 'exec');
  });

  it('ignores other processes\' execs but still gives their kernel time', () => {
    const r = parseResultLine(resultLine(fake('other-0-1-300')), 'pg');
    assert.equal(r.exec, null);
    assert.equal(r.ktimeNs, 3_600_123_456_789n);
  });

  it('tells exec_failed lines apart', () => {
    assert.equal(parseResultLine(resultLine(fake('pg-0-1-300'), { failedErrno: 2 }), 'pg').exec?.kind, 'exec_failed');
  });

  it('rejects a tag that only starts like ours', () => {
    assert.equal(parseResultLine(resultLine(fake('pgx-0-1-300')), 'pg').exec, null);
  });
});

describe('parseTruthLine', () => {
  it('reads procgen\'s line and refuses a malformed one', () => {
    const line = '{"tag":"pg-0-1-300","mode":"churn","pid":300,"start_ticks":60,"parent_now":1,"lineage":[[200,50],[1,0]]}';
    assert.deepEqual(parseTruthLine(line), { tag: 'pg-0-1-300', mode: 'churn', pid: 300, startTicks: 60, parentNow: 1, lineage: [[200, 50], [1, 0]] });
    assert.throws(() => parseTruthLine('{"tag":"x","mode":"flat","pid":1,"start_ticks":1,"parent_now":1,"lineage":[[1]]}'), /lineage/);
    assert.throws(() => parseTruthLine('{"mode":"flat"}'), /tag/);
  });
});

describe('Checker', () => {
  it('matches lines and truths in either order, and counts per mode', () => {
    const c = new Checker({ maxDepth: 32 });
    const a = fake('pg-0-1-300');
    const b = fake('pg-0-2-301', { pid: 301, mode: 'churn', parentNow: 1 });
    c.addObserved(observed(a)); // the line before its truth
    c.addTruth(truth(a));
    c.addTruth(truth(b));
    c.addObserved(observed(b));
    const r = c.finish();
    assert.equal(r.ok, true);
    assert.equal(r.correct, 2);
    assert.deepEqual(r.byMode.churn, { truth: 1, matched: 1, correct: 1, lost: 0, wrong: 0, incomplete: 0, duplicates: 0, execFailed: 0 });
  });

  it('reports lost, duplicate and unmatched lines, and fails', () => {
    const c = new Checker({ maxDepth: 32 });
    const a = fake('pg-0-1-300');
    c.addTruth(truth(a));
    c.addObserved(observed(a));
    c.addObserved(observed(a)); // again
    c.addTruth(truth(fake('pg-0-2-301', { pid: 301, mode: 'tree' }))); // never reported
    c.addObserved(observed(fake('pg-0-3-302', { pid: 302 }))); // never announced
    const r = c.finish();
    assert.equal(r.ok, false);
    assert.equal(r.lost, 1);
    assert.equal(r.byMode.tree.lost, 1);
    assert.equal(r.duplicates, 1);
    assert.equal(r.unmatched, 1);
    assert.match(r.examples.lost[0].detail, /no exec line for pid 301/);
  });

  it('keeps expected vs got for wrong ancestry, a few per mode, and counts incomplete by reason', () => {
    const c = new Checker({ maxDepth: 32, examples: 2 });
    for (let i = 0; i < 5; i++) {
      const t = fake(`pg-0-${i}-300`);
      c.addTruth(truth(t));
      c.addObserved(observed(t, { ancestry: [[200, 50], [100, 41], [1, 0]] }));
    }
    const inc = fake('pg-1-1-300', { mode: 'pid-wrap' });
    c.addTruth(truth(inc));
    c.addObserved(observed(inc, { ancestry: [[200, 50]], complete: false, reason: 'exited_before_start' }));
    const r = c.finish();
    assert.equal(r.wrong, 5);
    assert.equal(r.ok, false);
    assert.deepEqual(r.wrongByKind, { lineage_element: 5 });
    assert.equal(r.examples.wrong.length, 2, 'two examples kept for mode flat');
    const ex = r.examples.wrong[0];
    assert.deepEqual(ex.expected?.lineage, [[200, 50], [100, 40], [1, 0]]);
    assert.deepEqual(ex.got?.ancestry, [[200, 50], [100, 41], [1, 0]]);
    assert.deepEqual(r.incomplete.byReason, { exited_before_start: 1 });
    assert.equal(r.byMode['pid-wrap'].incomplete, 1);
  });

  it('passes a run whose only findings are honest incomplete lineages', () => {
    const c = new Checker({ maxDepth: 2 });
    const t = fake('pg-0-1-300');
    c.addTruth(truth(t));
    c.addObserved(observed(t, { ancestry: [[200, 50], [100, 40]], complete: false, reason: 'depth_cap' }));
    const r = c.finish();
    assert.equal(r.ok, true);
    assert.equal(r.incomplete.total, 1);
    assert.equal(r.correct, 0);
  });

  it('counts exec_failed lines apart from lost and wrong', () => {
    const c = new Checker({ maxDepth: 32 });
    const t = fake('pg-0-1-300');
    c.addTruth(truth(t));
    c.addObserved(observed(t, { failedErrno: 12 }));
    const r = c.finish();
    assert.equal(r.execFailed, 1);
    assert.equal(r.lost, 0);
    assert.equal(r.wrong, 0);
  });
});

describe('tagOf', () => {
  it('takes procgen\'s tag from the end of the command line, and nothing else', () => {
    assert.equal(tagOf('/bin/true run1-0-12-4242', 'run1'), 'run1-0-12-4242');
    assert.equal(tagOf('/work/build/procgen sleep run1-hold-1-3-99', 'run1'), 'run1-hold-1-3-99');
    assert.equal(tagOf('build/procgen flat --truth t --tag run1-flat', 'run1'), null, 'procgen\'s own command line');
    assert.equal(tagOf('/bin/true run10-0-12-4242', 'run1'), null);
  });
});
