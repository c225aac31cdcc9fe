import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAncestrydError } from '../../src/errors';
import { EXIT, exitCodeFor } from '../../src/daemon/exit-codes';
import { acquirePidfile, looksLikeAncestryd, processIdentity } from '../../src/daemon/pidfile';

const dir = mkdtempSync(join(tmpdir(), 'ancestryd-pid-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `run${n++}`, 'ancestryd.pid');

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('pidfile lock', () => {
  it('creates the pidfile with our pid and removes it on release (idempotent)', () => {
    const path = fresh();
    const lock = acquirePidfile(path);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n${processIdentity(process.pid)}\n`);
    assert.match(readFileSync(path, 'utf8'), /^\d+\n\d+ [0-9a-f-]{36}\n$/, 'pid, then start ticks and boot id');
    assert.deepEqual(readdirSync(join(path, '..')), ['ancestryd.pid'], 'no temp file left behind');
    lock.release();
    lock.release();
    assert.equal(existsSync(path), false);
  });

  it('refuses a second instance while the first runs', async () => {
    const path = fresh();
    // A stand-in daemon: any live process, recorded with its identity.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    try {
      await new Promise<void>((resolve) => other.once('spawn', () => resolve()));
      acquirePidfile(path, { pid: other.pid! }); // the stand-in holds the lock
      assert.throws(() => acquirePidfile(path), (err) => {
        assert.ok(isAncestrydError(err, 'ANC_ALREADY_RUNNING'));
        assert.equal(err.message, `ancestryd is already running (pid ${other.pid}, pidfile ${path}): stop it first (systemctl stop ancestryd)`);
        assert.equal(exitCodeFor(err), EXIT.ALREADY_RUNNING);
        return true;
      });
      assert.equal(readFileSync(path, 'utf8'), `${other.pid}\n${processIdentity(other.pid!)}\n`, 'the running daemon keeps its pidfile');
    } finally {
      const exited = new Promise<void>((resolve) => other.once('exit', () => resolve()));
      other.kill('SIGKILL');
      await exited;
    }
  });

  it('replaces a stale pidfile: process gone, or a pid reused by another program, or our own pid', () => {
    const [ticks, boot] = processIdentity(1)!.split(' ');
    const stales = [
      `${deadPid()}\n`,
      `1\n${Number(ticks) + 1} ${boot}\n`, // pid 1 is alive, but not the process that wrote this
      `${process.pid}\n${processIdentity(process.pid)}\n`,
    ];
    for (const stale of stales) {
      const path = fresh();
      acquirePidfile(path).release();
      writeFileSync(path, stale);
      const lock = acquirePidfile(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n${processIdentity(process.pid)}\n`, `pidfile ${JSON.stringify(stale)} was stale`);
      lock.release();
    }
    const garbage = fresh();
    acquirePidfile(garbage).release();
    writeFileSync(garbage, 'not a pid');
    acquirePidfile(garbage).release();
  });

  it('leaves a pidfile that is no longer ours on release', () => {
    const path = fresh();
    const lock = acquirePidfile(path);
    writeFileSync(path, '999999\n');
    lock.release();
    assert.equal(readFileSync(path, 'utf8'), '999999\n');
  });

  it('issue 10: a reused pid whose process merely names ancestryd (tail -f of the results log) is not a running daemon', async () => {
    const path = fresh();
    const tail = spawn('tail', ['-f', '/dev/null', join(dir, 'ancestryd.results.log')], { stdio: 'ignore' });
    try {
      await new Promise<void>((resolve) => tail.once('spawn', () => resolve()));
      assert.ok(looksLikeAncestryd(readFileSync(`/proc/${tail.pid}/cmdline`, 'utf8').split('\0')), 'its command line names ancestryd');
      // The daemon that wrote this died; its pid now belongs to tail.
      const [ticks, boot] = processIdentity(tail.pid!)!.split(' ');
      acquirePidfile(path).release();
      writeFileSync(path, `${tail.pid}\n${Number(ticks) - 1} ${boot}\n`);
      const lock = acquirePidfile(path);
      assert.equal(readFileSync(path, 'utf8').split('\n')[0], String(process.pid));
      lock.release();
      // An older version's pidfile (pid only) still falls back to the command-line check.
      writeFileSync(path, `${tail.pid}\n`);
      assert.throws(() => acquirePidfile(path), (err) => isAncestrydError(err, 'ANC_ALREADY_RUNNING'));
    } finally {
      const exited = new Promise<void>((resolve) => tail.once('exit', () => resolve()));
      tail.kill('SIGKILL');
      await exited;
    }
  });

  it('names the option when the path cannot be used', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    assert.throws(() => acquirePidfile(join(blocker, 'ancestryd.pid')), (err) =>
      isAncestrydError(err, 'ANC_CONFIG_INVALID') && /^pidfile: .*a-file is not a directory: point pidfile at a real directory/.test(err.message));
  });
});
