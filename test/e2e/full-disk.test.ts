/**
 * A full disk (issue 10 item 4), for real: a small tmpfs fills up under the
 * results log, and under a network output's spool. Nothing is lost
 * silently: the file output keeps its events queued and writes every one
 * once there is room again; stats and metrics show the condition; the error
 * is logged once, not once per drain pass; a full spool costs the file
 * output nothing.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';

const base = mkdtempSync(join(tmpdir(), 'anc-full-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(base, { recursive: true, force: true });
});

function tmpfs(name: string, size: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount tmpfs: ${r.stderr}`);
  mounts.push(dir);
  return dir;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface SinkStats { queued_events: number; send_failures: number; failing: string | null; dropped_events: Record<string, number> }

function sinkStats(d: DaemonHarness, sink: string): SinkStats {
  const r = d.cli(['stats', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { sinks: Record<string, SinkStats> }).sinks[sink];
}

/** Tagged execs found in every results log file under `dir` (rotated ones included). */
function tagsIn(dir: string, tag: string): number[] {
  const out: number[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('ancestryd.results.log'))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(new RegExp(`"cmdline":"/bin/true ${tag}-(\\d+)"`, 'g'))) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

describe('a full disk, on a real tmpfs', () => {
  it('results log: events wait while the disk is full, the condition shows, and every one is written once there is room', async () => {
    const logDir = tmpfs('log', '192k');
    const d = await DaemonHarness.create([`--logger_path=${logDir}`]);
    try {
      await d.start();
      const tag = `full-${process.pid}`;
      const n = 150; // ~6 KB each: far more than 192 KiB
      for (let i = 0; i < n; i++) assert.equal(spawnSync('/bin/true', [`${tag}-${i}`]).status, 0);
      let s = sinkStats(d, 'filesystem');
      for (let i = 0; i < 50 && (s.failing === null || s.queued_events === 0); i++) {
        await sleep(100);
        s = sinkStats(d, 'filesystem');
      }
      assert.match(s.failing ?? '', /ENOSPC/, 'stats name the full disk');
      assert.ok(s.queued_events > 0, 'events wait in the queue');
      assert.equal(await d.metric('ancestryd_sink_failing', '{sink="filesystem"}'), 1);
      assert.ok(await d.metric('ancestryd_sink_send_failures_total', '{sink="filesystem"}') >= 1);
      await sleep(1500); // retries with backoff meanwhile
      const complaints = d.stderr.split('\n').filter((l) => l.includes('ENOSPC')).length;
      assert.ok(complaints >= 1 && complaints <= 2, `the full disk was logged ${complaints} times`);

      assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', logDir]).status, 0);
      for (let i = 0; i < 100 && (s.queued_events > 0 || s.failing !== null); i++) {
        await sleep(100);
        s = sinkStats(d, 'filesystem');
      }
      assert.equal(s.queued_events, 0);
      assert.equal(s.failing, null);
      assert.equal(await d.metric('ancestryd_sink_failing', '{sink="filesystem"}'), 0);
      assert.deepEqual(Object.values(s.dropped_events).reduce((a, b) => a + b, 0), 0, 'nothing dropped');
      assert.equal(await d.stop(), 0);
      assert.deepEqual(tagsIn(logDir, tag), Array.from({ length: n }, (_, i) => i), 'every exec exactly once');
    } finally {
      await d.close();
    }
  });

  it('a daemon killed while its results-log disk is full loses nothing: the records stay in the pinned ring, the next daemon writes them', async () => {
    const logDir = tmpfs('log-kill', '192k');
    const pinRoot = `/sys/fs/bpf/anc-full-${process.pid}`;
    const d = await DaemonHarness.create([`--logger_path=${logDir}`, '--bpf_pin=true', `--bpf_pin_path=${pinRoot}`]);
    try {
      await d.start();
      const tag = `fullkill-${process.pid}`;
      const n = 150;
      for (let i = 0; i < n; i++) assert.equal(spawnSync('/bin/true', [`${tag}-${i}`]).status, 0);
      let held = 0;
      for (let i = 0; i < 50 && held === 0; i++) {
        await sleep(100);
        const r = d.cli(['stats', '--json']);
        held = (JSON.parse(r.stdout) as { ring: { held_bytes: number } }).ring.held_bytes;
      }
      assert.ok(held > 0, 'while the events wait in memory, their records stay in the ring');
      await d.kill();
      assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', logDir]).status, 0);
      await d.start();
      let got: number[] = [];
      for (let i = 0; i < 100 && new Set(got).size < n; i++) {
        await sleep(100);
        got = tagsIn(logDir, tag);
      }
      assert.equal(await d.stop(), 0);
      got = tagsIn(logDir, tag);
      assert.deepEqual([...new Set(got)], Array.from({ length: n }, (_, i) => i), 'every exec, after the kill');
      assert.ok(got.length - n <= n, `${got.length - n} written twice (replayed from the ring: recognisable by eid)`);
    } finally {
      await d.close();
      rmSync(pinRoot, { recursive: true, force: true });
    }
  });

  it('a full spool costs the file output nothing: the network output counts its losses, the results log has every event', async () => {
    const spoolDir = tmpfs('spool', '64k');
    const d = await DaemonHarness.create([
      `--spool_path=${spoolDir}`, '--logger_plugin=filesystem,kafka', '--logger_kafka_brokers=127.0.0.1:1', '--logger_kafka_topic=t',
    ]);
    try {
      await d.start();
      const tag = `fullspool-${process.pid}`;
      const n = 100;
      for (let i = 0; i < n; i++) assert.equal(spawnSync('/bin/true', [`${tag}-${i}`]).status, 0);
      let s = sinkStats(d, 'kafka');
      for (let i = 0; i < 50 && (s.dropped_events.write_error ?? 0) === 0; i++) {
        await sleep(100);
        s = sinkStats(d, 'kafka');
      }
      assert.ok((s.dropped_events.write_error ?? 0) > 0, `the kafka output counts what its full spool lost: ${JSON.stringify(s.dropped_events)}`);
      assert.ok(await d.metric('ancestryd_sink_events_dropped_total', '{sink="kafka",reason="write_error"}') > 0);
      const f = sinkStats(d, 'filesystem');
      assert.equal(f.failing, null);
      assert.equal(await d.stop(), 0);
      assert.deepEqual(tagsIn(join(d.dir, 'log'), tag), Array.from({ length: n }, (_, i) => i), 'the file output has every exec');
      const complaints = d.stderr.split('\n').filter((l) => l.includes('ENOSPC')).length;
      assert.ok(complaints >= 1 && complaints <= 10, `the full spool was logged ${complaints} times, not once per drain pass`);
    } finally {
      await d.close();
    }
  });
});
