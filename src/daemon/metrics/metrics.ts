/**
 * The daemon's Prometheus metrics (prom-client, own registry). Nothing on
 * the per-event path touches prom-client (a labelled inc costs a hash of
 * the labels, too much per event):
 *  - the pipeline increments plain numbers in `metrics.tallies` (or adds a
 *    whole drain batch at once); they are copied into the counters when
 *    Prometheus scrapes;
 *  - the collector's and the process table's own stats objects are read at
 *    scrape time through setCollector(collector) / setAncestry(table);
 *  - each sink driver reports per batch through the SinkMetrics adapter
 *    from sink(name), and its gauges (spool, queue, lag) are read at scrape.
 */
import { BucketHistogram } from './bucket-histogram';
import { Counter, Gauge, Registry } from './prom';
import { registerRuntimeMetrics } from './runtime-metrics';
import type { AncestryStats, IncompleteReason, ProcfsFailureReason, SkipReason } from '../../ancestry';
import type { CounterKind, KernelCounters } from '../../collector';
import type { DecodeFailureReason } from '../../collector/decode';
import type { PinReport } from '../../collector/collector';
import type { DrainStats } from '../../collector/ring-drain';
import type { EventType } from '../../events';
import type { DropReason, SinkMetrics } from '../../sinks/sink';
import type { SinkStats } from '../../sinks/sink-driver';
import { packageInfo } from '../package-info';

export const METRIC_PREFIX = 'ancestryd_';

/** 1 ms … 60 s: kernel timestamp → sink acknowledgement spans both a local file and a spooled outage. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const EVENT_TYPES = keys<EventType>({ exec: 0, exec_failed: 0, fork: 0, exit: 0 });
const RECORD_KINDS = keys<CounterKind>({ exec: 0, exec_failed: 0, fork: 0, exit: 0 });
const DECODE_REASONS = keys<DecodeFailureReason>({ short_record: 0, bad_version: 0, unknown_kind: 0, size_mismatch: 0, tail_overflow: 0, bad_peer: 0 });
const INCOMPLETE_REASONS = keys<IncompleteReason>({ depth_cap: 0, evicted: 0, exited_before_start: 0, events_lost: 0 });
const PROCFS_FAILURES = keys<ProcfsFailureReason | 'pid_reused'>({ gone: 0, denied: 0, raced: 0, malformed: 0, pid_reused: 0 });
const SKIP_REASONS = keys<SkipReason>({ invalid_record: 0, task_in_stream: 0, unknown_kind: 0, exit_unknown: 0, exit_duplicate: 0, internal_error: 0 });
const EVICTION_KINDS = ['exited', 'live', 'pinned'] as const;
const DROP_REASONS = keys<DropReason>({ queue_full: 0, too_large: 0, corrupt: 0, write_error: 0, closed: 0 });

/** Object.keys of a literal that must name every member of T (the compiler checks it). */
function keys<T extends string>(o: Record<T, 0>): readonly T[] {
  return Object.keys(o) as T[];
}

function zeros<T extends string>(names: readonly T[]): Record<T, number> {
  const o = {} as Record<T, number>;
  for (const n of names) o[n] = 0;
  return o;
}

/** The outcome of one config_plugin=tls fetch (src/daemon/config/remote-config.ts), as ancestryd_remote_config_total counts it. */
export type RemoteResult = 'applied' | 'unchanged' | 'invalid' | 'failed';
export const REMOTE_RESULTS: readonly RemoteResult[] = ['applied', 'unchanged', 'invalid', 'failed'];

/** Plain counters the pipeline increments on the hot path; copied to Prometheus at scrape. Never reset them. */
export interface PipelineTallies {
  /** Events handed to the outputs, by type (once per event, however many outputs). */
  readonly events: Record<EventType, number>;
  /** Records read from the ring buffer, by kind. */
  readonly ringRecords: Record<CounterKind, number>;
  readonly decodeFailures: Record<DecodeFailureReason, number>;
  /**
   * Lines with text cut to fit: an ancestor's field over
   * process_ancestry_field_max_bytes, or the whole line over event_max_bytes.
   */
  readonly truncated: Record<TruncatedWhat, number>;
}

const TRUNCATED_WHAT = ['ancestry', 'event'] as const;
type TruncatedWhat = typeof TRUNCATED_WHAT[number];

/** What the metrics read from the collector at scrape: Collector satisfies it. */
export interface CollectorStatsSource {
  counters(): KernelCounters;
  readonly drainStats: Readonly<DrainStats>;
  readonly ringBytes: number;
  readonly pin: Readonly<PinReport>;
  /** Ring bytes read but kept from the kernel while an output cannot make them durable. */
  readonly heldBytes: number;
}

/** What the metrics read from the ancestry engine at scrape: ProcessTable satisfies it. */
export interface AncestrySource {
  readonly stats: AncestryStats;
  /** process_ancestry_cache_size in effect. */
  readonly cacheSize: number;
  /** process_ancestry_cache_size=auto's state; absent or null for a fixed size. */
  readonly autoCache?: { readonly budgetBytes: number; readonly limitedByBudget: boolean } | null;
}

export type SinkGaugeStats = Pick<SinkStats, 'spooledBytes' | 'unreadEvents' | 'lagSeconds'> & Partial<Pick<SinkStats, 'configProblem' | 'failing'>>;

interface SinkTally {
  sentEvents: number;
  sentBytes: number;
  sendFailures: number;
  retriedEvents: number;
  rejectedEvents: number;
  dropped: Record<DropReason, number>;
  stats: (() => SinkGaugeStats) | null;
}

export interface MetricsOptions {
  /** process_* and nodejs_* metrics (RSS, CPU, heap, event loop), prefixed ancestryd_. Default true. */
  defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly tallies: PipelineTallies = {
    events: zeros(EVENT_TYPES),
    ringRecords: zeros(RECORD_KINDS),
    decodeFailures: zeros(DECODE_REASONS),
    truncated: zeros(TRUNCATED_WHAT),
  };

  private collector: CollectorStatsSource | null = null;
  private ancestry: AncestrySource | null = null;
  private readonly sinks = new Map<string, SinkTally>();
  private stopRuntime: () => void = () => {};
  private endpoint: { listening: boolean; address: string; error: string | null } | null = null;
  private readyFlag = false;
  private readyReason = 'starting';
  private readonly startedMs = Date.now();
  private reloads = { ok: 0, error: 0 };
  private readonly remote: Record<RemoteResult, number> = zeros(REMOTE_RESULTS);
  /** config_plugin=tls: what stats shows of the remote configuration; null when off. */
  private remoteState: (() => Record<string, unknown>) | null = null;

  private readonly sinkFailures: Counter<'sink'>;
  private readonly sinkRetried: Counter<'sink'>;
  private readonly sinkRejected: Counter<'sink'>;
  private readonly sinkDropped: Counter<'sink' | 'reason'>;
  private readonly latency: BucketHistogram;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    const self = this;
    const safe = <T>(read: () => T): T | null => {
      try {
        return read();
      } catch {
        return null; // a source closing during a scrape: keep the last values
      }
    };

    // ── events and ring ──────────────────────────────────────────────────
    new Counter({
      name: 'ancestryd_events_total', help: 'Events written to the outputs, by event type.', labelNames: ['type'], registers,
      collect() { mirror(this, EVENT_TYPES.map((t) => [{ type: t }, self.tallies.events[t]])); },
    });
    new Counter({
      name: 'ancestryd_ring_records_total', help: 'Records read from the BPF ring buffer, by record kind.', labelNames: ['kind'], registers,
      collect() { mirror(this, RECORD_KINDS.map((k) => [{ kind: k }, self.tallies.ringRecords[k]])); },
    });
    new Counter({
      name: 'ancestryd_ring_records_lost_total',
      help: 'Records the kernel could not write because the ring buffer was full, by record kind (raise bpf_ring_buffer_size).',
      labelNames: ['kind'], registers,
      collect() {
        const c = self.collector ? safe(() => self.collector!.counters()) : null;
        if (self.collector && c === null) return;
        mirror(this, RECORD_KINDS.map((k) => [{ kind: k }, c ? c[k].dropped : 0]));
      },
    });
    new Gauge({
      name: 'ancestryd_ring_pending_bytes', help: 'Bytes waiting in the ring buffer at the last drain pass: how far behind the daemon is.', registers,
      collect() { this.set(self.collector ? self.collector.drainStats.pendingBytes : 0); },
    });
    new Gauge({
      name: 'ancestryd_ring_size_bytes', help: 'Size of the BPF ring buffer (bpf_ring_buffer_size).', registers,
      collect() { this.set(self.collector ? self.collector.ringBytes : 0); },
    });
    new Counter({
      name: 'ancestryd_ring_drain_batches_total', help: 'Drain passes that read at least one record.', registers,
      collect() { mirror(this, [[{}, self.collector ? self.collector.drainStats.batches : 0]]); },
    });
    new Counter({
      name: 'ancestryd_ring_handler_errors_total', help: 'Records skipped because processing them threw (a bug: see the log).', registers,
      collect() { mirror(this, [[{}, self.collector ? self.collector.drainStats.handlerErrors : 0]]); },
    });
    new Counter({
      name: 'ancestryd_decode_failures_total', help: 'Malformed ring records, by reason.', labelNames: ['reason'], registers,
      collect() { mirror(this, DECODE_REASONS.map((r) => [{ reason: r }, self.tallies.decodeFailures[r]])); },
    });
    new Counter({
      name: 'ancestryd_events_truncated_total',
      help: 'Event lines with text cut to fit: what="ancestry" an ancestor\'s field over process_ancestry_field_max_bytes, '
        + 'what="event" a line over event_max_bytes, written again reduced.',
      labelNames: ['what'], registers,
      collect() { mirror(this, TRUNCATED_WHAT.map((w) => [{ what: w }, self.tallies.truncated[w]])); },
    });

    // ── ancestry cache (ProcessTable.stats, read at scrape) ─────────────
    const stats = (): AncestryStats | null | undefined => (self.ancestry ? safe(() => self.ancestry!.stats) : undefined);
    /** undefined: no source yet (zeros); null: the source failed (keep the last values). */
    const cacheCounter = (name: string, help: string, pick: (s: AncestryStats) => number) => new Counter({
      name, help, registers,
      collect() {
        const s = stats();
        if (s !== null) mirror(this, [[{}, s ? pick(s) : 0]]);
      },
    });
    const cacheGauge = (name: string, help: string, pick: (s: AncestryStats, src: AncestrySource) => number) => new Gauge({
      name, help, registers,
      collect() {
        const s = stats();
        if (s !== null) this.set(s ? pick(s, self.ancestry!) : 0);
      },
    });
    const cacheByLabel = <T extends string>(name: string, help: string, label: string, values: readonly T[], pick: (s: AncestryStats, v: T) => number) => new Counter({
      name, help, labelNames: [label], registers,
      collect() {
        const s = stats();
        if (s !== null) mirror(this, values.map((x) => [{ [label]: x }, s ? pick(s, x) ?? 0 : 0]));
      },
    });
    cacheCounter('ancestryd_ancestry_cache_hits_total', 'Ancestor lookups answered by the process table.', (s) => s.hits);
    cacheCounter('ancestryd_ancestry_cache_misses_total', 'Ancestor lookups the process table could not answer itself (/proc was tried).', (s) => s.misses);
    cacheGauge('ancestryd_ancestry_cache_entries', 'Processes with details in the cache now (live, exited and pinned).', (s) => s.size);
    cacheGauge('ancestryd_ancestry_cache_capacity_entries', 'Most processes the cache holds (process_ancestry_cache_size).', (_s, src) => src.cacheSize);
    cacheGauge('ancestryd_ancestry_cache_bytes', 'Estimated memory held by the process table.', (s) => s.estimatedBytes);
    cacheByLabel('ancestryd_ancestry_cache_evictions_total', 'Entries evicted because the cache was full, by what they were.', 'kind', EVICTION_KINDS,
      (s, k) => (k === 'exited' ? s.evictionsExited : k === 'live' ? s.evictionsLive : s.evictionsPinned));
    cacheCounter('ancestryd_ancestry_cache_expired_total', 'Exited entries removed after process_ancestry_cache_ttl.', (s) => s.expired);
    cacheCounter('ancestryd_ancestry_cache_procfs_reads_total', 'Processes read from /proc because no kernel record described them.', (s) => s.procfsReads);
    cacheCounter('ancestryd_ancestry_procfs_partial_reads_total',
      '/proc reads of a live process with an optional field unreadable (exe, cwd, cmdline, namespaces, stdin/stderr, an ssh session\'s connection): those fields may be empty or unknown.',
      (s) => s.procfsPartialReads);
    cacheByLabel('ancestryd_ancestry_procfs_failures_total', '/proc reads that failed, by reason (gone: the process exited first).', 'reason', PROCFS_FAILURES,
      (s, r) => s.procfsFailures[r]);
    cacheCounter('ancestryd_ancestry_cache_resyncs_total', 'Resynchronizations of the process table with the kernel after lost records.', (s) => s.resyncs);
    cacheByLabel('ancestryd_ancestry_incomplete_total', 'Exec events whose lineage is incomplete, by reason.', 'reason', INCOMPLETE_REASONS,
      (s, r) => s.incomplete[r]);
    cacheByLabel('ancestryd_ancestry_records_skipped_total', 'Kernel records the process table did not apply, by reason.', 'reason', SKIP_REASONS,
      (s, r) => s.skipped[r]);

    // ── sinks (fed per batch by the adapters from sink()) ────────────────
    // Copied from the sinks' tallies at scrape: a delivery per drain pass then costs two additions.
    new Counter({
      name: 'ancestryd_sink_events_sent_total', help: 'Events the output acknowledged.', labelNames: ['sink'], registers,
      collect() { mirror(this, [...self.sinks].map(([sink, t]) => [{ sink }, t.sentEvents] as const)); },
    });
    new Counter({
      name: 'ancestryd_sink_sent_bytes_total', help: 'Bytes of events the output acknowledged.', labelNames: ['sink'], registers,
      collect() { mirror(this, [...self.sinks].map(([sink, t]) => [{ sink }, t.sentBytes] as const)); },
    });
    this.sinkFailures = new Counter({ name: 'ancestryd_sink_send_failures_total', help: 'Sends that did not deliver (retried or rejected).', labelNames: ['sink'], registers });
    this.sinkRetried = new Counter({ name: 'ancestryd_sink_events_retried_total', help: 'Events in batches sent again after a failure.', labelNames: ['sink'], registers });
    this.sinkRejected = new Counter({ name: 'ancestryd_sink_events_rejected_total', help: 'Events the destination refused for good (written to the dead-letter file).', labelNames: ['sink'], registers });
    this.sinkDropped = new Counter({ name: 'ancestryd_sink_events_dropped_total', help: 'Events lost before delivery, by reason (queue_full: the spool or memory queue was full).', labelNames: ['sink', 'reason'], registers });
    this.latency = new BucketHistogram(
      'ancestryd_event_latency_seconds',
      'Kernel timestamp of the oldest event of a batch to the output\'s acknowledgement of it (one observation per batch).',
      'sink', LATENCY_BUCKETS_SECONDS, registers,
    );
    const sinkGauge = (name: string, help: string, pick: (s: SinkGaugeStats) => number) => new Gauge({
      name, help, labelNames: ['sink'], registers,
      collect() {
        for (const [sink, t] of self.sinks) {
          const s = t.stats ? safe(t.stats) : null;
          if (s) this.set({ sink }, pick(s));
        }
      },
    });
    sinkGauge('ancestryd_sink_spool_bytes', 'Bytes held in the output\'s spool on disk.', (s) => s.spooledBytes);
    sinkGauge('ancestryd_sink_queued_events', 'Events waiting for the output.', (s) => s.unreadEvents);
    sinkGauge('ancestryd_sink_lag_seconds', 'Age of the oldest event the output has not acknowledged (0 when caught up).', (s) => s.lagSeconds);
    sinkGauge('ancestryd_sink_config_problem', '1 while the destination answers in a way only a configuration change fixes (HTTP 403 or 404); see ancestryd stats.',
      (s) => (s.configProblem ? 1 : 0));
    sinkGauge('ancestryd_sink_failing', '1 while sends to the output fail (a full disk, a destination down); the reason is in ancestryd stats.',
      (s) => (s.failing ? 1 : 0));

    // ── daemon ───────────────────────────────────────────────────────────
    new Gauge({
      name: 'ancestryd_ready', help: '1 once the collector is attached and the outputs started (what /readyz answers).', registers,
      collect() { this.set(self.readyFlag ? 1 : 0); },
    });
    new Gauge({
      name: 'ancestryd_build_info', help: 'Version of ancestryd and Node.js (value 1).', labelNames: ['version', 'node_version'], registers,
      collect() { this.set({ version: packageInfo().version, node_version: process.version }, 1); },
    });
    new Counter({
      name: 'ancestryd_config_reloads_total', help: 'SIGHUP configuration reloads, by result (error: the old configuration stays).', labelNames: ['result'], registers,
      collect() { mirror(this, [[{ result: 'ok' }, self.reloads.ok], [{ result: 'error' }, self.reloads.error]]); },
    });
    new Counter({
      name: 'ancestryd_remote_config_total',
      help: 'config_plugin=tls fetches by result: applied (options changed), unchanged, invalid (refused whole; the running '
        + 'configuration stays), failed (the server could not be reached or answered an error).',
      labelNames: ['result'], registers,
      collect() { mirror(this, REMOTE_RESULTS.map((r) => [{ result: r }, self.remote[r]])); },
    });
    if (opts.defaultMetrics ?? true) this.stopRuntime = registerRuntimeMetrics(this.registry, METRIC_PREFIX);
  }

  /** The collector once opened (Collector satisfies CollectorStatsSource); null after close. */
  setCollector(source: CollectorStatsSource | null): void {
    this.collector = source;
  }

  /** The process table (ProcessTable satisfies AncestrySource), read at scrape; null to detach. */
  setAncestry(source: AncestrySource | null): void {
    this.ancestry = source;
  }

  /**
   * The SinkMetrics to give SinkDriver (opts.metrics) for output `name`, and
   * optionally where its gauges come from: `() => driver.stats()`.
   */
  sink(name: string, stats?: () => SinkGaugeStats): SinkMetrics {
    let t = this.sinks.get(name);
    if (t === undefined) {
      t = { sentEvents: 0, sentBytes: 0, sendFailures: 0, retriedEvents: 0, rejectedEvents: 0, dropped: zeros(DROP_REASONS), stats: null };
      this.sinks.set(name, t);
    }
    if (stats) t.stats = stats;
    const tally = t;
    const failures = this.sinkFailures.labels(name);
    const retried = this.sinkRetried.labels(name);
    const rejected = this.sinkRejected.labels(name);
    const latency = this.latency.labels(name);
    for (const r of DROP_REASONS) this.sinkDropped.inc({ sink: name, reason: r }, 0);
    for (const c of [failures, retried, rejected]) c.inc(0);
    return {
      delivered: (events, nbytes, latencySeconds) => {
        tally.sentEvents += events;
        tally.sentBytes += nbytes;
        latency(Math.max(0, latencySeconds));
      },
      retried: (events) => {
        tally.retriedEvents += events;
        tally.sendFailures++;
        retried.inc(events);
        failures.inc();
      },
      rejected: (events) => {
        tally.rejectedEvents += events;
        tally.sendFailures++;
        rejected.inc(events);
        failures.inc();
      },
      dropped: (events, reason) => {
        tally.dropped[reason] = (tally.dropped[reason] ?? 0) + events;
        this.sinkDropped.inc({ sink: name, reason }, events);
      },
    };
  }

  /** /readyz and ancestryd_ready: the pipeline sets true once the collector is attached and the outputs started. */
  setReady(ready: boolean, reason = ready ? 'ready' : 'not ready'): void {
    this.readyFlag = ready;
    this.readyReason = reason;
  }

  /** The metrics endpoint's state (metrics-endpoint.ts), for `stats`. */
  setEndpoint(state: { listening: boolean; address: string; error: string | null }): void {
    this.endpoint = state;
  }

  get readyStatus(): { ready: boolean; reason: string } {
    return { ready: this.readyFlag, reason: this.readyReason };
  }

  remoteConfigFetched(result: RemoteResult): void {
    this.remote[result]++;
  }

  setRemoteConfig(state: (() => Record<string, unknown>) | null): void {
    this.remoteState = state;
  }

  configReloaded(ok: boolean): void {
    if (ok) this.reloads.ok++;
    else this.reloads.error++;
  }

  /**
   * Plain snapshot for the admin "stats" request: the old
   * process_ancestry_cache_stats columns (cache_hits, cache_misses,
   * cache_size) first, then the pipeline's figures.
   */
  snapshot(): Record<string, unknown> {
    const read = <T>(f: () => T): T | null => {
      try {
        return f();
      } catch {
        return null;
      }
    };
    const a = this.ancestry ? read(() => this.ancestry!.stats) : null;
    const lookups = a ? a.hits + a.misses : 0;
    const counters = this.collector ? read(() => this.collector!.counters()) : null;
    const sinks: Record<string, unknown> = {};
    for (const [name, t] of this.sinks) {
      const g = t.stats ? read(t.stats) : null;
      sinks[name] = {
        sent_events: t.sentEvents, sent_bytes: t.sentBytes, send_failures: t.sendFailures,
        retried_events: t.retriedEvents, rejected_events: t.rejectedEvents, dropped_events: { ...t.dropped },
        ...(g ? { spool_bytes: g.spooledBytes, queued_events: g.unreadEvents, lag_seconds: g.lagSeconds, config_problem: g.configProblem ?? null, failing: g.failing ?? null } : {}),
      };
    }
    return {
      cache_hits: a?.hits ?? 0,
      cache_misses: a?.misses ?? 0,
      cache_size: a?.size ?? 0,
      cache_capacity: this.ancestry?.cacheSize ?? 0,
      cache_tombstone_bytes: a?.tombstoneBytes ?? 0,
      cache_auto: this.ancestry?.autoCache
        ? { budget_bytes: this.ancestry.autoCache.budgetBytes, limited_by_budget: this.ancestry.autoCache.limitedByBudget } : null,
      cache_hit_rate_percent: a && lookups > 0 ? Math.round((a.hits / lookups) * 10000) / 100 : null,
      cache_bytes: a?.estimatedBytes ?? 0,
      cache_evictions: a?.evictions ?? 0,
      cache_expired: a?.expired ?? 0,
      cache_live: a?.live ?? 0,
      cache_exited: a?.exited ?? 0,
      cache_pinned: a?.pinned ?? 0,
      procfs_reads: a?.procfsReads ?? 0,
      procfs_partial_reads: a?.procfsPartialReads ?? 0,
      resyncs: a?.resyncs ?? 0,
      lineages: a?.lineages ?? 0,
      ready: this.readyFlag,
      metrics_endpoint: this.endpoint,
      uptime_seconds: Math.round((Date.now() - this.startedMs) / 1000),
      events: { ...this.tallies.events },
      truncated: { ...this.tallies.truncated },
      incomplete: a ? { ...a.incomplete } : null,
      ring: {
        records: { ...this.tallies.ringRecords },
        lost: counters ? Object.fromEntries(RECORD_KINDS.map((k) => [k, counters[k].dropped])) : null,
        pending_bytes: this.collector?.drainStats.pendingBytes ?? 0,
        held_bytes: this.collector?.heldBytes ?? 0,
        size_bytes: this.collector?.ringBytes ?? 0,
        drain: this.collector ? drainSummary(this.collector.drainStats) : null,
        pin: this.collector ? pinSummary(this.collector.pin) : null,
      },
      decode_failures: { ...this.tallies.decodeFailures },
      remote_config: this.remoteState === null ? null : { ...read(this.remoteState), fetches: { ...this.remote } },
      sinks,
    };
  }

  /** Every metric name registered (tests, the dashboard check). */
  metricNames(): string[] {
    return this.registry.getMetricsAsArray().map((m) => m.name).sort();
  }

  /** Prometheus text exposition. */
  expose(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.stopRuntime();
    this.collector = null;
    this.ancestry = null;
    this.registry.clear();
  }
}

/** Sets a counter to the given absolute values (they come from monotonic tallies). */
function mirror(counter: Counter<string>, rows: readonly (readonly [Record<string, string>, number])[]): void {
  counter.reset();
  for (const [labels, value] of rows) counter.inc(labels, value);
}

/** How the drain was woken: what an operator checks when the daemon's idle CPU looks wrong. */
function drainSummary(d: Readonly<DrainStats>) {
  return { timer_passes: d.timeouts, kernel_wakeups: d.wakeups, sleeps: d.sleeps, missed_wakeups: d.missedWakeups };
}

/** bpf_pin in stats: how the daemon came by its programs and what it took over. */
function pinSummary(p: Readonly<PinReport>) {
  return {
    state: p.state, dir: p.dir, backlog_bytes: p.backlogBytes, open_ms: p.openMs, lost_while_down: { ...p.droppedWhileDown },
    replaced: p.replaced.map((r) => ({ name: r.name, wire_version: r.wireVersion, backlog_bytes: r.backlogBytes, records: r.records, unreadable: r.unreadable })),
    overlap_duplicates: p.overlapDuplicates, problem: p.problem,
  };
}
