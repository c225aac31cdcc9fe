import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noopLogger } from '../../../src/sinks/sink';
import { crc32 } from '../../../src/sinks/spool/crc32';
import { AckCursor } from '../../../src/sinks/spool/cursor';
import { removeDir, tempDir } from '../sink-test-helpers';

test('the cursor persists the acknowledged id and a new instance recovers it', () => {
  const dir = tempDir('cursor');
  try {
    const a = new AckCursor(dir, 'never', noopLogger);
    assert.equal(a.open(), 'new');
    assert.equal(a.ackedId, 0);
    a.advance(17);
    a.advance(2 ** 40 + 5); // past 32 bits: both halves are written
    a.file.close();
    const b = new AckCursor(dir, 'batch', noopLogger);
    assert.equal(b.open(), 'read');
    assert.equal(b.ackedId, 2 ** 40 + 5);
    b.file.close();
    assert.equal(fs.statSync(join(dir, 'cursor')).mode & 0o777, 0o600);
  } finally {
    removeDir(dir);
  }
});

test('the cursor file keeps its format: u64 id, crc32 of the id, "ACUR" (existing spools must resume)', () => {
  const dir = tempDir('cursor');
  try {
    const c = new AckCursor(dir, 'never', noopLogger);
    c.open();
    c.advance(0x0102030405);
    c.file.close();
    const id = Buffer.from([0x05, 0x04, 0x03, 0x02, 0x01, 0, 0, 0]);
    const want = Buffer.alloc(16);
    id.copy(want, 0);
    want.writeUInt32LE(crc32(id), 8);
    want.write('ACUR', 12, 'latin1');
    assert.deepEqual(fs.readFileSync(join(dir, 'cursor')), want);
  } finally {
    removeDir(dir);
  }
});

for (const [what, spoil] of [
  ['a flipped id bit', (b: Buffer) => { b[0] ^= 0x01; return b; }],
  ['a bad magic', (b: Buffer) => { b[12] = 0; return b; }],
  ['a short file (a torn write)', (b: Buffer) => b.subarray(0, 9)],
] as const) {
  test(`a cursor with ${what} reads as unreadable and 0: every stored event is replayed`, () => {
    const dir = tempDir('cursor');
    try {
      const a = new AckCursor(dir, 'never', noopLogger);
      a.open();
      a.advance(99);
      a.file.close();
      const path = join(dir, 'cursor');
      fs.writeFileSync(path, spoil(fs.readFileSync(path)));
      const b = new AckCursor(dir, 'never', noopLogger);
      assert.equal(b.open(), 'unreadable');
      assert.equal(b.ackedId, 0);
      b.advance(100); // rewrites the whole record
      b.file.close();
      const c = new AckCursor(dir, 'never', noopLogger);
      assert.equal(c.open(), 'read');
      assert.equal(c.ackedId, 100);
      c.file.close();
    } finally {
      removeDir(dir);
    }
  });
}

test('a failed cursor write is logged, not thrown, and the id still moves on in memory', () => {
  const dir = tempDir('cursor');
  try {
    const warnings: string[] = [];
    const c = new AckCursor(dir, 'batch', { ...noopLogger, warn: (_o: object, msg: string) => { warnings.push(msg); } });
    c.open();
    // A dead device: the descriptor goes away underneath.
    fs.closeSync(c.file.fd);
    c.advance(5);
    assert.equal(c.ackedId, 5);
    assert.match(warnings.join('\n'), /spool cursor write failed/);
    c.file.fd = -1;
    c.file.close();
  } finally {
    removeDir(dir);
  }
});
