import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AncestorTextCache, ancestorFields, ancestorJson, ancestorJsonEmbedded, ancestryJson } from '../../src/events/lineage-element';
import { makeView } from './lineage-fixture';

test('ancestorJson is exactly ancestorFields as JSON (bigints as exact digits)', () => {
  const v = makeView(4321, 77, { cwd: null, argv: ['a "b"', 'c\\d'], cmdline: 'a "b" c\\d', exitBootNs: 5 });
  const fields = ancestorFields(v);
  const expected = JSON.stringify(fields, (_k, x) => (typeof x === 'bigint' ? `@@${x}@@` : x)).replace(/"@@(\d+)@@"/g, '$1');
  assert.equal(ancestorJson(v), expected);
  assert.equal(fields.exited, true);
  assert.equal(fields.cwd, '');
  assert.equal(fields.exe_name, 'proc4321');
});

test('exe_name falls back to comm when the path is unknown', () => {
  assert.equal(ancestorFields(makeView(9, 1, { path: '', comm: 'kworker/0:1' })).exe_name, 'kworker/0:1');
  assert.equal(ancestryJson([]), '[]');
});

test('ancestorJsonEmbedded is ancestorJson escaped once more, for plain and hostile strings', () => {
  const views = [
    makeView(10, 1),
    makeView(11, 10, { path: '/tmp/"q"\\b', cmdline: 'a\nb\u0001 ü 🚀 \ud800', comm: 'x"y', cwd: null }),
  ];
  for (const v of views) assert.equal(ancestorJsonEmbedded(v), JSON.stringify(ancestorJson(v)).slice(1, -1));
});

test('the ancestor text cache is bounded and keyed by entity id', () => {
  const cache = new AncestorTextCache(ancestorJson, 2);
  const views = [makeView(1, 0), makeView(2, 1), makeView(3, 2)];
  for (const v of views) assert.equal(cache.get(v), ancestorJson(v));
  assert.equal(cache.size, 2);
  const same = makeView(3, 2, { cmdline: 'changed' }); // same entity, new content: rendered afresh
  assert.equal(cache.get(same), ancestorJson(same));
});
