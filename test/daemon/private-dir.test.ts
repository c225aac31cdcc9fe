import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAncestrydError } from '../../src/errors';
import { preparePrivateDir, trustProblems } from '../../src/private-dir';

describe('directories the daemon writes (logger_path, spool_path, pidfile, admin_socket)', () => {
  const base = mkdtempSync(join(tmpdir(), 'anc-private-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const refused = (dir: string, pattern: RegExp) => assert.throws(() => preparePrivateDir(dir, 'logger_path'),
    (err) => isAncestrydError(err, 'ANC_CONFIG_INVALID') && /^logger_path: /.test(err.message) && pattern.test(err.message));

  it('creates a missing one, parents included, 0700', () => {
    const dir = join(base, 'a', 'b', 'logs');
    preparePrivateDir(dir, 'logger_path');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('accepts an existing one of ours that only we may write (0755 included)', () => {
    const dir = join(base, 'ours');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    preparePrivateDir(dir, 'logger_path');
  });

  it('refuses one another user owns: a symlink planted there would make root append to or chmod its target', () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    refused(dir, /owner uid 65534, mode 0700\) may be written by another user/);
  });

  it('refuses one group or others may write, sticky or not', () => {
    for (const mode of [0o770, 0o777, 0o1777]) {
      const dir = join(base, `open-${mode.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, mode);
      refused(dir, new RegExp(`mode ${mode.toString(8).padStart(4, '0')}\\) may be written by another user`));
    }
  });

  it('refuses a symlink and a file in its place', () => {
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = join(base, 'link');
    symlinkSync(real, link);
    refused(link, /is a symlink: point logger_path at a real directory/);
  });
});

describe('trustProblems', () => {
  it('trusts a file of this user or of root that others cannot write; a secret others cannot read either', () => {
    const d = mkdtempSync(join(tmpdir(), 'anc-trust-'));
    try {
      const f = join(d, 'f');
      writeFileSync(f, 'x', { mode: 0o644 });
      assert.deepEqual(trustProblems('f', f, process.geteuid!(), false), []);
      if (process.geteuid!() === 0) {
        assert.deepEqual(trustProblems('f', f, 1000, false), [], 'root\'s file, trusted by any user');
        chownSync(f, 1001, 1001);
        assert.deepEqual(trustProblems('f', f, 1000, false), [`f ${f} is owned by uid 1001, not 1000`]);
        chownSync(f, 0, 0);
      }
      assert.deepEqual(trustProblems('f', f, process.geteuid!(), true), [`f ${f} has mode 0644: group or others may read it`]);
      chmodSync(f, 0o620);
      assert.deepEqual(trustProblems('f', f, process.geteuid!(), false), [`f ${f} has mode 0620: group or others may write it`]);
      assert.deepEqual(trustProblems('f', join(d, 'missing'), 0, true), [], 'a missing file is the reading option\'s to report');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('trustProblems with the directory', () => {
  it('trusts a root-owned directory for any user, refuses one another user owns or group or others may write', () => {
    const d = mkdtempSync(join(tmpdir(), 'anc-trustdir-'));
    try {
      const f = join(d, 'obj');
      writeFileSync(f, 'x', { mode: 0o644 });
      chmodSync(d, 0o755);
      if (process.geteuid!() === 0) assert.deepEqual(trustProblems('o', f, 65534, false, true), [], 'root\'s 0755 directory, for nobody');
      chmodSync(d, 0o775);
      assert.match(trustProblems('o', f, process.geteuid!(), false, true)[0], /^o's directory .* may be written by another user/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
