import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnreadTally } from '../../../src/sinks/spool/unread-tally';

test('the backlog: the oldest time is set by the append that ends an empty backlog and moves with reads', () => {
  const t = new UnreadTally();
  assert.deepEqual([t.events, t.oldestKtimeNs], [0, null]);
  t.appended(3, 100);
  t.appended(2, 200); // not the oldest
  assert.deepEqual([t.events, t.oldestKtimeNs], [5, 100]);
  t.read(2, 150);
  assert.deepEqual([t.events, t.oldestKtimeNs], [3, 150]);
  t.lost(1);
  assert.deepEqual([t.events, t.oldestKtimeNs], [2, 150]);
  t.read(2, 200);
  assert.deepEqual([t.events, t.oldestKtimeNs], [0, null]);
  t.appended(1, 300);
  assert.deepEqual([t.events, t.oldestKtimeNs], [1, 300]);
});

test('the backlog never goes below zero, whatever is read or lost twice', () => {
  const t = new UnreadTally();
  t.set(2, 50);
  t.lost(5);
  assert.deepEqual([t.events, t.oldestKtimeNs], [0, null]);
  t.read(3, 60);
  assert.equal(t.events, 0);
  t.set(4, 70);
  t.none();
  assert.deepEqual([t.events, t.oldestKtimeNs], [0, null]);
});
