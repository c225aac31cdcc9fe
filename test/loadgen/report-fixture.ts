/** A soak summary and CSV rows as a 20 s run would leave them, for report tests. */
import { Checker } from '../../tools/loadgen/checker';
import { Samples } from '../../tools/loadgen/samples';
import type { SoakRow } from '../../tools/loadgen/soak-csv';
import type { SoakSummary } from '../../tools/loadgen/soak-summary';

export function fixtureRows(n = 20): SoakRow[] {
  const t0 = Date.parse('2026-11-27T10:00:00.000Z');
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(t0 + i * 1000).toISOString(),
    memory_mb: 80 + i * 2, cpu_percent: 20 + (i % 5), cache_hits: i * 1000, cache_misses: i * 3,
    events_per_sec: 3000 + (i % 3) * 100, ring_lost: 0, cache_size: 4096, incomplete: 0, query_p99_ms: 2 + (i % 4),
    execs_per_sec: 1000, lines_per_sec: 1000, latency_p50_ms: 120, latency_p99_ms: 210, latency_max_ms: 230,
    queries: 10, query_errors: 0, cache_hit_rate_percent: 99.7, cache_live: 80, cache_exited: 4000, procfs_reads: 12,
    sink_queued_events: 100, pending_truth: 50,
  }));
}

export function fixtureSummary(over: { ok?: boolean; tag?: string } = {}): SoakSummary {
  const c = new Checker({ maxDepth: 32 });
  const check = c.finish();
  check.truth = 20000;
  check.matched = 20000;
  check.correct = 20000;
  check.byMode = { churn: { truth: 20000, matched: 20000, correct: 20000, lost: 0, wrong: 0, incomplete: 0, duplicates: 0, execFailed: 0 } };
  const lat = new Samples();
  for (let i = 1; i <= 1000; i++) lat.add(50 + (i % 200));
  const none = new Samples().summary();
  const ok = over.ok ?? true;
  if (!ok) {
    check.lost = 2;
    check.ok = false;
    check.examples.lost.push({ tag: 'pg-0-1-42', mode: 'churn', kind: 'lost', detail: 'no exec line for pid 42 <script>' });
  }
  return {
    startedAt: '2026-11-27T10:00:00.000Z', endedAt: '2026-11-27T10:00:22.000Z', host: 'vm', kernel: '6.1.0', cpus: 2,
    config: {
      mode: 'churn', rate: 1000, durationSec: 20, workers: 2, queryRate: 10, wrapForks: 3, wrapEverySec: 5, exe: '/bin/true',
      maxDepth: 32, tag: over.tag ?? 'sfixture', attached: false, daemonArgs: ['--logger_path=/tmp/x'],
    },
    procgen: {
      mode: 'churn', workers: 2, secs: 20, execs: 20000, failures: 0, unfinished: 0, execs_per_sec: 1000, wrap_forks: 0,
      pid_wraps: 2, pid_min: 300, pid_max: 32767, by_mode: { churn: 20000 },
    },
    check,
    latency: lat.summary(), latencyHistogram: lat.histogram(10), latencyAllLines: lat.summary(),
    clock: { realtimeMinusBoottimeNs: '1795775179964438052', realtimeErrorNs: 20, monotonicMinusBoottimeNs: '0', monotonicErrorNs: 20, driftNs: '0' },
    tail: { lines: 20000, bytes: 148000000, files: 6, badLines: 0, daemonSentEvents: 20000 },
    daemon: {
      pid: 4242, rssMbMax: 118, rssMbMean: 99, rssMbEnd: 118, hwmMb: 120, cpuPercentMean: 22, cpuPercentMax: 24, cpuSeconds: 4.4,
      cpuUsPerEvent: 35, cpuUsPerExec: 110, ringRecords: 60000, ringLost: 0, execEvents: 20000, cacheHits: 19000, cacheMisses: 57,
      cacheHitRatePercent: 99.7, incompleteByReason: {}, procfsReads: 12, finalStats: null,
    },
    queries: {
      rate: 10, counts: { sent: 200, ok: 150, gone: 50, missingLive: 0, errors: 0, skipped: 0 },
      all: lat.summary(), ancestry: lat.summary(), stats: none, errorExamples: [],
    },
    verdict: { ok, problems: ok ? [] : ['2 execs lost'] },
  };
}
