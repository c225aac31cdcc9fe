/**
 * process_ancestry_cache_size=auto on the real kernel (issue 12 part 3):
 * 6 000 live processes and churn overflow the default 4 096 entries; with
 * auto the capacity follows within seconds, evictions of needed entries and
 * misses stop, and the memory budget holds. The fixed default, run the same
 * way, keeps evicting live processes: the control that shows the load
 * overflows it.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';
import { ROOT } from '../support/paths';

const PROCGEN = join(ROOT, 'build', 'procgen');
const dir = mkdtempSync(join(tmpdir(), 'anc-cacheauto-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** procgen hold: `n` processes alive until the returned stop(). */
async function hold(n: number, tag: string): Promise<() => Promise<void>> {
  const cp = spawn(PROCGEN, ['hold', '--count', String(n), '--workers', '2', '--duration', '600', '--truth', join(dir, `${tag}.truth`), '--tag', tag],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const it = createInterface({ input: cp.stdout! })[Symbol.asyncIterator]();
  const first = JSON.parse(String((await it.next()).value)) as { held: number };
  assert.equal(first.held, n);
  return async () => {
    cp.kill('SIGTERM');
    await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
  };
}

interface Sample { neededEvictions: number; misses: number; capacity: number; bytes: number }

async function sample(d: DaemonHarness): Promise<Sample> {
  return {
    neededEvictions: await d.metric('ancestryd_ancestry_cache_evictions_total', '{kind="live"}')
      + await d.metric('ancestryd_ancestry_cache_evictions_total', '{kind="pinned"}'),
    misses: await d.metric('ancestryd_ancestry_cache_misses_total'),
    capacity: await d.metric('ancestryd_ancestry_cache_capacity_entries'),
    bytes: await d.metric('ancestryd_ancestry_cache_bytes'),
  };
}

interface Stats { cache_tombstone_bytes: number; cache_auto: unknown }

/** 6 000 held processes, then churn; a sample per second for 9 s. */
async function overflow(args: string[], tag: string): Promise<{ samples: Sample[]; stderr: string; stats: Stats }> {
  const d = await DaemonHarness.create(args);
  let stop: (() => Promise<void>) | null = null;
  let churn: ChildProcess | null = null;
  try {
    await d.start();
    stop = await hold(6000, tag);
    // Churn outlasts the 9 samples: its end (orphans still exec'ing as procgen exits) is not the load the samples judge.
    churn = spawn(PROCGEN, ['churn', '--workers', '1', '--duration', '12', '--rate', '300'], { stdio: 'ignore' });
    const samples: Sample[] = [];
    for (let i = 0; i < 9; i++) {
      await sleep(1000);
      samples.push(await sample(d));
    }
    const r = d.cli(['stats', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return { samples, stderr: d.stderr, stats: JSON.parse(r.stdout) as Stats };
  } finally {
    churn?.kill();
    if (stop) await stop();
    await d.close();
  }
}

describe('process_ancestry_cache_size=auto, from the real kernel', () => {
  it('6 000 live processes with churn: the fixed 4 096 keeps evicting live ones; auto stops evicting and missing within seconds, within its budget', async (t) => {
    const show = (name: string, xs: Sample[]) => t.diagnostic(`${name}: per second, needed evictions / misses / capacity / cache bytes: `
      + xs.map((x) => `${x.neededEvictions}/${x.misses}/${x.capacity}/${x.bytes}`).join(' '));
    const fixed = await overflow([], 'cfixed');
    show('fixed 4096', fixed.samples);
    assert.ok(fixed.samples.at(-1)!.neededEvictions > 0, 'the load overflows the default size');
    assert.equal(fixed.samples.at(-1)!.capacity, 4096);

    const budget = 32 * 1024 * 1024;
    const auto = await overflow(['--process_ancestry_cache_size=auto', `--process_ancestry_cache_max_bytes=${budget}`], 'cauto');
    const s = auto.samples;
    show('auto', s);
    const late = s.slice(-5); // the last 5 s: "within seconds" of the load
    assert.equal(late.at(-1)!.neededEvictions - late[0].neededEvictions, 0, `needed entries evicted late: ${JSON.stringify(late)}`);
    assert.equal(late.at(-1)!.misses - late[0].misses, 0, `misses late: ${JSON.stringify(late)}`);
    assert.ok(s.at(-1)!.capacity >= 9000, `capacity ${s.at(-1)!.capacity} fits 6 000 live processes with room`);
    for (const x of s) assert.ok(x.bytes <= budget, `cache bytes ${x.bytes} within the budget`);
    assert.ok(auto.stderr.includes('process_ancestry_cache_size=auto: capacity changed'), 'each change is logged');
  });

  it('a budget too small for the load holds: the capacity stops where the budget is spent, and stats say so', async () => {
    const budget = 2 * 1024 * 1024;
    const { samples, stats } = await overflow(['--process_ancestry_cache_size=auto', `--process_ancestry_cache_max_bytes=${budget}`], 'csmall');
    const last = samples.at(-1)!;
    assert.ok(last.capacity < 6000, `capacity ${last.capacity} held below the load`);
    // Entries with details cost at least 560 B each (the table's estimate); tombstones of evicted live processes are outside the budget.
    assert.ok(last.capacity * 560 <= budget, `capacity ${last.capacity} × 560 B within 2 MiB`);
    assert.ok(last.bytes - stats.cache_tombstone_bytes <= budget * 1.1, `entry bytes ${last.bytes - stats.cache_tombstone_bytes}`);
    assert.deepEqual(stats.cache_auto, { budget_bytes: budget, limited_by_budget: true });
  });
});
