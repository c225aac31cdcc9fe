/**
 * The kernel resolves the file an exec runs (issue 13): `exe` is its path
 * from the process's root, whatever name execve was given (`filename`).
 * Every way a name and the file can differ, on the real kernel.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecRecord } from '../../src/collector/decode';
import { ExecFlags } from '../../src/collector/layout';
import { CollectorHarness, run } from '../support/collector-harness';
import { requireBuilt, ROOT } from '../support/paths';
import { argvList } from '../../src/collector/byte-text';

const SHAPES = join(ROOT, 'build', 'exec-shapes');
const TRUE = realpathSync('/bin/true');

function spawned(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { ...opts, stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', resolve);
  });
}

describe('resolved executable paths on the real kernel', () => {
  let h: CollectorHarness;
  let dir: string;
  let tool: string;
  let n = 0;
  /** A tag no other exec carries. */
  const tag = () => `exe-path-${process.pid}-${++n}`;
  /** The exec tagged t (not exec-shapes' own exec, whose argv carries the tag too). */
  const execWith = (t: string) => h.waitFor(`the exec tagged ${t}`,
    (rs) => rs.find((r): r is ExecRecord => r.kind === 'exec' && argvList(r.argvText).includes(t) && r.filename !== SHAPES));
  const has = (r: ExecRecord, flag: number) => (r.flags & flag) !== 0;

  before(() => {
    requireBuilt(SHAPES);
    h = new CollectorHarness();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'anc-exe-')));
    tool = join(dir, 'tool');
    copyFileSync(TRUE, tool);
    chmodSync(tool, 0o755);
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a relative path: filename as given, exe absolute', async () => {
    const t = tag();
    assert.equal(await spawned('./tool', [t], { cwd: dir }), 0);
    const r = await execWith(t);
    assert.equal(r.filename, './tool');
    assert.equal(r.exe, tool);
    assert.ok(!has(r, ExecFlags.ET_EXEC_EXE_DELETED | ExecFlags.ET_EXEC_EXE_TRUNCATED | ExecFlags.ET_EXEC_INTERPRETED));
  });

  it('a symlink: exe is the file it points to', async () => {
    const link = join(dir, 'link-to-true');
    symlinkSync('/bin/true', link);
    const t = tag();
    await run(link, [t]);
    const r = await execWith(t);
    assert.equal(r.filename, link);
    assert.equal(r.exe, TRUE);
  });

  it('a PATH lookup: exe is the file found on PATH', async () => {
    const t = tag();
    assert.equal(await spawned('tool', [t], { env: { PATH: `/nonexistent:${dir}` } }), 0);
    const r = await execWith(t);
    assert.equal(r.exe, tool);
  });

  it('a deleted binary run through fexecve: exe is its last name, flagged deleted', async () => {
    const del = join(dir, 'deleted-tool');
    copyFileSync(TRUE, del);
    chmodSync(del, 0o755);
    const t = tag();
    await run(SHAPES, ['fexecve-deleted', del, t]);
    const r = await execWith(t);
    assert.match(r.filename, /^\/dev\/fd\/\d+$/, 'fexecve passes /dev/fd/N');
    assert.equal(r.exe, del);
    assert.ok(has(r, ExecFlags.ET_EXEC_EXE_DELETED), 'flagged deleted');
  });

  it('a memfd: exe names the memfd, flagged deleted (it has no name on any filesystem)', async () => {
    const t = tag();
    await run(SHAPES, ['memfd', 'anc-memfd', TRUE, t]);
    const r = await execWith(t);
    assert.match(r.filename, /^\/dev\/fd\/\d+$/);
    assert.equal(r.exe, '/memfd:anc-memfd');
    assert.ok(has(r, ExecFlags.ET_EXEC_EXE_DELETED));
  });

  it('a bind-mounted directory: exe is the path through the mount used', async () => {
    const a = join(dir, 'bind-src');
    const b = join(dir, 'bind-dst');
    mkdirSync(a);
    mkdirSync(b);
    copyFileSync(TRUE, join(a, 'tool'));
    chmodSync(join(a, 'tool'), 0o755);
    const m = spawnSync('mount', ['--bind', a, b], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    try {
      const t = tag();
      await run(join(b, 'tool'), [t]);
      const r = await execWith(t);
      assert.equal(r.exe, join(b, 'tool'));
    } finally {
      spawnSync('umount', [b]);
    }
  });

  it('a path longer than 255 bytes, through several long components', async () => {
    let deep = dir;
    for (let i = 0; i < 4; i++) deep = join(deep, `${'d'.repeat(90)}${i}`);
    mkdirSync(deep, { recursive: true });
    const long = join(deep, `${'t'.repeat(200)}`);
    copyFileSync(TRUE, long);
    chmodSync(long, 0o755);
    assert.ok(long.length > 255 + 200);
    const t = tag();
    await run(long, [t]);
    const r = await execWith(t);
    assert.equal(r.exe, long);
    assert.ok(!has(r, ExecFlags.ET_EXEC_EXE_TRUNCATED));
  });

  it('a #! script: exe is the interpreter, filename the script, flagged interpreted', async () => {
    const script = join(dir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o755);
    const t = tag();
    await run(script, [t]);
    const r = await execWith(t);
    assert.equal(r.filename, script);
    assert.equal(r.exe, realpathSync('/bin/sh'));
    assert.ok(has(r, ExecFlags.ET_EXEC_INTERPRETED));
    assert.deepEqual(argvList(r.argvText), ['/bin/sh', script, t], 'the kernel puts the interpreter and the script in argv');
  });

  it('a failed exec has no exe', async () => {
    const t = tag();
    await run('/bin/sh', ['-c', `${join(dir, 'missing')} ${t} 2>/dev/null; true`]);
    const r = await h.waitFor('the failed exec', (rs) => rs.find((x): x is ExecRecord => x.kind === 'exec_failed' && argvList(x.argvText).includes(t)));
    assert.equal(r.exe, '');
    assert.equal(r.filename, join(dir, 'missing'));
  });
});
