import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fake, resultLine, truthLine } from './fixture-lines';

const CHECK = join(__dirname, '..', '..', 'tools', 'check', 'check.js');
const dir = mkdtempSync(join(tmpdir(), 'anc-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, lines: string[], rotated: string[], truths: string[]) {
  const d = join(dir, name);
  mkdirSync(join(d, 'log'), { recursive: true });
  writeFileSync(join(d, 'truth.jsonl'), truths.join('\n') + '\n');
  writeFileSync(join(d, 'log', 'ancestryd.results.log.1'), rotated.join('\n') + '\n');
  writeFileSync(join(d, 'log', 'ancestryd.results.log'), lines.join('\n') + '\n');
  return spawnSync(process.execPath, [CHECK, '--truth', join(d, 'truth.jsonl'), '--log-dir', join(d, 'log'), '--json', join(d, 'r.json')], { encoding: 'utf8' });
}

test('check exits 0 when every truth exec is in the log (rotations included) with its lineage', () => {
  const a = fake('run7-0-1-300');
  const b = fake('run7-1-1-301', { pid: 301, mode: 'churn', parentNow: 1 });
  const r = run('good', [resultLine(b), resultLine(fake('other-0-1-5'))], [resultLine(a)], [truthLine(a), truthLine(b)]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Checker verdict: OK\*\* — 2 execs in the truth, 2 matched, 2 correct, 0 lost, 0 wrong/);
});

test('check exits 1 and shows expected vs got when an exec is lost or wrong', () => {
  const a = fake('run8-0-1-300');
  const b = fake('run8-0-2-301', { pid: 301 });
  const r = run('bad', [resultLine(a, { ancestry: [[200, 50], [100, 39], [1, 0]] })], [], [truthLine(a), truthLine(b)]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /1 lost, 1 wrong/);
  assert.match(r.stdout, /expected: pid 300@60, parent now 200, lineage 200@50 100@40 1@0/);
  assert.match(r.stdout, /got: +pid 300@60, current_parent 200, complete 1, ancestry 200@50 100@39 1@0/);
});

test('without --tag, the prefix is the first truth tag without worker, sequence and pid (hyphens kept)', () => {
  const a = fake('s1x-y-0-12-300');
  const r = run('prefix', [resultLine(a), resultLine(fake('s1x-0-1-5', { pid: 5 }))], [], [truthLine(a)]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 execs in the truth, 1 matched, 1 correct, 0 lost, 0 wrong, 0 duplicates, 0 unmatched/);
});

test('a usage error stops check with the reason and the usage, exit 2: unknown flag, bad value, missing file flags', () => {
  const usage = 'usage: check --truth FILE --log-dir DIR [--tag PREFIX] [--max-depth 32] [--json FILE]';
  const check = (...args: string[]) => spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8' });
  for (const [args, reason] of [
    [['--truth', 't', '--log-dir', 'd', '--max-dept', '12'], /Unknown option '--max-dept'/],
    [['--truth', 't', '--log-dir', 'd', '--max-depth', 'twelve'], /--max-depth: expected an integer >= 1, got "twelve"/],
    [['--truth', 't', '--log-dir'], /Option '--log-dir <value>' argument missing/],
    [['--truth', 't'], /--truth and --log-dir are required/],
  ] as const) {
    const r = check(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, reason);
    assert.ok(r.stderr.includes(usage), r.stderr);
  }
  const help = check('--help');
  assert.equal(help.status, 0);
  assert.equal(help.stdout, `${usage}\n`);
});
