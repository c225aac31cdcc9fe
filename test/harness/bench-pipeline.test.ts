import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const BENCH = join(__dirname, '..', '..', 'tools', 'bench', 'bench-pipeline.js');
const USAGE = 'usage: npm run bench:pipeline -- [--execs 20000] [--reps 5] [--depth 6] [--pass-execs 20] [--pace-ms 0] [--pace-wait timer|block] [--out DIR]';
const dir = mkdtempSync(join(tmpdir(), 'anc-bench-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: string[]) {
  return spawnSync(process.execPath, [BENCH, '--out', dir, ...args], { encoding: 'utf8' });
}

/** The figures line: CPU, wall, GC and heap bytes per exec, each "median (min–max)". */
function figures(stdout: string): Record<string, number> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 2, stdout);
  const out: Record<string, number> = {};
  for (const m of lines[1].matchAll(/([A-Za-z µ/0-9]+?) (\d+\.\d\d) \((\d+\.\d\d)–(\d+\.\d\d)\)/g)) {
    const [min, med, max] = [Number(m[3]), Number(m[2]), Number(m[4])];
    assert.ok(min <= med && med <= max, lines[1]);
    out[m[1].trim()] = med;
  }
  return out;
}

test('bench:pipeline at its smallest replays, prints its figures and leaves no log behind', () => {
  const r = bench(['--execs', '1', '--reps', '1', '--depth', '1', '--pass-execs', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: 1 execs \(fork, exec, exit\) at depth 1, 1 execs per pass back to back, 1 reps after a warm-up, \d+ B per exec line/);
  const f = figures(r.stdout);
  assert.ok(f['CPU µs/exec'] > 0 && f['wall µs/exec'] > 0 && f['heap bytes allocated/exec'] > 0, r.stdout);
  assert.deepEqual(readdirSync(dir), []);
});

test('bench:pipeline at the deepest lineage writes longer lines, up to the replay table\'s 32 ancestors', () => {
  const bytes = (depth: string) => {
    const r = bench(['--execs', '50', '--reps', '1', '--depth', depth]);
    assert.equal(r.status, 0, r.stderr);
    return Number(/(\d+) B per exec line/.exec(r.stdout)![1]);
  };
  // Each ancestor at full detail is well over 100 B of the line; past 32 the walk stops (process_ancestry_max_depth),
  // so 28 more levels add only the reason it stopped, not 28 more ancestors.
  const [d1, d32, d60] = [bytes('1'), bytes('32'), bytes('60')];
  assert.ok(d32 > d1 + 31 * 100, `${d1} ${d32}`);
  assert.ok(d60 >= d32 && d60 < d32 + 1000, `${d32} ${d60}`);
});

for (const wait of ['timer', 'block']) {
  test(`bench:pipeline paced (--pace-wait ${wait}) sleeps its period between passes`, () => {
    // A pass after each of the 4 execs, each followed by 100 ms asleep: at least 100 ms of wall time per exec.
    const r = bench(['--execs', '4', '--reps', '1', '--pass-execs', '1', '--pace-ms', '100', '--pace-wait', wait]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`one pass every 100 ms \\(${wait === 'block' ? 'blocking in Atomics.wait' : 'on a timer'}\\)`));
    const f = figures(r.stdout);
    assert.ok(f['wall µs/exec'] >= 100_000, r.stdout);
    // Sleeping costs no CPU: far below the wall time.
    assert.ok(f['CPU µs/exec'] < f['wall µs/exec'] / 2, r.stdout);
  });
}

test('bench:pipeline at the longest pace, one pass', () => {
  const r = bench(['--execs', '1', '--reps', '1', '--pass-execs', '1', '--pace-ms', '1000', '--pace-wait', 'block']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(figures(r.stdout)['wall µs/exec'] >= 1_000_000, r.stdout);
});

test('a usage error stops bench:pipeline with the reason and the usage, exit 2', () => {
  for (const [args, reason] of [
    [['--execs', '0'], '--execs'],
    [['--reps', '0'], '--reps'],
    [['--depth', '0'], '--depth'],
    [['--depth', '61'], '--depth'],
    [['--pass-execs', '0'], '--pass-execs'],
    [['--pace-ms', '-1'], '--pace-ms'],
    [['--pace-ms', '1001'], '--pace-ms'],
    [['--pace-ms', '1.5'], '--pace-ms'],
    [['--pace-wait', 'spin'], '--pace-wait: expected one of timer, block'],
    [['--nope'], 'nope'],
  ] as const) {
    const r = bench([...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(r.stderr.includes(reason), r.stderr);
    assert.ok(r.stderr.includes(USAGE), r.stderr);
  }
});
