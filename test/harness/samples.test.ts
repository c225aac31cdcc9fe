import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Samples } from '../support/samples';

test('quantiles are nearest-rank over the samples, in any order', () => {
  const s = new Samples();
  for (let i = 100; i >= 1; i--) s.add(i);
  assert.equal(s.quantile(0.5), 50);
  assert.equal(s.quantile(0.99), 99);
  assert.equal(s.quantile(1), 100);
  assert.deepEqual(s.summary(), { count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
  s.add(0.5); // after sorting, still right
  assert.equal(s.quantile(0), 0.5);
});

test('an empty set summarizes to NaN, not to zero', () => {
  const s = new Samples().summary();
  assert.equal(s.count, 0);
  assert.ok(Number.isNaN(s.p99));
});

test('the histogram has log-scale bins that hold every sample', () => {
  const s = new Samples();
  for (const v of [0.2, 1, 3, 10, 10, 95, 0]) s.add(v);
  const bins = s.histogram(2);
  assert.equal(bins.reduce((a, b) => a + b.count, 0), 7);
  assert.ok(bins[0].lo <= 0.2 && bins.at(-1)!.hi > 95);
  for (let i = 1; i < bins.length; i++) assert.ok(Math.abs(bins[i].lo - bins[i - 1].hi) < 1e-9, 'bins are contiguous');
});
