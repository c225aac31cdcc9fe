/**
 * Issue 10 item 2 on the real kernel: a process cannot make an event line
 * too large to deliver, and an innocent event never shares a hostile one's
 * fate. Before the size budget, a chain of such execs made multi-megabyte
 * lines that Kafka refused with the innocent events batched beside them.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';

const MIB = 1024 * 1024;

/** Control bytes, which JSON escaping multiplies by 6 (by 7 in osquery's ancestry column); no NUL (argv cannot hold one). */
function hostile(bytes: number): string {
  let s = '';
  while (s.length < bytes) s += '\u0001\u001b[2J\r\u0007\u007f';
  return s.slice(0, bytes);
}

interface Row { columns: Record<string, string>; bytes: number }

const dir = mkdtempSync(join(tmpdir(), 'anc-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each level runs the next as a child (never exec), so every level is an ancestor of the last. */
const CHAIN = join(dir, 'chain.sh');
writeFileSync(CHAIN, 'if [ "$1" -gt 0 ]; then /bin/sh "$0" $(($1 - 1)) "$2" "$3"; else /bin/true "$3"; fi\n');

function rows(d: DaemonHarness): Row[] {
  return d.resultLines().map((l) => {
    assert.ok(Buffer.byteLength(l) < MIB, `a line of ${Buffer.byteLength(l)} bytes`);
    return { ...(JSON.parse(l) as Row), bytes: Buffer.byteLength(l) + 1 };
  });
}

describe('event size budget, from the real kernel', () => {
  it('32 levels of 4 KiB hostile argv: every line under 1 MiB at the defaults, the cut flagged, the next innocent exec intact', async () => {
    const d = await DaemonHarness.create();
    try {
      await d.start();
      const tag = `size-chain-${process.pid}`;
      // The test runner's own ancestors may be cut too (node --test with every file is over 1 KiB).
      assert.equal(spawnSync('/bin/echo', [`${tag}-before`]).status, 0);
      const r = spawnSync('/bin/sh', [CHAIN, '31', hostile(4096), tag]);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(spawnSync('/bin/echo', [`${tag}-innocent`]).status, 0);
      assert.equal(await d.stop(), 0);
      const all = rows(d);
      const bottom = all.find((x) => x.columns.cmdline === `/bin/true ${tag}`);
      assert.ok(bottom, 'the exec at the bottom of the chain');
      const a = JSON.parse(bottom.columns.ancestry) as { cmdline: string; truncated?: boolean }[];
      const levels = a.filter((e) => e.cmdline.includes(CHAIN));
      assert.ok(levels.length >= 31, `${levels.length} hostile levels in its ancestry`);
      for (const e of levels) {
        assert.equal(e.truncated, true);
        assert.ok(Buffer.byteLength(e.cmdline) <= 1024);
      }
      assert.deepEqual(bottom.columns.overflows.split(','), ['ancestry']);
      const before = all.find((x) => x.columns.cmdline === `/bin/echo ${tag}-before`);
      const innocent = all.find((x) => x.columns.cmdline === `/bin/echo ${tag}-innocent`);
      assert.ok(before && innocent, 'the innocent execs before and after the chain');
      assert.equal(innocent.columns.overflows, before.columns.overflows, 'the chain\'s cut elements do not flag a later line');
      assert.equal(innocent.columns.ancestry, before.columns.ancestry.replace(/-before/g, '-innocent'), 'the same ancestry as before the chain');
    } finally {
      await d.close();
    }
  });

  it('event_max_bytes at its minimum: a 32 KiB hostile argv is written reduced under it, flagged and counted, never dropped', async () => {
    const max = 64 * 1024;
    const d = await DaemonHarness.create([`--event_max_bytes=${max}`, '--bpf_argv_max_bytes=32768', '--process_ancestry_field_max_bytes=32768']);
    try {
      await d.start();
      const tag = `size-line-${process.pid}`;
      assert.equal(spawnSync('/bin/echo', [`${tag}-before`]).status, 0);
      const argv = [hostile(16 * 1024), hostile(16 * 1024 - 64), tag];
      assert.equal(spawnSync('/bin/true', argv).status, 0);
      assert.equal(spawnSync('/bin/echo', [`${tag}-innocent`]).status, 0);
      for (let i = 0; i < 50 && await d.metric('ancestryd_events_truncated_total', '{what="event"}') < 1; i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(await d.metric('ancestryd_events_truncated_total', '{what="event"}'), 1);
      assert.equal(await d.stop(), 0);
      const all = rows(d);
      const big = all.filter((x) => x.columns.overflows?.includes('event'));
      assert.equal(big.length, 1, 'the hostile exec has one line, reduced');
      assert.match(big[0].columns.path, /\/true$/);
      assert.ok(big[0].bytes <= max, `${big[0].bytes} bytes`);
      assert.deepEqual(big[0].columns.overflows.split(','), ['cmdline', 'event'].filter((f) => f !== 'cmdline' || big[0].columns.argv_truncated === '1'));
      assert.ok(/^\[("[^"]+",?)+\]$/.test(big[0].columns.ancestry), 'its ancestry as entity ids');
      assert.equal(Number(big[0].columns.cmdline_size), Buffer.byteLength(['/bin/true', ...argv].join(' ')));
      const before = all.find((x) => x.columns.cmdline === `/bin/echo ${tag}-before`);
      const innocent = all.find((x) => x.columns.cmdline === `/bin/echo ${tag}-innocent`);
      assert.ok(before && innocent, 'the innocent execs before and right after it');
      assert.equal(innocent.columns.overflows, before.columns.overflows);
      assert.ok(!innocent.columns.overflows.includes('event'));
    } finally {
      await d.close();
    }
  });
});
