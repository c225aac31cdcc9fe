/**
 * Wires the data flow: kernel records (collector) → process table (ancestry)
 * → one JSON line per event (events) → every output (sinks).
 *
 * Per record, synchronously: apply to the table, format, remember the line.
 * Per drain pass: hand the pass's lines to every output in one call (one
 * spool write per output, not one per event), and that is all the drain ever
 * waits for; delivery runs behind the spools.
 *
 * Order: outputs start before the collector attaches, so nothing drained
 * has nowhere to go; on stop the collector detaches and drains, then the
 * outputs flush.
 */
import { BootClock, Collector, type KernelRecord } from '../collector';
import type { DecodeFailure } from '../collector/decode';
import { preflightFailures, runPreflight } from '../collector/preflight';
import { ArgvRedactor, CacheAutoSizer, LinuxProcfsReader, ProcessTable } from '../ancestry';
import { AncestrydError } from '../errors';
import {
  createFormat, CUT_ANCESTRY, LineBuffer, resolveHost, type EventFormat, type EventType, type FormatOptions, type HostIdentity,
} from '../events';
import type { AncestrydConfig } from './config/config';
import type { Logging } from './log';
import type { Metrics } from './metrics/metrics';
import { createOutputs, type Output } from './outputs';
import { packageInfo } from './package-info';
import { tlsDriverOptions } from '../sinks';
import { RateLimitedLog } from './rate-limited-log';
import { HeapTrim } from './heap-trim';
import { RecentEvents } from './recent-events';
import type { TlsNode } from '../sinks/tls/tls-node';

export interface PipelineDeps {
  logging: Logging;
  metrics: Metrics;
  /** config_plugin=tls: the host's enrollment, which the tls output then shares. */
  tlsNode?: TlsNode;
}

/** How often kernel drop counters are read, idle entries expired, and the least time between resyncs. */
const HOUSEKEEPING_MS = 1000;
const RESYNC_MIN_INTERVAL_MS = 10_000;
const CLOCK_REFRESH_MS = 60_000;

/** Lines held before they go to the outputs within a drain pass. */
const PASS_FLUSH_BYTES = 1024 * 1024;

/**
 * The reduced format's cap on each text field, for lines over
 * event_max_bytes: what is left after 32 KiB for the rest of the line
 * (names, numbers, up to 64 ancestors' entity ids), over the most capped
 * fields a line carries (19, in OCSF's exec: the process's and twice the
 * parent's name, path, cmd_line, cwd, file name and path; execve_path)
 * times their worst JSON escaping (×6): 128. At the minimum event_max_bytes,
 * 64 KiB, each field keeps 256 bytes; at the default, 7936.
 */
export function reducedFieldMaxBytes(maxEventBytes: number): number {
  return Math.floor((maxEventBytes - 32 * 1024) / 128);
}

export class Pipeline {
  readonly table: ProcessTable;
  readonly recent: RecentEvents;
  readonly host: HostIdentity;
  private readonly clock: BootClock;
  private readonly format: EventFormat;
  /** process_ancestry_cache_size=auto; null for a fixed size. */
  private autoSizer: CacheAutoSizer | null;
  /** process_ancestry_cache_ttl in effect (SIGHUP changes it). */
  private cacheTtlSeconds: number;
  /** cmdline_redaction_patterns; null when there are none. */
  readonly redactor: ArgvRedactor | null;
  private readonly formatOptions: FormatOptions;
  /** For lines over event_max_bytes: created at the first one. */
  private reducedFormat: EventFormat | null = null;
  private readonly outputs: Output[];
  private collector: Collector | null = null;
  private enabled: Record<EventType, boolean>;
  /** The drain pass's events, serialized; outputs copy or write them before the pass ends. */
  private readonly pass = new LineBuffer();
  /** The pid of each line in `pass`, for the recent-events ring. */
  private readonly pids: number[] = [];
  private readonly tallies: Metrics['tallies'];
  private readonly log: Logging['logger'];
  private readonly problems: RateLimitedLog;
  private timers: NodeJS.Timeout[] = [];
  private kernelDrops = 0;
  private handlerErrors = 0;
  private tableErrors = 0;
  private lastResyncMs = 0;
  private readonly heapTrim = new HeapTrim();
  private stopped = false;

  private constructor(private readonly cfg: AncestrydConfig, private readonly deps: PipelineDeps) {
    this.log = deps.logging.child('pipeline');
    this.problems = new RateLimitedLog(this.log, { intervalMs: 10_000, burst: 5 });
    this.tallies = deps.metrics.tallies;
    this.clock = new BootClock();
    this.host = resolveHost(cfg.events, this.clock.bootId);
    this.autoSizer = cfg.ancestry.cacheAuto ? new CacheAutoSizer(cfg.ancestry.cacheMaxBytes, cfg.ancestry.cacheSize) : null;
    this.cacheTtlSeconds = cfg.ancestry.cacheTtlMs / 1000;
    this.redactor = cfg.events.redactionPatterns.length === 0 ? null : new ArgvRedactor(cfg.events.redactionPatterns);
    this.formatOptions = {
      host: this.host, clock: this.clock, names: cfg.events.osqueryNames, numerics: cfg.events.numerics,
      productVersion: packageInfo().version, ancestryDetail: cfg.events.ancestryDetail,
      ancestorFieldMaxBytes: cfg.events.ancestorFieldMaxBytes,
    };
    this.format = createFormat(cfg.events.format, this.formatOptions);
    this.table = new ProcessTable({
      clock: this.clock,
      procfs: new LinuxProcfsReader('/proc', cfg.collector.argvMaxBytes, this.redactor),
      cacheSize: cfg.ancestry.cacheSize,
      cacheTtlSeconds: cfg.ancestry.cacheTtlMs / 1000,
      maxDepth: cfg.ancestry.maxDepth,
      selfTgid: process.pid,
    });
    this.recent = new RecentEvents(cfg.daemon.recentEvents);
    this.enabled = enabledTypes(cfg.events.types);
    this.outputs = createOutputs(cfg, {
      host: this.host,
      metrics: deps.metrics,
      log: (name) => deps.logging.child('output', { output: name }),
      addSecret: (value) => deps.logging.addSecret(value),
      tlsNode: deps.tlsNode,
      nowBootNs: () => this.clock.nowBootNs(),
    });
  }

  /** Preflight, outputs, collector, bootstrap; on any failure, what started is stopped again. */
  static async start(cfg: AncestrydConfig, deps: PipelineDeps): Promise<Pipeline> {
    const failed = preflightFailures(runPreflight(cfg.preflight));
    if (failed.length > 0) {
      throw new AncestrydError('ANC_PREFLIGHT', 'preflight failed:\n'
        + failed.map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`).join('\n'));
    }
    const p = new Pipeline(cfg, deps);
    try {
      await p.open();
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  private async open(): Promise<void> {
    const { metrics } = this.deps;
    for (const o of this.outputs) await o.driver.start();
    const libbpf = this.deps.logging.child('libbpf');
    this.collector = Collector.open({ ...this.cfg.collector, selfTgid: process.pid, onLibbpfMessage: (level, msg) => {
      if (level === 'warn') libbpf.warn(msg);
      else libbpf.debug(msg);
    } }, {
      onRecord: (r) => this.onRecord(r),
      onInvalid: (f) => this.onInvalid(f),
      onBatchEnd: () => this.flushLines(),
    });
    const tasks = this.collector.snapshot();
    if (this.autoSizer !== null) this.resizeCache(this.autoSizer.forBootstrap(tasks.length));
    // A pinned ring taken over holds what happened while no daemon ran: applied after the snapshot, like any record.
    this.table.bootstrap(tasks, this.collector.streamSinceNs());
    this.kernelDrops = this.collector.dropsAccountedBefore;
    metrics.setCollector(this.collector);
    const table = this.table;
    const sizer = (): CacheAutoSizer | null => this.autoSizer; // SIGHUP may replace it
    metrics.setAncestry({
      get stats() { return table.stats; },
      get cacheSize() { return table.cacheSize; },
      get autoCache() { return sizer(); },
    });
    this.collector.start();
    this.logPins(this.collector);
    this.timers.push(setInterval(() => this.housekeeping(), HOUSEKEEPING_MS));
    this.timers.push(setInterval(() => this.clock.refresh(), CLOCK_REFRESH_MS));
    for (const t of this.timers) t.unref();
    const failed = this.collector.failedExecCapture;
    this.log.info({
      programs: this.collector.attachedPrograms, processes: tasks.length, outputs: this.outputs.map((o) => o.name),
      format: this.cfg.events.format, events: this.cfg.events.types,
      failed_exec_hook: failed.hook ?? 'off', ...(failed.fexitRefusal === null ? {} : { fexit_refused: failed.fexitRefusal }),
    }, 'collecting');
  }

  /** bpf_pin: what the daemon took over or replaced, and what was lost while none ran. */
  private logPins(c: Collector): void {
    const pin = c.pin;
    if (pin.problem !== null) this.log.warn({ problem: pin.problem }, 'bpf_pin: the programs are not pinned; a restart will be a blind window');
    if (pin.state === 'off') return;
    const lost = Object.values(pin.droppedWhileDown).reduce((a, b) => a + b, 0);
    this.log.info({
      state: pin.state, dir: pin.dir, backlog_bytes: pin.backlogBytes, open_ms: pin.openMs, lost_while_down: pin.droppedWhileDown,
      replaced: pin.replaced.map((r) => ({ set: r.name, wire_version: r.wireVersion, backlog_bytes: r.backlogBytes, records: r.records })),
      overlap_duplicates: pin.overlapDuplicates,
    }, pin.state === 'adopted' ? 'took over the pinned BPF programs and drained their backlog' : 'BPF programs pinned');
    if (lost > 0) {
      this.log.warn({ lost_while_down: pin.droppedWhileDown, ring_bytes: c.ringBytes },
        'the ring filled while no daemon ran and records were lost: raise bpf_ring_buffer_size for longer outages');
    }
    for (const r of pin.replaced) {
      if (r.unreadable) {
        this.log.error({ set: r.name, wire_version: r.wireVersion, backlog_bytes: r.backlogBytes },
          'a pinned set of a wire version this build cannot read was replaced: its backlog is lost');
      }
    }
  }

  /**
   * Hot path: one kernel record → table → at most one line, written into the
   * pass's buffer. The one switch on the record's kind: each arm calls the
   * table's and the format's methods for that kind, so the result needs no cast.
   */
  private onRecord(r: KernelRecord): void {
    const out = this.pass;
    let pid: number;
    let format = this.format;
    try {
      switch (r.kind) {
        case 'exec':
        case 'exec_failed': {
          this.tallies.ringRecords[r.kind]++;
          // Before the table: what it keeps, every output and later lineage shows.
          if (this.redactor !== null) this.redactor.redact(r);
          const res = this.table.applyExec(r);
          if (res === null || !this.enabled[r.kind]) return;
          pid = r.tgid;
          format.writeExec(res, out);
          if (this.overBudget(out)) {
            format = this.reduced();
            format.writeExec(res, out);
          }
          break;
        }
        case 'fork': {
          this.tallies.ringRecords.fork++;
          const res = this.table.applyFork(r);
          if (res === null || !this.enabled.fork) return;
          pid = r.childTgid;
          format.writeFork(res, out);
          if (this.overBudget(out)) {
            format = this.reduced();
            format.writeFork(res, out);
          }
          break;
        }
        case 'exit': {
          this.tallies.ringRecords.exit++;
          const res = this.table.applyExit(r);
          if (res === null || !this.enabled.exit) return;
          pid = r.tgid;
          format.writeExit(res, out);
          if (this.overBudget(out)) {
            format = this.reduced();
            format.writeExit(res, out);
          }
          break;
        }
        default:
          // Task records belong to snapshots; the table counts one that strays into the stream.
          this.table.apply(r);
          return;
      }
      if (format !== this.format) {
        this.tallies.truncated.event++;
        this.problems.warn('event-size', { pid, type: r.kind, max_bytes: this.cfg.events.maxEventBytes },
          'an event line was over event_max_bytes: written with entity ids for its ancestry and its text cut');
      }
    } catch (err) {
      // The drain counts and reports it; the half-written line must not reach an output.
      out.abandon();
      throw err;
    }
    if ((format.lastCut & CUT_ANCESTRY) !== 0) this.tallies.truncated.ancestry++;
    out.end(r.ktimeNs);
    this.tallies.events[r.kind]++;
    this.pids.push(pid);
    // A burst (a pass holds up to bpf_drain_batch_records records, several KB
    // each) is handed over in slices: the buffer then stays near this size
    // instead of growing to the burst, and the kernel still gets the ring
    // space back only after the whole pass is written.
    if (out.pos >= PASS_FLUSH_BYTES) this.flushLines();
  }

  /**
   * A line too large to deliver whole (Kafka refuses it, a TLS server may) is
   * abandoned, to be written again with every field cut: flagged, never dropped.
   */
  private overBudget(out: LineBuffer): boolean {
    if (out.lineBytes < this.cfg.events.maxEventBytes) return false;
    out.abandon();
    return true;
  }

  private reduced(): EventFormat {
    this.reducedFormat ??= createFormat(this.cfg.events.format, {
      ...this.formatOptions, ancestryDetail: 'ids', fieldMaxBytes: reducedFieldMaxBytes(this.cfg.events.maxEventBytes),
    });
    return this.reducedFormat;
  }

  private onInvalid(f: DecodeFailure): void {
    this.tallies.decodeFailures[f.reason]++;
    this.problems.warn(`decode:${f.reason}`, { reason: f.reason, kind: f.rawKind }, 'malformed ring record skipped');
  }

  /** End of a drain pass: every output gets the pass's lines in one call, then the recent-events ring. */
  private flushLines(): void {
    const pass = this.pass;
    if (pass.count === 0) return;
    for (const o of this.outputs) o.driver.enqueueEncoded(pass);
    this.holdUndurable();
    this.recent.pushLines(this.pids, pass.data, pass.ends, pass.count);
    pass.reset();
    this.pids.length = 0;
  }

  /**
   * While an output that must be durable holds events in memory (its disk
   * is full), their records stay in the kernel's ring; once it has written
   * them, the ring's space goes back.
   */
  private holdUndurable(): void {
    const c = this.collector;
    if (c === null) return;
    let held = false;
    for (const o of this.outputs) if (o.holdsRing && o.driver.memoryEvents > 0) held = true;
    // Held past half the ring, the kernel would soon drop every record, and
    // every output would go blind for one full disk: what was read so far
    // is then trusted to memory (a kill would lose it), and holding starts again.
    if (held && c.heldBytes < c.ringBytes / 2) c.holdRing();
    else if (c.heldBytes > 0) {
      if (held) {
        this.problems.warn('hold-cap', { held_bytes: c.heldBytes, ring_bytes: c.ringBytes },
          'the results log has not been writable for half a ring: events read since wait in memory only');
      }
      c.releaseRing();
    }
  }

  private housekeeping(): void {
    const c = this.collector;
    if (c === null) return;
    this.holdUndurable();
    try {
      this.table.expire(this.clock.nowBootNs());
      this.heapTrim.tick(c.drainStats.records, performance.now());
      if (this.autoSizer !== null) this.autoSize(this.autoSizer);
      const drops = this.reportKernelDrops(c);
      if (drops !== null) {
        this.table.noteDrops(drops);
        const now = Date.now();
        if (now - this.lastResyncMs >= RESYNC_MIN_INTERVAL_MS) {
          this.lastResyncMs = now;
          this.table.resync(c.snapshot(), drops);
        }
      }
      // Logged when they grow, each with its own error (not once per interval forever).
      const handlerErrors = c.drainStats.handlerErrors;
      if (handlerErrors > this.handlerErrors) {
        this.problems.error('handler', { skipped: handlerErrors - this.handlerErrors, total: handlerErrors, err: c.lastHandlerError },
          'records skipped because processing them threw');
        this.handlerErrors = handlerErrors;
      }
      const tableErrors = this.table.stats.skipped.internal_error;
      if (tableErrors > this.tableErrors) {
        this.problems.error('table', { skipped: tableErrors - this.tableErrors, total: tableErrors, err: this.table.lastError },
          'records the process table could not apply were skipped');
        this.tableErrors = tableErrors;
      }
    } catch (err) {
      this.problems.error('housekeeping', { err }, 'housekeeping failed');
    }
  }

  /**
   * Log records the kernel lost since the last look and mark them accounted
   * for (a pinned ring's next daemon reports only later ones). Returns the
   * new total, or null when nothing was lost since.
   */
  private reportKernelDrops(c: Collector): number | null {
    const k = c.counters();
    const drops = k.exec.dropped + k.exec_failed.dropped + k.fork.dropped + k.exit.dropped;
    if (drops <= this.kernelDrops) return null;
    this.problems.warn('ring-drops', { lost: drops - this.kernelDrops, total: drops },
      'the kernel lost records (ring buffer full): raise bpf_ring_buffer_size; the process table is resynchronized');
    this.kernelDrops = drops;
    c.dropsAccounted(k);
    return drops;
  }

  private autoSize(sizer: CacheAutoSizer): void {
    const s = this.table.stats;
    const change = sizer.tick({
      live: s.live, pinned: s.pinned, size: s.size, neededEvictions: s.evictionsLive + s.evictionsPinned, estimatedBytes: s.estimatedBytes,
      outsideBytes: s.tombstoneBytes,
    });
    if (change === null) return;
    this.resizeCache(change.to);
    this.log.info({ ...change, live: s.live, pinned: s.pinned, cache_bytes: s.estimatedBytes, budget_bytes: sizer.budgetBytes },
      'process_ancestry_cache_size=auto: capacity changed');
  }

  private resizeCache(capacity: number): void {
    this.table.reconfigure(capacity, this.cacheTtlSeconds);
  }

  /** SIGHUP: the options that can change while running. */
  reconfigure(cfg: AncestrydConfig): void {
    this.cacheTtlSeconds = cfg.ancestry.cacheTtlMs / 1000;
    if (!cfg.ancestry.cacheAuto) this.autoSizer = null;
    else if (this.autoSizer === null) this.autoSizer = new CacheAutoSizer(cfg.ancestry.cacheMaxBytes, this.table.cacheSize);
    else this.autoSizer.budgetBytes = cfg.ancestry.cacheMaxBytes; // the next tick applies it
    this.table.reconfigure(this.autoSizer?.capacity ?? cfg.ancestry.cacheSize, this.cacheTtlSeconds);
    this.enabled = enabledTypes(cfg.events.types);
    for (const o of this.outputs) {
      if (o.name === 'tls') o.driver.setBatching(tlsDriverOptions({ ...cfg.outputs.tls, hostIdentifier: this.host.hostIdentifier }));
    }
  }

  /** Detach, drain what the ring still holds, flush every output (bounded by their close timeouts). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.deps.metrics.setReady(false, 'stopping');
    if (this.collector !== null) {
      try {
        this.reportKernelDrops(this.collector);
      } catch (err) {
        this.log.error({ err }, 'reading the kernel counters failed');
      }
      try {
        await this.collector.close();
      } catch (err) {
        this.log.error({ err }, 'closing the collector failed');
      }
      this.deps.metrics.setCollector(null);
    }
    this.flushLines();
    // The last record is handled: write the counts the rate limit still holds ("N more … suppressed"),
    // before the outputs' close, which may run into the shutdown timeout.
    this.problems.flush();
    await Promise.all(this.outputs.map(async (o) => {
      try {
        await o.driver.close();
      } catch (err) {
        this.log.error({ err, output: o.name }, 'closing an output failed');
      }
    }));
  }

  outputStats(): Record<string, unknown> {
    return Object.fromEntries(this.outputs.map((o) => [o.name, o.driver.stats()]));
  }
}

function enabledTypes(types: readonly EventType[]): Record<EventType, boolean> {
  return { exec: types.includes('exec'), exec_failed: types.includes('exec_failed'), fork: types.includes('fork'), exit: types.includes('exit') };
}
