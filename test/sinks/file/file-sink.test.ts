import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileSink } from '../../../src/sinks/file/file-sink';
import type { EventBatch } from '../../../src/sinks/sink';
import { SinkDriver } from '../../../src/sinks/sink-driver';
import { DiskSpool } from '../../../src/sinks/spool/disk-spool';
import { numbered, openFdCount, range, removeDir, tempDir, waitFor } from '../sink-test-helpers';
import { enqueueStrings } from '../../support/string-lines';

function batch(lines: string[]): EventBatch {
  const data = Buffer.from(lines.map((l) => l + '\n').join(''));
  return { firstId: 1, lastId: lines.length, count: lines.length, data, firstKtimeNs: 0, lastKtimeNs: 0 };
}

/** Every results file, oldest first (.N … .1, then the live one). */
function resultFiles(dir: string, base = 'ancestryd.results.log'): string[] {
  const backups = fs.readdirSync(dir).filter((f) => f.startsWith(base + '.'))
    .sort((a, b) => Number(b.slice(base.length + 1)) - Number(a.slice(base.length + 1)));
  return [...backups, base].map((f) => join(dir, f));
}

test('writes JSON lines to <logger_path>/ancestryd.results.log; dir 0700 when created, file 0600', async () => {
  const base = tempDir('file');
  const dir = join(base, 'logs', 'ancestryd');
  try {
    const fds = openFdCount();
    const s = new FileSink({ loggerPath: dir });
    await s.start();
    assert.equal(await s.send(batch(['{"n":0}', '{"n":1}'])), 'delivered');
    assert.equal(await s.send(batch(['{"n":2}'])), 'delivered');
    await s.close();
    await s.close();
    assert.equal(openFdCount(), fds);
    assert.equal(fs.readFileSync(join(dir, 'ancestryd.results.log'), 'utf8'), '{"n":0}\n{"n":1}\n{"n":2}\n');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(join(dir, 'ancestryd.results.log')).mode & 0o777, 0o600);
  } finally {
    removeDir(base);
  }
});

test('an existing results file with looser permissions is set to 0600', async () => {
  const dir = tempDir('file');
  try {
    const path = join(dir, 'ancestryd.results.log');
    fs.writeFileSync(path, '{"n":0}\n', { mode: 0o644 });
    fs.chmodSync(path, 0o644);
    const s = new FileSink({ loggerPath: dir });
    await s.start();
    assert.equal(fs.statSync(path).mode & 0o777, 0o600);
    await s.close();
  } finally {
    removeDir(dir);
  }
});

test('a partial last line left by a crash is cut at start; complete lines stay', async () => {
  const dir = tempDir('file');
  try {
    const path = join(dir, 'ancestryd.results.log');
    fs.writeFileSync(path, '{"n":0}\n{"n":1}\n{"n":2,"pad":"xx');
    const s = new FileSink({ loggerPath: dir });
    await s.start();
    assert.equal(s.truncatedTailBytes, '{"n":2,"pad":"xx'.length);
    await s.send(batch(['{"n":2}']));
    await s.close();
    assert.equal(fs.readFileSync(path, 'utf8'), '{"n":0}\n{"n":1}\n{"n":2}\n');

    fs.writeFileSync(path, 'x'.repeat(200_000)); // no newline at all
    const t = new FileSink({ loggerPath: dir });
    await t.start();
    await t.close();
    assert.equal(fs.statSync(path).size, 0);
  } finally {
    removeDir(dir);
  }
});

test('rotation under load: every event once, in order, files 0600, none past the size', async () => {
  const dir = tempDir('file');
  const spoolDir = tempDir('file-spool');
  try {
    const rotate = 64 * 1024;
    const sink = new FileSink({ loggerPath: dir, rotateSizeBytes: rotate, rotateMaxFiles: 200 });
    const d = new SinkDriver(sink, new DiskSpool({ dir: spoolDir, fsync: 'never' }), { lingerMs: 1, maxBatchLines: 100 });
    await d.start();
    const total = 20_000;
    for (let i = 0; i < total; i += 50) enqueueStrings(d, numbered(i, 50, 200), 1);
    await waitFor(() => d.stats().deliveredEvents === total, 'all delivered');
    await d.close();
    const files = resultFiles(dir);
    assert.ok(files.length > 40, `expected many rotated files, got ${files.length}`);
    const seen: number[] = [];
    for (const f of files) {
      assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
      assert.ok(fs.statSync(f).size <= rotate, `${f} is ${fs.statSync(f).size} bytes`);
      const text = fs.readFileSync(f, 'utf8');
      assert.ok(text.endsWith('\n'));
      for (const line of text.slice(0, -1).split('\n')) seen.push(JSON.parse(line).n);
    }
    assert.deepEqual(seen, range(0, total - 1));
  } finally {
    removeDir(dir);
    removeDir(spoolDir);
  }
});

test('rotation keeps at most logger_rotate_max_files backups (.1 newest)', async () => {
  const dir = tempDir('file');
  try {
    const s = new FileSink({ loggerPath: dir, rotateSizeBytes: 4096, rotateMaxFiles: 3 });
    await s.start();
    for (let i = 0; i < 100; i++) await s.send(batch(numbered(i * 10, 10, 100)));
    await s.close();
    const names = fs.readdirSync(dir).sort();
    assert.deepEqual(names, ['ancestryd.results.log', 'ancestryd.results.log.1', 'ancestryd.results.log.2', 'ancestryd.results.log.3']);
    const newestBackup = fs.readFileSync(join(dir, 'ancestryd.results.log.1'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).n);
    const live = fs.readFileSync(join(dir, 'ancestryd.results.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).n);
    assert.equal(newestBackup[newestBackup.length - 1] + 1, live[0]);
    assert.equal(live[live.length - 1], 999);
  } finally {
    removeDir(dir);
  }
});

test('bad options name the option', async () => {
  assert.throws(() => new FileSink({ loggerPath: 'relative/dir' }), /logger_path: expected an absolute directory/);
  assert.throws(() => new FileSink({ loggerPath: '/tmp', rotateMaxFiles: 0 }), /logger_rotate_max_files=0 is out of range/);
  const dir = tempDir('file');
  try {
    fs.writeFileSync(join(dir, 'plain-file'), '');
    const s = new FileSink({ loggerPath: join(dir, 'plain-file', 'logs') }); // ENOTDIR
    await assert.rejects(s.start(), { code: 'ANC_CONFIG_INVALID', message: /logger_path: cannot use .*plain-file\/logs \(ENOTDIR\): a part of the path is a file/ });
  } finally {
    removeDir(dir);
  }
});

test('never follows a symlink where the results log should be: refused, and its target untouched', async () => {
  const dir = tempDir('file');
  try {
    const victim = join(dir, 'victim');
    fs.writeFileSync(victim, 'root\'s file\n', { mode: 0o644 });
    const logs = join(dir, 'logs');
    fs.mkdirSync(logs, { mode: 0o700 });
    fs.symlinkSync(victim, join(logs, 'ancestryd.results.log'));
    const s = new FileSink({ loggerPath: logs });
    await assert.rejects(s.start(), { code: 'ANC_CONFIG_INVALID', message: /\(ELOOP\): it is a symlink, which ancestryd never follows/ });
    assert.equal(fs.readFileSync(victim, 'utf8'), 'root\'s file\n');
    assert.equal(fs.statSync(victim).mode & 0o777, 0o644, 'not chmod\'ed');
  } finally {
    removeDir(dir);
  }
});
