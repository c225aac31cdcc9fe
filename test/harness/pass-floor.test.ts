import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { ROOT } from '../support/paths';

const FLOOR = join(__dirname, '..', '..', 'tools', 'bench', 'pass-floor.js');
const dir = mkdtempSync(join(tmpdir(), 'anc-floor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FLOOR_C = join(ROOT, 'build', 'pass-floor-c');
const NODE_USAGE = 'usage: node dist/tools/bench/pass-floor.js --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1] [--wait timer|block] (secs: at most 3600)';

/** The three floors bench.ts sets beside each other: same flags, same output. */
const VARIANTS = [
  { name: 'pass-floor (Node, timer)', cmd: [process.execPath, FLOOR], usage: NODE_USAGE },
  { name: 'pass-floor --wait block (Node, Atomics.wait)', cmd: [process.execPath, FLOOR, '--wait', 'block'], usage: NODE_USAGE },
  {
    name: 'pass-floor-c (C, nanosleep)', cmd: [FLOOR_C],
    usage: 'usage: pass-floor-c --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1] (secs: at most 3600)',
  },
];

test('pass-floor-c is built', () => {
  assert.ok(existsSync(FLOOR_C), `${FLOOR_C} is missing: run "make"`);
});

for (const [v, variant] of VARIANTS.entries()) {
  const { name, cmd, usage } = variant;
  const floor = (args: string[]) => {
    const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], { encoding: 'utf8' });
    return { ...r, result: r.status === 0 ? JSON.parse(r.stdout) as { wakeups: number; cpu_us: number } : null };
  };

  test(`${name} counts the wakeups of its measured part, reports their CPU and leaves no file behind`, () => {
    const file = join(dir, `out-1-${v}`);
    // The shortest period, for a fraction of a second.
    const r = floor(['--file', file, '--period-ms', '1', '--bytes', '0', '--secs', '0.3', '--warmup-secs', '0']);
    assert.equal(r.status, 0, r.stderr);
    // A 1 ms timer fires at most ~300 times in 0.3 s; at least a few dozen on any machine that runs the tests.
    assert.ok(r.result!.wakeups >= 20 && r.result!.wakeups <= 300, r.stdout);
    assert.ok(r.result!.cpu_us > 0, r.stdout);
    assert.equal(existsSync(file), false);
  });

  test(`${name} writes its largest block on each wakeup`, () => {
    const file = join(dir, `out-2-${v}`);
    // 0.35 s at 100 ms, re-armed after each 16 MiB write: two or three writes, watched from outside until the tool removes the file.
    const r = spawnSync(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const { statSync } = require('node:fs');
      const cp = spawn(${JSON.stringify(cmd[0])}, [...${JSON.stringify(cmd.slice(1))}, '--file', ${JSON.stringify(file)}, '--period-ms', '100',
        '--bytes', String(16 * 1024 ** 2), '--secs', '0.35', '--warmup-secs', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let max = 0;
      const t = setInterval(() => { try { max = Math.max(max, statSync(${JSON.stringify(file)}).size); } catch {} }, 20);
      let out = '';
      cp.stdout.on('data', (d) => { out += d; });
      cp.on('exit', (code) => { clearInterval(t); console.log(JSON.stringify({ code, max, out })); });
    `], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as { code: number; max: number; out: string };
    assert.equal(seen.code, 0, r.stderr);
    const result = JSON.parse(seen.out) as { wakeups: number };
    assert.ok(result.wakeups >= 1 && result.wakeups <= 4, seen.out);
    assert.ok(seen.max >= 16 * 1024 ** 2, String(seen.max));
    assert.equal(existsSync(file), false);
  });

  test(`${name} at the longest period: no wakeup falls in a short window, and none is invented`, () => {
    const file = join(dir, `out-3-${v}`);
    const r = floor(['--file', file, '--period-ms', '10000', '--secs', '0.2', '--warmup-secs', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result!.wakeups, 0);
    assert.equal(existsSync(file), false);
  });

  test(`${name}: a window shorter than the period, after a warm-up, measures only the window`, () => {
    const file = join(dir, `out-4-${v}`);
    const r = floor(['--file', file, '--period-ms', '10000', '--secs', '0.1', '--warmup-secs', '0.2', '--bytes', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result!.wakeups, 0);
    // Asleep for the whole window: far less CPU than the ~30 ms a Node process spends starting, which a window
    // opened at the process's start instead would include.
    assert.ok(r.result!.cpu_us < 15_000, r.stdout);
  });

  test(`a usage error stops ${name} with the reason and the usage, exit 2`, () => {
    for (const [args, reason] of [
      [[], '--file is required'],
      [['--file', join(dir, 'x'), '--period-ms', '0'], '--period-ms'],
      [['--file', join(dir, 'x'), '--period-ms', '10001'], '--period-ms'],
      [['--file', join(dir, 'x'), '--period-ms', '1.5'], '--period-ms'],
      [['--file', join(dir, 'x'), '--period-ms', '15ms'], '--period-ms'],
      // Negative numbers after "=": as a separate word, both parsers take "-1" for a flag.
      [['--file', join(dir, 'x'), '--bytes=-1'], '--bytes'],
      [['--file', join(dir, 'x'), '--secs', '5', '--bytes'], '--bytes'],
      [['--file', '--secs', '5'], '--file'],
      [['--file', join(dir, 'x'), '--bytes', String(16 * 1024 ** 2 + 1)], '--bytes'],
      [['--file', join(dir, 'x'), '--secs', '0'], '--secs'],
      [['--file', join(dir, 'x'), '--secs', '3601'], '--secs'],
      [['--file', join(dir, 'x'), '--warmup-secs=-1'], '--warmup-secs'],
      [['--file', join(dir, 'x'), '--warmup-secs', '3601'], '--warmup-secs'],
      [['--file', join(dir, 'x'), '--nope'], 'nope'],
    ] as const) {
      const r = floor([...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.ok(r.stderr.includes(reason), r.stderr);
      assert.ok(r.stderr.includes(usage), r.stderr);
    }
  });
}

test('pass-floor --wait takes timer or block, nothing else', () => {
  for (const wait of ['', 'Block', 'c', 'nope']) {
    const r = spawnSync(process.execPath, [FLOOR, '--file', join(dir, 'x'), '--wait', wait], { encoding: 'utf8' });
    assert.equal(r.status, 2, wait);
    assert.ok(r.stderr.includes('--wait: expected one of timer, block'), r.stderr);
    assert.equal(existsSync(join(dir, 'x')), false);
  }
});
