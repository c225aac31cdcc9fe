import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecLineage, ProcessView } from '../../src/ancestry/process-view';
import { ancestorJson } from '../../src/events/ancestor-json';
import { AncestorTextCache, ancestorJsonEmbedded } from '../../src/events/lineage-element';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import { SyntheticKernel } from '../ancestry/synthetic-kernel';
import { clock, host, makeView } from './lineage-fixture';

test('ancestorJsonEmbedded is ancestorJson escaped once more, for plain and hostile strings', () => {
  const views = [
    makeView(10, 1),
    makeView(11, 10, { path: '/tmp/"q"\\b', cmdline: 'a\nb\u0001 ü 🚀 \ud800', comm: 'x"y', cwd: null }),
  ];
  for (const v of views) assert.equal(ancestorJsonEmbedded(v), JSON.stringify(ancestorJson(v)).slice(1, -1));
});

test('the ancestor text cache is bounded, evicts the oldest first, and is keyed by entity id', () => {
  let renders = 0;
  const cache = new AncestorTextCache((v: ProcessView) => { renders++; return ancestorJson(v); }, 2);
  const views = [makeView(1, 0), makeView(2, 1), makeView(3, 2)];
  for (const v of views) assert.equal(cache.get(v), ancestorJson(v));
  assert.equal(cache.get(views[2]), ancestorJson(views[2]));
  assert.equal(renders, 3, 'a held entry is not rendered again');
  assert.equal(cache.get(views[0]), ancestorJson(views[0]));
  assert.equal(renders, 4, 'two entries at most: the oldest was evicted');
  const same = makeView(3, 2, { cmdline: 'changed' }); // same entity, new content: rendered afresh
  assert.equal(cache.get(same), ancestorJson(same));
  assert.equal(renders, 5);
});

test('issue 11: an ancestor whose credentials a resync changed is rendered with the new uid', () => {
  const k = new SyntheticKernel();
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  const t = k.table();
  t.bootstrap(k.snapshot());
  const format = new OsqueryResultFormat({ host, clock });
  const ancestryOf = (line: string) => JSON.parse((JSON.parse(line) as { columns: { ancestry: string } }).columns.ancestry) as { pid: number; uid: number; euid: number }[];
  const run = () => {
    const child = k.fork(shell);
    t.apply(child.record);
    return ancestryOf(format.exec(t.apply(k.exec(child.proc, '/bin/true', ['true'])) as ExecLineage));
  };
  assert.equal(run()[0].uid, 0);
  shell.uid = 1000; // setuid(1000): the table learns it from the next snapshot
  t.resync(k.snapshot(), 0);
  assert.equal(t.lookup(shell.pid, shell.startNs)!.uid, 1000);
  const after = run();
  assert.equal(after[0].pid, shell.pid);
  assert.equal(after[0].uid, 1000);
  assert.equal(after[0].euid, 1000);
});

test('the cache re-renders an entry when the process execs or exits', () => {
  const k = new SyntheticKernel();
  const t = k.table();
  t.bootstrap(k.snapshot());
  const p = k.fork(k.init);
  t.apply(p.record);
  const v = t.lookup(p.proc.pid, p.proc.startNs)!;
  const cache = new AncestorTextCache(ancestorJson);
  const a = cache.get(v);
  assert.equal(cache.get(v), a);
  t.apply(k.exec(p.proc, '/bin/new', ['new']));
  assert.notEqual(cache.get(v), a);
  assert.equal(cache.get(v), ancestorJson(v));
  t.apply(k.exit(p.proc));
  assert.equal((JSON.parse(cache.get(v)) as { exited: boolean }).exited, true);
});
