import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNative } from '../../src/collector/libbpf';
import { HeapTrim, TRIM_INTERVAL_MS } from '../../src/daemon/heap-trim';

describe('HeapTrim', () => {
  it('trims while records flow, at most once per interval, and once more after they stop', () => {
    let trims = 0;
    const t = new HeapTrim(() => { trims++; });
    t.tick(100, 0);
    assert.equal(trims, 1, 'the first tick with records trims');
    t.tick(200, TRIM_INTERVAL_MS - 1);
    assert.equal(trims, 1, 'not twice within an interval');
    t.tick(300, TRIM_INTERVAL_MS);
    assert.equal(trims, 2);
    // Records stop at 300: one more trim for what their garbage frees later, then none.
    t.tick(300, 2 * TRIM_INTERVAL_MS);
    assert.equal(trims, 3);
    t.tick(300, 3 * TRIM_INTERVAL_MS);
    t.tick(300, 10 * TRIM_INTERVAL_MS);
    assert.equal(trims, 3, 'an idle daemon does not trim');
    t.tick(301, 11 * TRIM_INTERVAL_MS);
    assert.equal(trims, 4, 'a record wakes it again');
  });

  it('binds glibc malloc_trim, which answers 0 or 1', () => {
    const r = loadNative().c.malloc_trim(0);
    assert.ok(r === 0 || r === 1, `malloc_trim returned ${r}`);
    // The default trimmer calls it without throwing.
    new HeapTrim().tick(1, 0);
  });
});
