import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noopLogger } from '../../../src/sinks/sink';
import { newSegment, SEGMENT_RE, segmentFileName, SegmentList } from '../../../src/sinks/spool/segment-list';
import { removeDir, tempDir } from '../sink-test-helpers';

test('segment file names sort as their first ids do, and are what recovery looks for', () => {
  const ids = [1, 9, 10, 99, 100, 2 ** 40, Number.MAX_SAFE_INTEGER];
  const names = ids.map(segmentFileName);
  assert.deepEqual([...names].sort(), names);
  for (let i = 0; i < ids.length; i++) assert.equal(Number(SEGMENT_RE.exec(names[i])![1]), ids[i]);
});

test('the byte total follows the list: added, appended to, removed; a removed segment is deleted and flagged', () => {
  const dir = tempDir('segments');
  try {
    const list = new SegmentList(noopLogger);
    const paths = [1, 11].map((id) => join(dir, segmentFileName(id)));
    for (const p of paths) fs.writeFileSync(p, 'x'.repeat(100));
    const a = newSegment(paths[0], 1, 100);
    const b = newSegment(paths[1], 11);
    list.add(a);
    list.add(b);
    list.appended(b, 300, 11, 4);
    assert.equal(list.bytes, 400);
    assert.deepEqual([b.count, b.lastId, b.bytes], [4, 14, 300]);
    assert.equal(list.next(a), b);
    assert.equal(list.next(b), null);
    assert.equal(list.firstAfter(1), b);
    list.remove(a);
    assert.equal(list.bytes, 300);
    assert.ok(a.deleted && !b.deleted);
    assert.ok(!fs.existsSync(paths[0]));
    assert.equal(list.oldest, b);
  } finally {
    removeDir(dir);
  }
});
