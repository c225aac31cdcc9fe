import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '../../../src/daemon/metrics/bucket-histogram';

const BOUNDS = [0.001, 0.01, 0.1, 1];
/** Values on, between, below and above the bounds, and values Prometheus cannot hold. */
const VALUES = [0, 0.001, 0.0010001, 0.005, 0.01, 0.5, 1, 1.5, 1e9];

describe('BucketHistogram', () => {
  it('renders exactly what prom-client\'s Histogram renders for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = new BucketHistogram('x_seconds', 'Help text.', 'sink', BOUNDS, [ours]);
    const p = new Histogram({ name: 'x_seconds', help: 'Help text.', labelNames: ['sink'], buckets: BOUNDS, registers: [theirs] });
    for (const [sink, values] of [['file', VALUES], ['kafka', VALUES.slice(3)]] as const) {
      const o = h.labels(sink);
      for (const v of values) {
        o(v);
        p.labels(sink).observe(v);
      }
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('shows a series at zero from its first labels() call, and ignores values that are not finite', async () => {
    const r = new Registry();
    const h = new BucketHistogram('y_seconds', 'Help.', 'sink', BOUNDS, [r]);
    const o = h.labels('tls');
    o(NaN);
    o(Infinity);
    const text = await r.metrics();
    assert.match(text, /^y_seconds_bucket\{le="\+Inf",sink="tls"\} 0$/m);
    assert.match(text, /^y_seconds_count\{sink="tls"\} 0$/m);
  });

  it('refuses bounds that do not increase', () => {
    assert.throws(() => new BucketHistogram('z', 'h', 'sink', [1, 1], []), /must increase/);
    assert.throws(() => new BucketHistogram('z', 'h', 'sink', [2, 1], []), /must increase/);
  });
});
