import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineEncoder } from '../../support/string-lines';
import { noopLogger } from '../../../src/sinks/sink';
import { MemoryTail } from '../../../src/sinks/spool/memory-tail';
import { newParsedRecord, parseRecord } from '../../../src/sinks/spool/record';
import { SegmentList } from '../../../src/sinks/spool/segment-list';
import { SegmentWriter } from '../../../src/sinks/spool/segment-writer';
import { numbered, openFdCount, removeDir, tempDir } from '../sink-test-helpers';

function writer(dir: string, segmentBytes: number, memoryBytes = 0) {
  const segments = new SegmentList(noopLogger);
  const tail = new MemoryTail(memoryBytes);
  const background: Promise<void>[] = [];
  const w = new SegmentWriter({
    dir, segmentBytes, fsync: 'never', log: noopLogger, segments, tail, track: (p) => { background.push(p); },
  });
  return { w, segments, tail, settled: () => Promise.all(background) };
}

const lines = new LineEncoder();

/** Appends events {"n":from}… of about `size` bytes as one group; returns the group's bytes. */
function append(w: SegmentWriter, from: number, count: number, size = 100): number {
  const src = lines.encode(numbered(from, count, size), 1);
  const len = w.measure(src, 0);
  w.rollIfFull(len);
  assert.equal(w.write(src, 0, len), true);
  return len;
}

/** [first id, last id, record count] of every segment file, parsed from disk. */
function filesOnDisk(dir: string): number[][] {
  const rec = newParsedRecord();
  return fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort().map((f) => {
    const buf = fs.readFileSync(join(dir, f));
    const ids: number[] = [];
    for (let off = 0; off < buf.length; off = rec.payloadEnd) {
      assert.equal(parseRecord(buf, off, buf.length, rec), 'record', `${f} at ${off}`);
      ids.push(rec.id);
    }
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
    assert.equal(Number(f.slice(0, 20)), ids[0], 'named for its first id');
    return [ids[0], ids[ids.length - 1], ids.length];
  });
}

test('the writer rolls to a new segment before a group would pass the size limit', async () => {
  const dir = tempDir('writer');
  try {
    const { w, segments, settled } = writer(dir, 4096);
    w.start(1);
    let group = 0;
    for (let i = 100; i < 140; i += 5) group = append(w, i, 5); // three-digit n: every group the same size
    assert.equal(group, 605); // six groups fit in 4096, a seventh would not
    assert.deepEqual(filesOnDisk(dir), [[1, 30, 30], [31, 40, 10]]);
    for (const f of fs.readdirSync(dir)) assert.ok(fs.statSync(join(dir, f)).size <= 4096, f);
    assert.deepEqual(segments.all.map((s) => [s.firstId, s.lastId, s.count]), [[1, 30, 30], [31, 40, 10]]);
    assert.equal(segments.bytes, 8 * group);
    append(w, 140, 1);
    assert.deepEqual(filesOnDisk(dir).at(-1), [31, 41, 11], 'the next event gets id 41');
    await settled();
    w.file.close();
  } finally {
    removeDir(dir);
  }
});

test('a group larger than the limit gets a segment of its own instead of being refused', async () => {
  const dir = tempDir('writer');
  try {
    const { w, settled } = writer(dir, 4096);
    w.start(7); // continues after recovered ids
    append(w, 0, 2);
    append(w, 2, 10, 600); // ~6.3 KB
    append(w, 12, 2);
    assert.deepEqual(filesOnDisk(dir), [[7, 8, 2], [9, 18, 10], [19, 20, 2]]);
    await settled();
    w.file.close();
  } finally {
    removeDir(dir);
  }
});

test('a group that fits the memory tail is encoded there, at its offset in the segment', async () => {
  const dir = tempDir('writer');
  try {
    const { w, tail, settled } = writer(dir, 1 << 20, 1000);
    w.start(1);
    const a = append(w, 0, 2);
    append(w, 2, 20); // larger than the tail: written from scratch, not kept
    const c = append(w, 22, 2);
    assert.equal(tail.length, 2);
    assert.deepEqual([tail.at(0).fileOffset, tail.at(1).fileOffset], [0, fs.statSync(join(dir, fs.readdirSync(dir)[0])).size - c]);
    const onDisk = fs.readFileSync(join(dir, fs.readdirSync(dir)[0]));
    assert.deepEqual(tail.at(0).buf, onDisk.subarray(0, a));
    assert.deepEqual(tail.at(1).buf, onDisk.subarray(onDisk.length - c));
    await settled();
    w.file.close();
  } finally {
    removeDir(dir);
  }
});

test('a failed write leaves the segment, the ids and the memory tail as they were', async () => {
  const dir = tempDir('writer');
  try {
    const { w, segments, tail, settled } = writer(dir, 1 << 20, 10_000);
    w.start(1);
    append(w, 0, 3);
    fs.closeSync(w.file.fd); // a dead device
    const src = lines.encode(numbered(3, 3), 1);
    assert.equal(w.write(src, 0, w.measure(src, 0)), false);
    assert.deepEqual([segments.all[0].lastId, segments.all[0].count, tail.length], [3, 3, 1]);
    w.file.fd = -1;
    w.roll(); // a working segment again: the ids go on from 4
    append(w, 3, 3);
    assert.deepEqual(filesOnDisk(dir), [[1, 3, 3], [4, 6, 3]]);
    await settled();
    w.file.close();
  } finally {
    removeDir(dir);
  }
});

test('a finished segment\'s descriptor is closed in the background work the spool waits for', async () => {
  const dir = tempDir('writer');
  try {
    const fds = openFdCount();
    const { w, settled } = writer(dir, 4096);
    w.start(1);
    for (let i = 0; i < 4; i++) w.roll();
    await settled();
    assert.equal(openFdCount(), fds + 1, 'only the active segment stays open');
    w.file.close();
    assert.equal(openFdCount(), fds);
  } finally {
    removeDir(dir);
  }
});
