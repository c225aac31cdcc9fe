/**
 * Delivers one sink's queue: batches queued events (max lines, max bytes,
 * linger), keeps at most `maxInFlight` batches at the sink, retries with
 * backoff, acknowledges in id order, dead-letters rejected batches and
 * reports metrics. enqueueEncoded() returns at once whatever the sink is
 * doing: a slow destination must never stall the ring drain, or the kernel
 * starts dropping records.
 *
 * Ordering: with maxInFlight = 1 (default) the destination sees events in
 * queue order, also across retries and restarts. With more, batches may
 * land out of order, and the cursor only advances over a contiguous prefix
 * of delivered batches.
 */
import { AncestrydError } from '../errors';
import { backoffDelayMs } from './backoff';
import { lineStart, type EncodedLines } from './encoded-lines';
import { DeadLetterFile } from './dead-letter';
import { checkPositiveInt, type EventQueue } from './queue';
import {
  noopLogger, noopMetrics, type DropReason, type EventBatch, type SendResult, type Sink, type SinkLogger,
  type SinkMetrics,
} from './sink';

export interface SinkDriverOptions {
  /** Default 1000 events. */
  maxBatchLines?: number;
  /** Default 1 MiB (a batch holds at least one event, however large). */
  maxBatchBytes?: number;
  /** How long a partial batch waits for more events. Default 100 ms. */
  lingerMs?: number;
  /** Batches at the sink at once. Default 1 (keeps order). */
  maxInFlight?: number;
  /** First retry delay; doubles per attempt up to retryMaxMs, with jitter. Defaults 500 ms, 30 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** close(): how long to keep delivering before leaving the rest on disk. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** CLOCK_BOOTTIME now in ns, for lag and latency (BootClock.nowBootNs). Default: the monotonic clock. */
  nowBootNs?: () => number;
  metrics?: SinkMetrics;
  log?: SinkLogger;
}

export const DRIVER_DEFAULTS = {
  maxBatchLines: 1000,
  maxBatchBytes: 1024 * 1024,
  lingerMs: 100,
  maxInFlight: 1,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  closeTimeoutMs: 5000,
};

/** A snapshot for gauges and the admin socket. */
export interface SinkStats {
  enqueuedEvents: number;
  deliveredEvents: number;
  deliveredBatches: number;
  deliveredBytes: number;
  /** Sends that did not deliver (retry, throw or rejected). */
  failedSends: number;
  retriedBatches: number;
  rejectedEvents: number;
  droppedEvents: Record<DropReason, number>;
  spooledBytes: number;
  unreadEvents: number;
  inFlightBatches: number;
  /** Age of the oldest event not yet acknowledged, seconds (0 when none). */
  lagSeconds: number;
  /** The sink's configuration problem (Sink.configProblem), or null. */
  configProblem: string | null;
  /** Why the last send failed while sends keep failing (a full disk: "… (ENOSPC)"); null once one delivers. */
  failing: string | null;
}

interface Slot {
  readonly batch: EventBatch;
  done: boolean;
  task: Promise<void> | null;
}

/** Rejection log lines: at most one per this interval (see logRejection). */
const REJECT_LOG_INTERVAL_MS = 10_000;

/** close(): how long sends still in flight after sink.close() are awaited. */
const ABANDON_SENDS_AFTER_MS = 1000;

function monotonicMs(): number {
  return performance.now();
}

const defaultNowBootNs = (): number => Number(process.hrtime.bigint());

export class SinkDriver {
  readonly name: string;
  private readonly sink: Sink;
  private readonly queue: EventQueue;
  private o: Required<Omit<SinkDriverOptions, 'metrics' | 'log' | 'nowBootNs'>>;
  private readonly nowBootNs: () => number;
  private readonly metrics: SinkMetrics;
  private readonly log: SinkLogger;
  private readonly deadLetter: DeadLetterFile | null;

  private readonly inflight: Slot[] = [];
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private waiter: (() => void) | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private idle = false;
  private unreadSinceMs = 0;
  private failing = false;
  private failingReason: string | null = null;
  private started = false;
  private closing = false;
  private stopped = false;
  private runPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;
  private rejectLoggedMs = -Infinity;
  private rejectsNotLogged = 0;

  private readonly s: Omit<SinkStats, 'spooledBytes' | 'unreadEvents' | 'inFlightBatches' | 'lagSeconds' | 'configProblem' | 'failing'> = {
    enqueuedEvents: 0,
    deliveredEvents: 0,
    deliveredBatches: 0,
    deliveredBytes: 0,
    failedSends: 0,
    retriedBatches: 0,
    rejectedEvents: 0,
    droppedEvents: { queue_full: 0, too_large: 0, corrupt: 0, write_error: 0, closed: 0 },
  };

  constructor(sink: Sink, queue: EventQueue, opts: SinkDriverOptions = {}) {
    this.name = sink.name;
    this.sink = sink;
    this.queue = queue;
    this.o = {
      maxBatchLines: opts.maxBatchLines ?? DRIVER_DEFAULTS.maxBatchLines,
      maxBatchBytes: opts.maxBatchBytes ?? DRIVER_DEFAULTS.maxBatchBytes,
      lingerMs: opts.lingerMs ?? DRIVER_DEFAULTS.lingerMs,
      maxInFlight: opts.maxInFlight ?? DRIVER_DEFAULTS.maxInFlight,
      retryInitialMs: opts.retryInitialMs ?? DRIVER_DEFAULTS.retryInitialMs,
      retryMaxMs: opts.retryMaxMs ?? DRIVER_DEFAULTS.retryMaxMs,
      closeTimeoutMs: opts.closeTimeoutMs ?? DRIVER_DEFAULTS.closeTimeoutMs,
    };
    checkPositiveInt(`${this.name}: max batch lines`, this.o.maxBatchLines);
    checkPositiveInt(`${this.name}: max batch bytes`, this.o.maxBatchBytes, 1024);
    checkPositiveInt(`${this.name}: linger ms`, this.o.lingerMs, 0, 3_600_000);
    checkPositiveInt(`${this.name}: max in flight`, this.o.maxInFlight, 1, 64);
    checkPositiveInt(`${this.name}: retry initial ms`, this.o.retryInitialMs, 1);
    checkPositiveInt(`${this.name}: retry max ms`, this.o.retryMaxMs, this.o.retryInitialMs);
    checkPositiveInt(`${this.name}: close timeout ms`, this.o.closeTimeoutMs, 0);
    this.nowBootNs = opts.nowBootNs ?? defaultNowBootNs;
    this.metrics = opts.metrics ?? noopMetrics;
    this.log = opts.log ?? noopLogger;
    this.deadLetter = queue.deadLetterPath === null ? null : new DeadLetterFile(queue.deadLetterPath);
    queue.onDrop = (events, reason) => {
      this.s.droppedEvents[reason] += events;
      this.metrics.dropped(events, reason);
    };
  }

  /** SIGHUP: new batching (e.g. logger_tls_period / logger_tls_max_lines); applies from the next batch. */
  setBatching(opts: Pick<SinkDriverOptions, 'maxBatchLines' | 'lingerMs'>): void {
    const next = { ...this.o, ...opts };
    checkPositiveInt(`${this.name}: max batch lines`, next.maxBatchLines);
    checkPositiveInt(`${this.name}: linger ms`, next.lingerMs, 0, 3_600_000);
    this.o = next;
    this.wake();
  }

  /** Opens the queue (replaying what a previous run left), starts the sink, starts delivering. */
  async start(): Promise<void> {
    if (this.started) throw new AncestrydError('ANC_SINK_UNAVAILABLE', `sink ${this.name} started twice`);
    this.started = true;
    await this.queue.open();
    try {
      await this.sink.start();
    } catch (err) {
      await this.queue.close();
      throw err;
    }
    if (this.queue.unreadEvents > 0) {
      this.unreadSinceMs = monotonicMs() - this.o.lingerMs;
      this.log.info({ sink: this.name, events: this.queue.unreadEvents }, 'replaying spooled events');
    }
    this.runPromise = this.run();
  }

  /**
   * Queues encoded events; returns how many were accepted (the rest were
   * dropped and counted). Synchronous: with a disk spool, or a sink that
   * delivers synchronously, the events are in the page cache when it
   * returns. `src` is not kept.
   */
  enqueueEncoded(src: EncodedLines): number {
    if (src.count === 0) return 0;
    const from = this.sink.deliverNow === undefined ? 0 : this.deliverDirect(src);
    if (from === src.count) return from;
    return from + this.enqueueQueued(src, from);
  }

  /**
   * deliverNow() while nothing is queued or in flight (order is kept), in
   * chunks of whole lines up to maxBatchBytes. Returns how many lines were
   * delivered; the rest go to the queue and take the retrying path.
   */
  private deliverDirect(src: EncodedLines): number {
    if (this.queue.unreadEvents > 0 || this.inflight.length > 0 || this.closing || !this.started) return 0;
    const max = this.o.maxBatchBytes;
    let from = 0;
    while (from < src.count) {
      const start = lineStart(src, from);
      let to = from + 1;
      while (to < src.count && src.ends[to] - start <= max) to++;
      const batch: EventBatch = {
        firstId: 0, lastId: 0, count: to - from, data: src.data.subarray(start, src.ends[to - 1]),
        firstKtimeNs: src.ktimes[from], lastKtimeNs: src.ktimes[to - 1],
      };
      let result: SendResult;
      try {
        result = this.sink.deliverNow!(batch);
      } catch (err) {
        this.noteFailure(err instanceof Error ? err.message : String(err));
        return from;
      }
      if (result !== 'delivered') {
        this.noteFailure(this.sink.lastError ?? result);
        return from;
      }
      this.s.enqueuedEvents += batch.count;
      this.noteDelivered(batch);
      from = to;
    }
    return from;
  }

  private enqueueQueued(src: EncodedLines, from: number): number {
    const before = this.queue.unreadEvents;
    const n = this.queue.appendEncoded(src, from);
    this.s.enqueuedEvents += n;
    if (n > 0 && before === 0) this.unreadSinceMs = monotonicMs();
    if (this.waiter !== null && n > 0 && (this.idle || this.queue.unreadEvents >= this.o.maxBatchLines)) this.wake();
    return n;
  }

  /**
   * Events accepted but held in this process's memory only (a memory queue
   * waiting for a failing sink, or a batch in flight from it): what a kill
   * would lose. 0 with a disk spool (its events are in the page cache).
   */
  get memoryEvents(): number {
    if (this.queue.kind !== 'memory') return 0;
    let n = this.queue.unreadEvents;
    for (const slot of this.inflight) if (!slot.done) n += slot.batch.count;
    return n;
  }

  stats(): SinkStats {
    return {
      ...this.s,
      droppedEvents: { ...this.s.droppedEvents },
      spooledBytes: this.queue.storedBytes,
      unreadEvents: this.queue.unreadEvents,
      inFlightBatches: this.inflight.length,
      lagSeconds: this.lagSeconds(),
      configProblem: this.sink.configProblem ?? null,
      failing: this.failing ? this.failingReason : null,
    };
  }

  lagSeconds(): number {
    const oldest = this.inflight.length > 0 ? this.inflight[0].batch.firstKtimeNs : this.queue.oldestUnreadKtimeNs;
    if (oldest === null) return 0;
    return Math.max(0, (this.nowBootNs() - oldest) / 1e9);
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const unread = this.queue.unreadEvents;
      if (this.closing && unread === 0 && this.inflight.length === 0) return;
      if (unread > 0 && this.inflight.length < this.o.maxInFlight) {
        const waited = monotonicMs() - this.unreadSinceMs;
        const full = unread >= this.o.maxBatchLines || this.queue.unreadBytes >= this.o.maxBatchBytes;
        if (full || this.closing || waited >= this.o.lingerMs) {
          let batch: EventBatch | null;
          try {
            batch = await this.queue.read(this.o.maxBatchLines, this.o.maxBatchBytes);
          } catch (err) {
            this.log.error({ sink: this.name, err: String(err) }, 'queue read failed; retrying');
            await this.sleep(backoffDelayMs(0, { initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs }));
            continue;
          }
          if (this.queue.unreadEvents > 0) this.unreadSinceMs = monotonicMs();
          if (batch !== null && !this.stopped) this.dispatch(batch);
          continue;
        }
        await this.wait(this.o.lingerMs - waited, false);
        continue;
      }
      await this.wait(null, unread === 0);
    }
  }

  private dispatch(batch: EventBatch): void {
    const slot: Slot = { batch, done: false, task: null };
    this.inflight.push(slot);
    slot.task = this.deliver(slot);
  }

  private async deliver(slot: Slot): Promise<void> {
    const batch = slot.batch;
    for (let attempt = 0; ; attempt++) {
      let result: SendResult;
      let reason = '';
      try {
        result = await this.sink.send(batch);
        if (result !== 'delivered') reason = this.sink.lastError ?? result;
      } catch (err) {
        result = 'retry';
        reason = err instanceof Error ? err.message : String(err);
      }
      if (result === 'delivered') {
        this.noteDelivered(batch);
        break;
      }
      this.s.failedSends++;
      if (result === 'rejected') {
        this.reject(batch, reason);
        break;
      }
      this.s.retriedBatches++;
      this.metrics.retried(batch.count, reason);
      this.noteFailing(reason);
      if (this.stopped) return; // stays unacknowledged: on disk for the next run
      await this.sleep(backoffDelayMs(attempt, { initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs }));
      if (this.stopped) return;
    }
    slot.done = true;
    this.ackDone();
  }

  private noteDelivered(batch: EventBatch): void {
    this.s.deliveredEvents += batch.count;
    this.s.deliveredBatches++;
    this.s.deliveredBytes += batch.data.length;
    this.metrics.delivered(batch.count, batch.data.length, Math.max(0, (this.nowBootNs() - batch.firstKtimeNs) / 1e9));
    if (this.failing) {
      this.failing = false;
      this.log.info({ sink: this.name }, 'sink delivering again');
    }
  }

  /** A direct delivery failed: its events go to the queue and are retried from there. */
  private noteFailure(reason: string): void {
    this.s.failedSends++;
    this.noteFailing(reason);
  }

  private noteFailing(reason: string): void {
    this.failingReason = reason;
    if (!this.failing) {
      this.failing = true;
      this.log.warn({ sink: this.name, reason }, 'sink send failed; events stay queued and are retried with backoff');
    }
  }

  private reject(batch: EventBatch, reason: string): void {
    this.s.rejectedEvents += batch.count;
    this.metrics.rejected(batch.count, reason);
    if (this.deadLetter === null) {
      this.logRejection('error', { sink: this.name, reason, events: batch.count }, 'sink rejected a batch; dropped');
      return;
    }
    try {
      this.deadLetter.write(this.name, reason, batch);
      this.logRejection('warn', { sink: this.name, reason, events: batch.count, file: this.deadLetter.path },
        'sink rejected a batch; written to the dead-letter file');
    } catch (err) {
      this.logRejection('error', { sink: this.name, reason, err: String(err), file: this.deadLetter.path },
        'sink rejected a batch and the dead-letter file is not writable; dropped');
    }
  }

  /**
   * The first rejection is logged, then at most one per REJECT_LOG_INTERVAL_MS
   * with the count of those not logged: a destination that refuses
   * everything (stdout closed) must not write a log line per drain pass.
   * Every rejected event is counted in the metrics either way.
   */
  private logRejection(level: 'warn' | 'error', fields: object, msg: string): void {
    const now = monotonicMs();
    if (now - this.rejectLoggedMs < REJECT_LOG_INTERVAL_MS) {
      this.rejectsNotLogged++;
      return;
    }
    this.log[level](this.rejectsNotLogged > 0 ? { ...fields, not_logged: this.rejectsNotLogged } : fields, msg);
    this.rejectLoggedMs = now;
    this.rejectsNotLogged = 0;
  }

  /** Acknowledges the delivered prefix of the in-flight batches, in id order. */
  private ackDone(): void {
    let last = -1;
    while (this.inflight.length > 0 && this.inflight[0].done) last = this.inflight.shift()!.batch.lastId;
    if (last >= 0) this.queue.ack(last);
    this.wake();
  }

  private wait(ms: number | null, idle: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.idle = idle;
      if (ms !== null) this.waitTimer = setTimeout(() => this.wake(), Math.max(0, ms));
    });
  }

  private wake(): void {
    if (this.waitTimer !== null) {
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
    }
    const w = this.waiter;
    this.waiter = null;
    this.idle = false;
    if (w !== null) w();
  }

  /** A backoff wait that close() can cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  /**
   * Stops: keeps delivering until the queue is empty or `timeoutMs` passed,
   * then closes the sink (aborting sends in flight) and the queue. What was
   * not delivered stays in the spool for the next start. Idempotent.
   */
  close(timeoutMs = this.o.closeTimeoutMs): Promise<void> {
    if (this.closePromise === null) this.closePromise = this.doClose(timeoutMs);
    return this.closePromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.wake();
    if (this.runPromise !== null) {
      let timer: NodeJS.Timeout | null = null;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([this.runPromise, deadline]);
      clearTimeout(timer!);
    }
    this.stopped = true;
    this.wake();
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
    if (this.started) {
      try {
        await this.sink.close();
      } catch (err) {
        this.log.warn({ sink: this.name, err: String(err) }, 'sink close failed');
      }
    }
    // A sink's close() aborts its sends; one that does not is left behind after a grace period
    // (its batches stay unacknowledged: on disk for the next start).
    let grace: NodeJS.Timeout | null = null;
    await Promise.race([
      Promise.all(this.inflight.map((s) => s.task)),
      new Promise<void>((resolve) => {
        grace = setTimeout(resolve, ABANDON_SENDS_AFTER_MS);
      }),
    ]);
    clearTimeout(grace!);
    if (this.runPromise !== null) await this.runPromise;
    const remaining = this.queue.unreadEvents + this.inflight.reduce((n, s) => n + s.batch.count, 0);
    await this.queue.close();
    if (remaining > 0 && this.queue.kind === 'memory') {
      this.s.droppedEvents.closed += remaining;
      this.metrics.dropped(remaining, 'closed');
    }
    if (remaining > 0) {
      this.log.warn({ sink: this.name, events: remaining, queue: this.queue.kind },
        this.queue.kind === 'disk' ? 'sink closed with undelivered events; they stay in the spool' : 'sink closed with undelivered events; lost');
    }
  }
}
