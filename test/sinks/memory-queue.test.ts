import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import { numbered, numbersOf, range } from './sink-test-helpers';
import { appendStrings } from '../support/string-lines';

test('memory queue: order, ids, ack, drop oldest counted', async () => {
  const q = new MemoryQueue({ maxBytes: 10_000 });
  let dropped = 0;
  q.onDrop = (n) => {
    dropped += n;
  };
  appendStrings(q, numbered(0, 10), 5);
  const a = await q.read(4, 1 << 20);
  assert.deepEqual(numbersOf(a!), [0, 1, 2, 3]);
  assert.equal(a!.firstId, 1);
  assert.equal(q.oldestUnreadKtimeNs, 5);
  q.ack(a!.lastId);
  for (let i = 10; i < 300; i += 10) appendStrings(q, numbered(i, 10), 6);
  assert.ok(dropped > 0);
  const got: number[] = [];
  for (let b = await q.read(50, 1 << 20); b !== null; b = await q.read(50, 1 << 20)) {
    got.push(...numbersOf(b));
    q.ack(b.lastId);
  }
  assert.equal(got.length + dropped, 296);
  assert.deepEqual(got, range(300 - got.length, 299));
  assert.equal(q.storedBytes, 0);
});

test('memory queue drop_newest refuses new events', async () => {
  const q = new MemoryQueue({ maxBytes: 2000, dropPolicy: 'drop_newest' });
  let dropped = 0;
  q.onDrop = (n) => {
    dropped += n;
  };
  let accepted = 0;
  for (let i = 0; i < 100; i += 5) accepted += appendStrings(q, numbered(i, 5), 1);
  assert.equal(accepted + dropped, 100);
  const b = await q.read(1000, 1 << 20);
  assert.deepEqual(numbersOf(b!), range(0, accepted - 1));
});
