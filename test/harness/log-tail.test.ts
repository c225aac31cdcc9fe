import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LogTailer } from '../support/log-tail';

const LOG = 'ancestryd.results.log';

describe('LogTailer', () => {
  let dir: string;
  let got: string[];
  let tailer: LogTailer;
  const make = (fromEnd = false) => new LogTailer({ dir, fromEnd, onLines: (lines) => got.push(...lines) });

  /** What the file sink does at rotation: .k → .k+1, log → .1, a new log. */
  function rotate(max = 3): void {
    for (let i = max - 1; i >= 1; i--) {
      try {
        renameSync(join(dir, `${LOG}.${i}`), join(dir, `${LOG}.${i + 1}`));
      } catch {
        // not there yet
      }
    }
    renameSync(join(dir, LOG), join(dir, `${LOG}.1`));
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anc-tail-'));
    got = [];
  });
  afterEach(() => {
    tailer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands over whole lines only, joining a line split across writes', () => {
    tailer = make();
    tailer.poll(); // no file yet: nothing, no error
    appendFileSync(join(dir, LOG), 'one\ntw');
    tailer.poll();
    assert.deepEqual(got, ['one']);
    appendFileSync(join(dir, LOG), 'o\nthree\n');
    tailer.poll();
    assert.deepEqual(got, ['one', 'two', 'three']);
  });

  it('follows a rotation, reading what the old file got before the rename', () => {
    tailer = make();
    appendFileSync(join(dir, LOG), 'a\n');
    tailer.poll();
    appendFileSync(join(dir, LOG), 'b\n'); // written after the last read, before the rotation
    rotate();
    tailer.poll(); // the path is missing: wait
    writeFileSync(join(dir, LOG), 'c\n');
    tailer.poll();
    assert.deepEqual(got, ['a', 'b', 'c']);
    assert.equal(tailer.stats.files, 2);
  });

  it('catches up over several rotations between two reads, oldest first', () => {
    tailer = make();
    appendFileSync(join(dir, LOG), '1\n');
    tailer.poll();
    appendFileSync(join(dir, LOG), '2\n');
    for (const next of ['3\n', '4\n', '5\n']) {
      rotate(5);
      writeFileSync(join(dir, LOG), next);
    }
    tailer.poll();
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
  });

  it('moves on when the file it read was deleted (rotate_max_files)', () => {
    tailer = make();
    appendFileSync(join(dir, LOG), 'x\n');
    tailer.poll();
    rotate();
    unlinkSync(join(dir, `${LOG}.1`));
    writeFileSync(join(dir, LOG), 'y\n');
    tailer.poll();
    assert.deepEqual(got, ['x', 'y']);
  });

  it('starts at the end of what exists when attaching to a running daemon', () => {
    appendFileSync(join(dir, `${LOG}`), 'old-1\n');
    rotate();
    writeFileSync(join(dir, LOG), 'old-2\n');
    tailer = make(true);
    tailer.start();
    appendFileSync(join(dir, LOG), 'new\n');
    tailer.poll();
    assert.deepEqual(got, ['new']);
  });

  it('ignores files that are not the log or its rotations', () => {
    tailer = make();
    writeFileSync(join(dir, `${LOG}.tmp`), 'no\n');
    writeFileSync(join(dir, 'other.log'), 'no\n');
    writeFileSync(join(dir, LOG), 'yes\n');
    tailer.poll();
    assert.deepEqual(got, ['yes']);
  });
});
