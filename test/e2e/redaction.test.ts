/**
 * cmdline_redaction_patterns on the real kernel (issue 10 item 11): a
 * password in argv reaches no output — not the exec's own line, not the
 * ancestry of its children, not a process read from /proc at start.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';

interface Row { columns: { cmdline: string; ancestry: string } }

describe('command-line redaction, from the real kernel', () => {
  it('masks a password in the exec, in its children\'s ancestry and in a process bootstrapped from /proc', async () => {
    const secret = `hunter2-${process.pid}`;
    // Started before the daemon: known from /proc; its child execs once the daemon is ready (the file appears).
    const go = join(tmpdir(), `anc-redact-go-${process.pid}`);
    rmSync(go, { force: true });
    const early = spawn('/bin/sh', ['-c', 'while [ ! -e "$1" ]; do sleep 0.05; done; /bin/true "$0"', `early-${process.pid}`, go,
      `--password=${secret}-early`], { stdio: 'ignore' });
    const d = await DaemonHarness.create();
    try {
      await d.start();
      writeFileSync(go, '');
      const tag = `redact-${process.pid}`;
      const r = spawnSync('/bin/sh', ['-c', '/bin/true "$0"', tag, `PGPASSWORD=${secret}`, '--token', `${secret}-t`]);
      assert.equal(r.status, 0);
      assert.equal(spawnSync('/bin/echo', ['--password', `${secret}-echo`, `https://u:${secret}-url@example.invalid/`]).status, 0);
      await new Promise<void>((res) => early.on('exit', () => res()));
      assert.equal(await d.stop(), 0);
      const text = d.resultLines().join('\n');
      assert.ok(!text.includes(secret), 'the secret appears nowhere in the results log');
      const rows = d.resultLines().map((l) => JSON.parse(l) as Row);
      const sh = rows.find((x) => x.columns.cmdline.startsWith('/bin/sh -c /bin/true "$0" ' + tag));
      assert.ok(sh, 'the shell\'s exec');
      assert.equal(sh.columns.cmdline, `/bin/sh -c /bin/true "$0" ${tag} PGPASSWORD=***** --token *****`);
      const child = rows.find((x) => x.columns.cmdline === `/bin/true ${tag}`);
      assert.ok(child, 'its child');
      assert.equal((JSON.parse(child.columns.ancestry) as { cmdline: string }[])[0].cmdline, sh.columns.cmdline);
      assert.ok(rows.some((x) => x.columns.cmdline === '/bin/echo --password ***** https://u:*****@example.invalid/'));
      const late = rows.find((x) => x.columns.cmdline === `/bin/true early-${process.pid}`);
      assert.ok(late, 'the bootstrapped shell\'s child');
      assert.match((JSON.parse(late.columns.ancestry) as { cmdline: string }[])[0].cmdline, /--password=\*\*\*\*\*$/);
    } finally {
      early.kill();
      rmSync(go, { force: true });
      await d.close();
    }
  });

  it('cmdline_redaction_patterns=[] turns it off', async () => {
    const d = await DaemonHarness.create(['--cmdline_redaction_patterns=[]']);
    try {
      await d.start();
      const plain = `--password=visible-${process.pid}`;
      assert.equal(spawnSync('/bin/echo', [plain]).status, 0);
      assert.equal(await d.stop(), 0);
      assert.ok(d.resultLines().some((l) => (JSON.parse(l) as Row).columns.cmdline === `/bin/echo ${plain}`));
    } finally {
      await d.close();
    }
  });
});
