// src/u64-le.ts is shared by the collector's decoder and the spool; its test
// sits here because the unit-test globs cover the folders under test/ only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readU64, readU64BigInt, writeU64 } from '../../src/u64-le';

const EDGES = [0, 1, 0xffffffff, 0x100000000, 0x100000001, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];

test('writeU64 writes what Node writes as a u64 LE, and readU64 reads it back exactly below 2^53', () => {
  for (const n of EDGES) {
    const ours = Buffer.alloc(11, 0xaa);
    writeU64(ours, 3, n);
    const node = Buffer.alloc(11, 0xaa);
    node.writeBigUInt64LE(BigInt(n), 3);
    assert.deepEqual(ours, node, `bytes of ${n}`);
    assert.equal(readU64(ours, 3), n);
  }
});

test('readU64BigInt is exact over the whole u64 range, either side of the 2^53 fast path', () => {
  const b = Buffer.alloc(8);
  for (const v of [0n, 123456789012n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n + 7n, 2n ** 64n - 1n]) {
    b.writeBigUInt64LE(v);
    assert.equal(readU64BigInt(b, 0), v);
  }
});
