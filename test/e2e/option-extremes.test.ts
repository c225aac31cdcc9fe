/**
 * This session's options at the ends of their ranges, on the real kernel
 * (the other ends run in size-budget, cache-auto and redaction tests):
 * process_ancestry_field_max_bytes=64, event_max_bytes=64 MiB,
 * process_ancestry_cache_max_bytes at 16 GiB and 1 MiB with
 * process_ancestry_cache_size=auto, and 64 cmdline_redaction_patterns.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';

interface Row { columns: { cmdline: string; ancestry: string; overflows: string } }

async function run(extra: string[], tag: string): Promise<Row[]> {
  const d = await DaemonHarness.create(extra);
  try {
    await d.start();
    const r = spawnSync('/bin/sh', ['-c', '/bin/true "$0"', tag, `--password=secret-${tag}`, 'x'.repeat(200)]);
    assert.equal(r.status, 0);
    assert.equal(await d.stop(), 0);
    return d.resultLines().map((l) => JSON.parse(l) as Row);
  } finally {
    await d.close();
  }
}

describe('new options at the ends of their ranges', () => {
  it('field cap 64 B, line cap 64 MiB, cache budget 16 GiB, 64 redaction patterns', async () => {
    const tag = `ext-hi-${process.pid}`;
    const patterns = JSON.stringify(['default', ...Array.from({ length: 63 }, (_, i) => `never-matches-${i}=(\\S+)`)]);
    const rows = await run(['--process_ancestry_field_max_bytes=64', '--event_max_bytes=64MiB', '--process_ancestry_cache_size=auto',
      '--process_ancestry_cache_max_bytes=16GiB', `--cmdline_redaction_patterns=${patterns}`], tag);
    const child = rows.find((x) => x.columns.cmdline === `/bin/true ${tag}`);
    assert.ok(child, 'the exec');
    const parent = (JSON.parse(child.columns.ancestry) as { cmdline: string; truncated?: boolean }[])[0];
    assert.ok(Buffer.byteLength(parent.cmdline) <= 64, parent.cmdline);
    assert.equal(parent.truncated, true);
    assert.ok(child.columns.overflows.split(',').includes('ancestry'));
    assert.ok(!JSON.stringify(rows).includes(`secret-${tag}`), 'redacted with the longest list');
  });

  it('cache budget 1 MiB with auto', async () => {
    const tag = `ext-lo-${process.pid}`;
    const rows = await run(['--process_ancestry_cache_size=auto', '--process_ancestry_cache_max_bytes=1MiB'], tag);
    assert.ok(rows.some((x) => x.columns.cmdline === `/bin/true ${tag}`));
  });
});
