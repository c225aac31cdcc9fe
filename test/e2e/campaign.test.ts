/**
 * The bad-input campaign (issue 10), run as its users run it: every
 * category, a smaller seeded set of cases, on the real kernel. It fails on
 * any crash or any innocent event lost (tools/campaign/bad-input.ts).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT } from '../support/paths';

it('bad-input campaign: 0 crashes and 0 innocent events lost in every category', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'campaign', 'bad-input.js'), '--cases', '600', '--seed', '7'],
    { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /PASS: 0 crashes, 0 innocent events lost/);
  for (const c of ['ring records', 'config files', 'server replies', 'admin requests', 'hostile execs']) assert.match(r.stdout, new RegExp(`^${c} `, 'm'));
});
