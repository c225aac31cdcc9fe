/**
 * process_ancestry_cache_size=auto's policy (issue 12 part 3), tick by tick.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CacheAutoSizer, type CacheLoad } from '../../src/ancestry/cache-autosize';

const MIB = 1024 * 1024;
const load = (over: Partial<CacheLoad>): CacheLoad => ({ live: 500, pinned: 10, size: 800, neededEvictions: 0, estimatedBytes: 800 * 700, outsideBytes: 0, ...over });

describe('CacheAutoSizer', () => {
  it('starts at 4096 and stays there for a small host', () => {
    const s = new CacheAutoSizer(32 * MIB);
    assert.equal(s.capacity, 4096);
    for (let i = 0; i < 200; i++) assert.equal(s.tick(load({})), null);
  });

  it('grows to the needed entries ×1.5 plus room for recent exits, and doubles at once when a needed entry was evicted', () => {
    const s = new CacheAutoSizer(32 * MIB);
    assert.deepEqual(s.tick(load({ live: 6000, size: 4096, estimatedBytes: 4096 * 700 })), { from: 4096, to: 10039, reason: 'grow' });
    assert.deepEqual(s.tick(load({ live: 6000, size: 10039, neededEvictions: 5, estimatedBytes: 10039 * 700 })),
      { from: 10039, to: 20078, reason: 'needed_evicted' });
    assert.equal(s.tick(load({ live: 6000, size: 10039, neededEvictions: 5, estimatedBytes: 10039 * 700 })), null, 'evictions counted once');
  });

  it('sizes for a bootstrap before it happens', () => {
    assert.equal(new CacheAutoSizer(32 * MIB).forBootstrap(10_000), 16_024);
  });

  it('never exceeds the memory budget at the measured bytes per entry, and says so', () => {
    const s = new CacheAutoSizer(2 * MIB);
    const c = s.tick(load({ live: 20_000, size: 4096, estimatedBytes: 4096 * 1024 }));
    assert.deepEqual(c, { from: 4096, to: 2048, reason: 'budget' }); // 2 MiB at 1 KiB per entry
    assert.equal(s.limitedByBudget, true);
    assert.equal(new CacheAutoSizer(1024 * MIB).forBootstrap(100_000_000), 1024 * MIB / 700 | 0);
  });

  it('shrinks only after a minute at twice the need, by a fifth at a time, never below the need', () => {
    const s = new CacheAutoSizer(256 * MIB);
    s.tick(load({ live: 40_000, size: 40_000, estimatedBytes: 40_000 * 700 }));
    assert.equal(s.capacity, 61_039);
    const quiet = load({ live: 1000, size: 2000, estimatedBytes: 2000 * 700 });
    for (let i = 0; i < 59; i++) assert.equal(s.tick(quiet), null);
    assert.deepEqual(s.tick(quiet), { from: 61_039, to: 48_831, reason: 'shrink' });
    let last = s.capacity;
    for (let i = 0; i < 60 * 30; i++) {
      s.tick(quiet);
      assert.ok(s.capacity <= last);
      last = s.capacity;
    }
    assert.ok(s.capacity >= 4096 && s.capacity <= 2 * 4096, `settled at ${s.capacity}`);
  });
});
