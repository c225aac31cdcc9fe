import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeapTrim, TRIM_INTERVAL_MS } from '../../src/daemon/heap-trim';

describe('HeapTrim', () => {
  it('trims while records flow, at most once per interval, and once more after they stop', () => {
    const t = new HeapTrim();
    t.tick(100, 0);
    assert.equal(t.trims, 1, 'the first tick with records trims');
    t.tick(200, TRIM_INTERVAL_MS - 1);
    assert.equal(t.trims, 1, 'not twice within an interval');
    t.tick(300, TRIM_INTERVAL_MS);
    assert.equal(t.trims, 2);
    // Records stop at 300: one more trim for what their garbage frees later, then none.
    t.tick(300, 2 * TRIM_INTERVAL_MS);
    assert.equal(t.trims, 3);
    t.tick(300, 3 * TRIM_INTERVAL_MS);
    t.tick(300, 10 * TRIM_INTERVAL_MS);
    assert.equal(t.trims, 3, 'an idle daemon does not trim');
    t.tick(301, 11 * TRIM_INTERVAL_MS);
    assert.equal(t.trims, 4, 'a record wakes it again');
  });

  it('calls glibc malloc_trim for real (the binding exists and returns 0 or 1)', () => {
    const t = new HeapTrim();
    t.tick(1, 0);
    t.tick(2, TRIM_INTERVAL_MS);
    assert.equal(t.trims, 2);
    assert.ok(t.released >= 0 && t.released <= 2);
  });
});
