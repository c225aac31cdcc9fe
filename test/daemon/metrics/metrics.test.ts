import type { PinReport } from '../../../src/collector/collector';
import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import type { Collector, KernelCounters } from '../../../src/collector';
import type { SinkDriver } from '../../../src/sinks/sink-driver';
import type { DrainStats } from '../../../src/collector/ring-drain';
import type { AncestryStats, ProcessTable } from '../../../src/ancestry';
import { LATENCY_BUCKETS_SECONDS, Metrics, type AncestrySource, type CollectorStatsSource } from '../../../src/daemon/metrics/metrics';

let open: Metrics[] = [];
function metrics(defaultMetrics = false): Metrics {
  const m = new Metrics({ defaultMetrics });
  open.push(m);
  return m;
}
afterEach(() => {
  for (const m of open) m.close();
  open = [];
});

/** The value of one sample line of the exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function ancestryStats(over: Partial<AncestryStats> = {}): AncestryStats {
  return {
    hits: 0, misses: 0, evictions: 0, evictionsExited: 0, evictionsLive: 0, evictionsPinned: 0, expired: 0, size: 0, live: 0,
    exited: 0, pinned: 0, evictedLive: 0, tombstones: 0, estimatedBytes: 0, tombstoneBytes: 0, procfsReads: 0, procfsPartialReads: 0,
    procfsFailures: { gone: 0, denied: 0, raced: 0, malformed: 0, pid_reused: 0 }, resyncs: 0, lineages: 0,
    incomplete: { depth_cap: 0, evicted: 0, exited_before_start: 0, events_lost: 0 },
    skipped: { invalid_record: 0, task_in_stream: 0, unknown_kind: 0, exit_unknown: 0, exit_duplicate: 0, internal_error: 0 },
    execsWithoutFork: 0, exitsInferred: 0, kernelDrops: 0, ...over,
  };
}

function fakeCollector(): CollectorStatsSource & { c: KernelCounters; d: DrainStats } {
  const c: KernelCounters = { exec: { emitted: 10, dropped: 1 }, exec_failed: { emitted: 2, dropped: 0 }, fork: { emitted: 9, dropped: 3 }, exit: { emitted: 8, dropped: 0 } };
  const d: DrainStats = { records: 29, discarded: 0, batches: 4, wakeups: 3, timeouts: 1, sleeps: 0, missedWakeups: 0, waitErrors: 0, handlerErrors: 0, pendingBytes: 4096 };
  const pin: PinReport = {
    state: 'adopted', dir: '/sys/fs/bpf/ancestryd/w2-0123456789abcdef', backlogBytes: 8192, openMs: 3,
    droppedWhileDown: { exec: 1, exec_failed: 0, fork: 0, exit: 0 }, replaced: [], overlapDuplicates: 0, problem: null,
  };
  return { c, d, counters: () => c, drainStats: d, ringBytes: 1 << 24, pin, heldBytes: 0 };
}

// The real components plug in as they are (checked by the compiler).
export type TableFits = ProcessTable extends AncestrySource ? true : never;
export const tableFits: TableFits = true;
export type CollectorFits = Collector extends CollectorStatsSource ? true : never;
export const collectorFits: CollectorFits = true;
export type SinkStatsFit = ReturnType<SinkDriver['stats']> extends ReturnType<Parameters<Metrics['sink']>[1] & object> ? true : never;
export const sinkStatsFit: SinkStatsFit = true;

describe('Metrics', () => {
  it('names every metric ancestryd_<area>_<thing>_<unit>[_total], with HELP text', async () => {
    const m = metrics(true);
    const names = m.metricNames();
    for (const name of names) assert.match(name, /^ancestryd_[a-z0-9_]+$/, name);
    const text = await m.expose();
    for (const metric of m.registry.getMetricsAsArray()) {
      assert.match(text, new RegExp(`^# HELP ${metric.name} \\S`, 'm'), `${metric.name} has HELP`);
      const type = /^# TYPE (\S+) (\S+)$/m.exec(text.slice(text.indexOf(`# TYPE ${metric.name} `)))!;
      if (type[2] === 'counter') assert.match(metric.name, /_total$/, `counter ${metric.name} ends in _total`);
    }
    for (const required of [
      'ancestryd_events_total', 'ancestryd_ring_records_total', 'ancestryd_ring_records_lost_total', 'ancestryd_decode_failures_total',
      'ancestryd_ancestry_cache_hits_total', 'ancestryd_ancestry_cache_misses_total', 'ancestryd_ancestry_cache_entries',
      'ancestryd_ancestry_cache_bytes', 'ancestryd_ancestry_cache_evictions_total', 'ancestryd_ancestry_cache_expired_total',
      'ancestryd_ancestry_cache_procfs_reads_total', 'ancestryd_ancestry_procfs_partial_reads_total', 'ancestryd_ancestry_cache_resyncs_total', 'ancestryd_ancestry_incomplete_total',
      'ancestryd_sink_events_sent_total', 'ancestryd_sink_send_failures_total', 'ancestryd_sink_events_retried_total',
      'ancestryd_sink_spool_bytes', 'ancestryd_sink_events_dropped_total', 'ancestryd_sink_lag_seconds',
      'ancestryd_event_latency_seconds', 'ancestryd_ring_pending_bytes',
      'ancestryd_process_resident_memory_bytes', 'ancestryd_process_cpu_seconds_total',
    ]) assert.ok(names.includes(required), `${required} is defined`);
  });

  it('copies the pipeline tallies into the counters at scrape time', async () => {
    const m = metrics();
    let text = await m.expose();
    assert.equal(sample(text, 'ancestryd_events_total{type="exec"}'), 0, 'series exist before the first event');
    m.tallies.events.exec += 1000;
    m.tallies.events.fork += 7;
    m.tallies.ringRecords.exec += 1010;
    m.tallies.decodeFailures.short_record += 2;
    text = await m.expose();
    assert.equal(sample(text, 'ancestryd_events_total{type="exec"}'), 1000);
    assert.equal(sample(text, 'ancestryd_events_total{type="fork"}'), 7);
    assert.equal(sample(text, 'ancestryd_ring_records_total{kind="exec"}'), 1010);
    assert.equal(sample(text, 'ancestryd_decode_failures_total{reason="short_record"}'), 2);
    m.tallies.events.exec += 1;
    assert.equal(sample(await m.expose(), 'ancestryd_events_total{type="exec"}'), 1001, 'a second scrape sees the new total, not a double count');
  });

  it('reads the collector and the process table through their sources', async () => {
    const m = metrics();
    const col = fakeCollector();
    m.setCollector(col);
    const table: AncestrySource = {
      cacheSize: 2000,
      stats: ancestryStats({
        hits: 90, misses: 10, size: 500, estimatedBytes: 123456, evictions: 4, evictionsExited: 3, evictionsLive: 1, expired: 5,
        procfsReads: 6, procfsPartialReads: 2, resyncs: 1, procfsFailures: { gone: 2, denied: 0, raced: 1, malformed: 0, pid_reused: 0 },
        incomplete: { depth_cap: 3, evicted: 0, exited_before_start: 1, events_lost: 0 },
      }),
    };
    m.setAncestry(table);
    const text = await m.expose();
    assert.equal(sample(text, 'ancestryd_ring_records_lost_total{kind="fork"}'), 3);
    assert.equal(sample(text, 'ancestryd_ring_pending_bytes'), 4096);
    assert.equal(sample(text, 'ancestryd_ring_size_bytes'), 1 << 24);
    assert.equal(sample(text, 'ancestryd_ring_drain_batches_total'), 4);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_hits_total'), 90);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_entries'), 500);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_capacity_entries'), 2000);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_resyncs_total'), 1);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_bytes'), 123456);
    assert.equal(sample(text, 'ancestryd_ancestry_cache_evictions_total{kind="exited"}'), 3);
    assert.equal(sample(text, 'ancestryd_ancestry_procfs_failures_total{reason="gone"}'), 2);
    assert.equal(sample(text, 'ancestryd_ancestry_procfs_partial_reads_total'), 2);
    assert.equal(sample(text, 'ancestryd_ancestry_incomplete_total{reason="depth_cap"}'), 3);
    assert.equal(sample(text, 'ancestryd_ancestry_records_skipped_total{reason="internal_error"}'), 0);
    col.c.fork.dropped = 5;
    assert.equal(sample(await m.expose(), 'ancestryd_ring_records_lost_total{kind="fork"}'), 5);
    // A source that fails while closing keeps the last values instead of failing the scrape.
    m.setCollector({ ...col, counters: () => { throw new Error('closed'); } });
    assert.equal(sample(await m.expose(), 'ancestryd_ring_records_lost_total{kind="fork"}'), 5);
  });

  it('adapts SinkDriver metrics per batch, with lag and spool gauges read at scrape', async () => {
    const m = metrics();
    const stats = { spooledBytes: 4096, unreadEvents: 12, lagSeconds: 1.5 };
    const sm = m.sink('kafka', () => stats);
    sm.delivered(100, 20000, 0.004);
    sm.delivered(50, 10000, 2);
    sm.retried(50, 'broker down');
    sm.rejected(3, 'too large');
    sm.dropped(7, 'queue_full');
    const text = await m.expose();
    assert.equal(sample(text, 'ancestryd_sink_events_sent_total{sink="kafka"}'), 150);
    assert.equal(sample(text, 'ancestryd_sink_sent_bytes_total{sink="kafka"}'), 30000);
    assert.equal(sample(text, 'ancestryd_sink_events_retried_total{sink="kafka"}'), 50);
    assert.equal(sample(text, 'ancestryd_sink_events_rejected_total{sink="kafka"}'), 3);
    assert.equal(sample(text, 'ancestryd_sink_send_failures_total{sink="kafka"}'), 2);
    assert.equal(sample(text, 'ancestryd_sink_events_dropped_total{sink="kafka",reason="queue_full"}'), 7);
    assert.equal(sample(text, 'ancestryd_sink_events_dropped_total{sink="kafka",reason="corrupt"}'), 0);
    assert.equal(sample(text, 'ancestryd_sink_spool_bytes{sink="kafka"}'), 4096);
    assert.equal(sample(text, 'ancestryd_sink_queued_events{sink="kafka"}'), 12);
    assert.equal(sample(text, 'ancestryd_sink_lag_seconds{sink="kafka"}'), 1.5);
    assert.equal(sample(text, 'ancestryd_event_latency_seconds_count{sink="kafka"}'), 2);
    assert.equal(sample(text, 'ancestryd_event_latency_seconds_bucket{le="0.005",sink="kafka"}'), 1);
    assert.equal(sample(text, 'ancestryd_event_latency_seconds_bucket{le="+Inf",sink="kafka"}'), 2);
    assert.equal(LATENCY_BUCKETS_SECONDS[0], 0.001);
    assert.equal(LATENCY_BUCKETS_SECONDS[LATENCY_BUCKETS_SECONDS.length - 1], 60);
  });

  it('snapshots the old process_ancestry_cache_stats columns and the pipeline for the admin stats request', () => {
    const m = metrics();
    m.setAncestry({ cacheSize: 500, stats: ancestryStats({ hits: 75, misses: 25, size: 40, procfsPartialReads: 3 }) });
    m.setCollector(fakeCollector());
    m.tallies.events.exec = 5;
    m.sink('file').delivered(5, 500, 0.01);
    const s = m.snapshot();
    assert.deepEqual(Object.keys(s).slice(0, 3), ['cache_hits', 'cache_misses', 'cache_size']);
    assert.equal(s.cache_hits, 75);
    assert.equal(s.cache_size, 40);
    assert.equal(s.cache_hit_rate_percent, 75);
    assert.equal(s.cache_capacity, 500);
    assert.equal(s.procfs_partial_reads, 3);
    assert.deepEqual((s.ring as { lost: unknown }).lost, { exec: 1, exec_failed: 0, fork: 3, exit: 0 });
    assert.equal(((s.sinks as Record<string, { sent_events: number }>).file).sent_events, 5);
    assert.equal((s.events as { exec: number }).exec, 5);
  });

  it('tracks readiness and config reloads', async () => {
    const m = metrics();
    assert.deepEqual(m.readyStatus, { ready: false, reason: 'starting' });
    assert.equal(sample(await m.expose(), 'ancestryd_ready'), 0);
    m.setReady(true);
    m.configReloaded(true);
    m.configReloaded(false);
    const text = await m.expose();
    assert.equal(sample(text, 'ancestryd_ready'), 1);
    assert.equal(sample(text, 'ancestryd_config_reloads_total{result="ok"}'), 1);
    assert.equal(sample(text, 'ancestryd_config_reloads_total{result="error"}'), 1);
    assert.match(text, /^ancestryd_build_info\{version="[^"]+",node_version="v\d+/m);
  });
});
