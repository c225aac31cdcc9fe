import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noopLogger } from '../../../src/sinks/sink';
import { claimSpoolDir } from '../../../src/sinks/spool/spool-dir';
import { removeDir, tempDir } from '../sink-test-helpers';

/** A lock taker that records which directories it locked and which locks were released. */
function recordingLock() {
  const taken: string[] = [];
  let released = 0;
  return {
    taken,
    released: () => released,
    take: (dir: string) => {
      taken.push(dir);
      return { release: () => { released++; } };
    },
  };
}

test('setting a foreign spool aside releases the lock before the rename and locks the fresh directory', () => {
  const base = tempDir('spool-dir');
  const dir = join(base, 'tls');
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(join(dir, 'identity'), 'output=tls format=osquery\n');
    const lock = recordingLock();
    const held = claimSpoolDir(dir, 'output=tls format=ecs\n', lock.take, noopLogger);
    assert.deepEqual(lock.taken, [dir, dir]);
    assert.equal(lock.released(), 1, 'the lock taken in the old directory');
    assert.ok(held !== null);
    assert.equal(fs.readFileSync(join(dir, 'identity'), 'utf8'), 'output=tls format=ecs\n');
    assert.equal(fs.readdirSync(base).filter((f) => f.startsWith('tls.set-aside-')).length, 1);
  } finally {
    removeDir(base);
  }
});

test('a claim that fails after taking the lock leaves nothing held', () => {
  const dir = tempDir('spool-dir');
  try {
    fs.mkdirSync(join(dir, 'identity')); // unreadable as a file: EISDIR
    const lock = recordingLock();
    assert.throws(() => claimSpoolDir(dir, 'output=kafka\n', lock.take, noopLogger), /EISDIR/);
    assert.equal(lock.taken.length, 1);
    assert.equal(lock.released(), 1);
  } finally {
    removeDir(dir);
  }
});
