import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { noopLogger } from '../../../src/sinks/sink';
import { SegmentList } from '../../../src/sinks/spool/segment-list';
import { recoverSegments } from '../../../src/sinks/spool/segment-recovery';
import { removeDir, tempDir } from '../sink-test-helpers';
import { firstRecordLength, recordBytes, writeSegmentFile } from './segment-files';

test('recovery keeps the segments with unacknowledged events, deletes the rest, and continues the ids', () => {
  const dir = tempDir('recovery');
  try {
    const acked = writeSegmentFile(dir, 1, recordBytes(1, 0, 5)); // ids 1-5, all acknowledged
    const partlyBytes = recordBytes(6, 5, 5);
    const partly = writeSegmentFile(dir, 6, partlyBytes); // ids 6-10, 6-7 acknowledged
    const empty = writeSegmentFile(dir, 11, Buffer.alloc(0));
    const segments = new SegmentList(noopLogger);
    const r = recoverSegments(dir, 7, segments, noopLogger);
    assert.deepEqual(segments.all.map((s) => [s.firstId, s.lastId, s.count]), [[6, 10, 5]]);
    assert.equal(segments.bytes, fs.statSync(partly).size);
    assert.equal(fs.statSync(partly).size, partlyBytes.length, 'nothing cut');
    assert.ok(!fs.existsSync(acked) && !fs.existsSync(empty));
    assert.equal(r.unread, 3);
    assert.equal(r.oldestUnreadKtimeNs, 1000 + 7, 'the ktime of id 8, the first unread');
    assert.equal(r.nextId, 11);
  } finally {
    removeDir(dir);
  }
});

test('ids are never reused: the next id follows the highest one found, even in a segment deleted as acknowledged', () => {
  const dir = tempDir('recovery');
  try {
    writeSegmentFile(dir, 1, recordBytes(1, 0, 4));
    const segments = new SegmentList(noopLogger);
    const r = recoverSegments(dir, 4, segments, noopLogger);
    assert.equal(segments.all.length, 0);
    assert.equal(r.unread, 0);
    assert.equal(r.oldestUnreadKtimeNs, null);
    assert.equal(r.nextId, 5);
  } finally {
    removeDir(dir);
  }
});

test('only the newest segment has its torn tail cut; an older one is left whole for the reader', () => {
  const dir = tempDir('recovery');
  try {
    const a = recordBytes(1, 0, 3);
    const b = recordBytes(4, 3, 3);
    const half = recordBytes(99, 99, 1).subarray(0, Math.floor(firstRecordLength(a) / 2));
    const older = writeSegmentFile(dir, 1, Buffer.concat([a, half]));
    const newest = writeSegmentFile(dir, 4, Buffer.concat([b, half]));
    const segments = new SegmentList(noopLogger);
    const r = recoverSegments(dir, 0, segments, noopLogger);
    assert.equal(fs.statSync(newest).size, b.length);
    assert.equal(fs.statSync(older).size, a.length + half.length);
    assert.deepEqual(segments.all.map((s) => [s.firstId, s.lastId, s.bytes]), [[1, 3, a.length + half.length], [4, 6, b.length]]);
    assert.equal(r.unread, 6);
    assert.equal(r.nextId, 7);
  } finally {
    removeDir(dir);
  }
});
