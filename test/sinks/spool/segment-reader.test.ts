import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noopLogger, type EventBatch } from '../../../src/sinks/sink';
import { MemoryTail } from '../../../src/sinks/spool/memory-tail';
import { newSegment, segmentFileName, SegmentList } from '../../../src/sinks/spool/segment-list';
import { SegmentReader } from '../../../src/sinks/spool/segment-reader';
import { recoverSegments } from '../../../src/sinks/spool/segment-recovery';
import { UnreadTally } from '../../../src/sinks/spool/unread-tally';
import { numbersOf, range, removeDir, tempDir } from '../sink-test-helpers';
import { firstRecordLength, recordBytes, writeSegmentFile } from './segment-files';

/** A reader over the segment files in dir as the spool opens them: recovered, then an empty active segment. */
function openReader(dir: string, ackedId = 0, tail = new MemoryTail(0)) {
  const segments = new SegmentList(noopLogger);
  const found = recoverSegments(dir, ackedId, segments, noopLogger);
  const active = newSegment(join(dir, segmentFileName(found.nextId)), found.nextId);
  fs.writeFileSync(active.path, '');
  segments.add(active);
  const unread = new UnreadTally();
  unread.set(found.unread, found.oldestUnreadKtimeNs);
  const corrupt: number[] = [];
  const reader = new SegmentReader({
    dir, log: noopLogger, segments, tail, unread, cursor: { ackedId }, writer: { active },
    onCorrupt: (events) => { corrupt.push(events); },
  });
  reader.start(segments.oldest!, ackedId);
  return { reader, segments, unread, corrupt, active };
}

async function readAll(reader: SegmentReader, maxLines = 4): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for (let b = await reader.next(maxLines, 1 << 20); b !== null; b = await reader.next(maxLines, 1 << 20)) out.push(b);
  return out;
}

const idRanges = (batches: EventBatch[]) => batches.map((b) => [b.firstId, b.lastId, b.count]);

test('a record that fails its checksum is skipped, and its event counted from the gap in ids', async () => {
  const dir = tempDir('reader');
  try {
    const bytes = recordBytes(1, 0, 10);
    bytes[firstRecordLength(bytes) * 3 + 40] ^= 0xff; // a payload byte of id 4
    writeSegmentFile(dir, 1, bytes);
    writeSegmentFile(dir, 11, recordBytes(11, 10, 2));
    const { reader, unread, corrupt } = openReader(dir);
    assert.equal(unread.events, 11, 'recovery counts the valid records only');
    const batches = await readAll(reader);
    assert.deepEqual(idRanges(batches), [[1, 5, 4], [6, 9, 4], [10, 10, 1], [11, 12, 2]]);
    assert.deepEqual(batches.flatMap((b) => numbersOf(b)), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(corrupt, [1]);
    assert.deepEqual([unread.events, unread.oldestKtimeNs], [0, null]);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('a torn record at the end of an older segment stops the read there; the next segment shows the loss', async () => {
  const dir = tempDir('reader');
  try {
    const whole = recordBytes(1, 0, 4);
    const torn = whole.subarray(0, whole.length - Math.floor(firstRecordLength(whole) / 2)); // ids 1-3 and half of 4
    writeSegmentFile(dir, 1, torn);
    writeSegmentFile(dir, 5, recordBytes(5, 4, 2));
    const { reader, corrupt } = openReader(dir);
    const first = await reader.next(100, 1 << 20);
    assert.deepEqual(idRanges([first!]), [[1, 3, 3]]);
    assert.deepEqual(corrupt, []);
    const second = await reader.next(100, 1 << 20);
    assert.deepEqual(idRanges([second!]), [[5, 6, 2]]);
    assert.deepEqual(corrupt, [1]);
    assert.equal(await reader.next(100, 1 << 20), null);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('after a restart the reader passes over the events at or below the cursor, even inside a segment', async () => {
  const dir = tempDir('reader');
  try {
    writeSegmentFile(dir, 1, recordBytes(1, 0, 10));
    const { reader, corrupt } = openReader(dir, 6);
    assert.deepEqual((await readAll(reader, 100)).flatMap((b) => numbersOf(b)), [6, 7, 8, 9]);
    assert.deepEqual(corrupt, []);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('at the end of the segment being written the reader has nothing, and goes on when more is written', async () => {
  const dir = tempDir('reader');
  try {
    const { reader, segments, unread, active } = openReader(dir);
    assert.equal(await reader.next(10, 1 << 20), null);
    const bytes = recordBytes(1, 0, 3);
    fs.appendFileSync(active.path, bytes);
    segments.appended(active, bytes.length, 1, 3);
    unread.appended(3, 1000);
    assert.equal(reader.unreadBytes, bytes.length);
    assert.deepEqual((await readAll(reader)).flatMap((b) => numbersOf(b)), [0, 1, 2]);
    assert.equal(reader.unreadBytes, 0);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('where the memory tail holds the position the reader takes the records from it, not from the file', async () => {
  const dir = tempDir('reader');
  try {
    const tail = new MemoryTail(1 << 16);
    const { reader, segments, corrupt, active } = openReader(dir, 0, tail);
    const bytes = recordBytes(1, 0, 5);
    bytes.copy(tail.reserve(active, bytes.length));
    fs.appendFileSync(active.path, Buffer.alloc(bytes.length)); // the file would read as garbage
    segments.appended(active, bytes.length, 1, 5);
    assert.deepEqual((await readAll(reader)).flatMap((b) => numbersOf(b)), range(0, 4));
    assert.deepEqual(corrupt, []);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('after the spool drops the segment being read, the reader moves on and the dropped ids are not counted corrupt', async () => {
  const dir = tempDir('reader');
  try {
    writeSegmentFile(dir, 1, recordBytes(1, 0, 5));
    writeSegmentFile(dir, 6, recordBytes(6, 5, 5));
    const { reader, segments, corrupt } = openReader(dir);
    assert.deepEqual(idRanges([(await reader.next(2, 1 << 20))!]), [[1, 2, 2]]);
    segments.remove(segments.oldest!);
    reader.skipTo(segments.oldest!.firstId);
    assert.deepEqual((await readAll(reader, 100)).flatMap((b) => numbersOf(b)), range(5, 9));
    assert.deepEqual(corrupt, []);
    reader.close();
  } finally {
    removeDir(dir);
  }
});

test('a read in flight when the reader is stopped returns null', async () => {
  const dir = tempDir('reader');
  try {
    writeSegmentFile(dir, 1, recordBytes(1, 0, 5));
    const { reader } = openReader(dir);
    const pending = reader.next(10, 1 << 20); // waits on read(2)
    reader.stop();
    assert.equal(await pending, null);
    reader.close();
  } finally {
    removeDir(dir);
  }
});
