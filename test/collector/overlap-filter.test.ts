/** The upgrade overlap: an event both rings saw is written once, and no genuine event is taken for one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecRecord, ForkRecord } from '../../src/collector/decode';
import { KernelChain } from '../../src/collector/kernel-chain';
import { OverlapFilter } from '../../src/collector/overlap-filter';
import { argvOf } from '../support/argv';

const MS = 1_000_000;

function exec(ktimeNs: number, tgid = 100, filename = '/bin/true'): ExecRecord {
  return {
    kind: 'exec', ktimeNs, tgid, tid: tgid, ppid: 1, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0, sessionid: 0, ret: 0, flags: 0,
    pidNs: 0, mntNs: 0, startNs: 5n, parentStartNs: 1n, cgroupId: 1n, comm: 'true', pgid: tgid, sid: 1, tty: 0, filename, exe: filename,
    ...argvOf([filename]), chain: KernelChain.EMPTY, peer: null,
  };
}

function fork(ktimeNs: number, child: number): ForkRecord {
  return { kind: 'fork', ktimeNs, parentTgid: 1, childTgid: child, parentStartNs: 1n, childStartNs: BigInt(child), cloneFlags: 0, creatorTgid: 1, uid: 0, comm: 'x' };
}

describe('OverlapFilter', () => {
  it('skips the new ring\'s copy of each event the old ring had, once per copy, even with one key twice', () => {
    const f = new OverlapFilter(1000 * MS, 1010 * MS);
    // The same process exec'ing the same file twice while both sets were attached.
    f.note(exec(1001 * MS));
    f.note(exec(1003 * MS));
    f.note(fork(1002 * MS, 7));
    assert.equal(f.isDuplicate(exec(1001 * MS + 2000)), true);
    assert.equal(f.isDuplicate(fork(1002 * MS + 1500, 7)), true);
    assert.equal(f.isDuplicate(exec(1003 * MS + 900)), true);
    assert.equal(f.skipped, 3);
    assert.equal(f.done, true);
    assert.equal(f.isDuplicate(exec(1004 * MS)), false, 'a third exec, seen by the new ring only, is written');
  });

  it('never takes a genuine event for a copy: same key, far apart in time', () => {
    const f = new OverlapFilter(1000 * MS, 1010 * MS);
    f.note(exec(1001 * MS)); // only in the old ring (before the new programs attached)
    assert.equal(f.isDuplicate(exec(1500 * MS)), false, 'the same exec again, 0.5 s later, only in the new ring');
    assert.equal(f.isDuplicate(exec(1001 * MS, 101)), false, 'another process');
    assert.equal(f.isDuplicate(exec(1001 * MS, 100, '/bin/false')), false, 'another file');
  });

  it('remembers nothing outside the window', () => {
    const f = new OverlapFilter(1000 * MS, 1010 * MS);
    f.note(exec(900 * MS));
    f.note(exec(3000 * MS));
    assert.equal(f.done, true);
  });
});
