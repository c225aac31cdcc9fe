import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AncestorTextCache, ancestorJson, ancestorJsonEmbedded } from '../../src/events/lineage-element';
import { makeView } from './lineage-fixture';

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
