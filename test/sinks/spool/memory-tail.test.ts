import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryTail } from '../../../src/sinks/spool/memory-tail';
import { newSegment, type Segment } from '../../../src/sinks/spool/segment-list';

function segment(firstId: number): Segment {
  return newSegment(`/nonexistent/${firstId}.seg`, firstId);
}

/** Reserves `len` bytes at the end of seg, fills them with `mark`, and advances seg as the writer does. */
function put(tail: MemoryTail, seg: Segment, len: number, mark: number): void {
  tail.reserve(seg, len).fill(mark);
  seg.bytes += len;
}

test('a group that does not fit before the arena\'s end wraps to its start, forgetting the oldest groups it needs', () => {
  const tail = new MemoryTail(1000);
  const seg = segment(1);
  for (let k = 0; k < 4; k++) put(tail, seg, 300, k + 1); // the 4th wraps: 900 + 300 > 1000
  assert.equal(tail.length, 3);
  assert.deepEqual([0, 1, 2].map((i) => [tail.at(i).arenaOff, tail.at(i).fileOffset, tail.at(i).buf[0]]),
    [[300, 300, 2], [600, 600, 3], [0, 900, 4]]);
  for (let i = 0; i < 3; i++) assert.ok(tail.at(i).buf.every((b) => b === i + 2), `group ${i} kept intact`);
});

test('unreserve gives the failed group\'s room back to the next one', () => {
  const tail = new MemoryTail(1000);
  const seg = segment(1);
  put(tail, seg, 300, 1);
  const failed = tail.reserve(seg, 200);
  tail.unreserve();
  assert.equal(tail.length, 1);
  const next = tail.reserve(seg, 200);
  assert.equal(next.byteOffset, failed.byteOffset);
  assert.equal(tail.at(1).fileOffset, 300);
  tail.unreserve();
  tail.unreserve();
  assert.equal(tail.length, 0);
  assert.equal(tail.reserve(seg, 1000).length, 1000, 'the whole arena is free again');
});

test('forgetBefore drops what the reader passed and groups of deleted segments, keeps what is ahead', () => {
  const tail = new MemoryTail(10_000);
  const a = segment(1);
  const b = segment(100);
  put(tail, a, 100, 1); // a [0, 100)
  put(tail, a, 100, 2); // a [100, 200)
  put(tail, b, 100, 3); // b [0, 100)
  tail.forgetBefore(a, 150); // inside the second group: it stays
  assert.deepEqual([tail.length, tail.at(0).fileOffset], [2, 100]);
  tail.forgetBefore(a, 200);
  assert.deepEqual([tail.length, tail.at(0).seg], [1, b]);
  const c = segment(200);
  put(tail, c, 100, 4);
  b.deleted = true;
  tail.forgetBefore(c, 0);
  assert.deepEqual([tail.length, tail.at(0).seg], [1, c]);
});

test('a group larger than the arena is not kept; an arena of 0 keeps nothing', () => {
  assert.equal(new MemoryTail(1000).fits(1000), true);
  assert.equal(new MemoryTail(1000).fits(1001), false);
  assert.equal(new MemoryTail(0).fits(1), false);
});
