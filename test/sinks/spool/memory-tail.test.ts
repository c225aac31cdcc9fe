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

test('after a group that ends exactly at the arena\'s end, the next one wraps with its full length', () => {
  const tail = new MemoryTail(1000);
  const seg = segment(1);
  put(tail, seg, 400, 1);
  put(tail, seg, 600, 2); // ends at 1000, the arena's end: nothing to waste
  const next = tail.reserve(seg, 300);
  assert.equal(next.length, 300); // was an empty view at 1000, which the encoder then wrote past
  assert.equal(tail.at(tail.length - 1).arenaOff, 0);
  next.fill(3);
  assert.ok(tail.at(tail.length - 2).buf.every((b) => b === 2), 'the group it did not need to forget is intact');
});

test('a kept group is never overwritten: the oldest are forgotten to make room, wrapping in the arena', () => {
  const size = 1000;
  const tail = new MemoryTail(size);
  const seg = segment(1);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let wrapped = 0;
  for (let k = 0; k < 500; k++) {
    put(tail, seg, 1 + Math.floor(rand() * 400), k & 0xff);
    let held = 0;
    for (let i = 0; i < tail.length; i++) {
      const g = tail.at(i);
      held += g.buf.length;
      const mark = (k - (tail.length - 1 - i)) & 0xff;
      assert.ok(g.buf.every((b) => b === mark), `group ${i} of ${tail.length} after append ${k} was overwritten`);
      if (i > 0) assert.equal(g.fileOffset, tail.at(i - 1).fileOffset + tail.at(i - 1).buf.length, 'contiguous in the file');
    }
    assert.ok(held <= size);
    if (tail.at(tail.length - 1).arenaOff === 0 && k > 0) wrapped++;
  }
  assert.ok(wrapped > 10, 'the arena wrapped');
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
