/**
 * The sink contract: a sink moves batches of already-serialized
 * events and says what became of each one. The driver (sink-driver.ts) owns
 * batching, retries, the spool and metrics; a sink only delivers.
 */

/**
 * - delivered: the destination has the batch; the spool may free it.
 * - retry: a transient failure; the same batch is sent again after backoff.
 * - rejected: the destination will never take this batch; it goes to the
 *   dead-letter file with the sink's `lastError` as reason, and is counted.
 */
export type SendResult = 'delivered' | 'retry' | 'rejected';

export interface Sink {
  readonly name: string;
  /** Validates and opens what the sink needs; throws AncestrydError on bad config. Must not fail because the destination is down. */
  start(): Promise<void>;
  /** Never rejects on delivery problems: it answers retry or rejected. A throw counts as retry. */
  send(batch: EventBatch): Promise<SendResult>;
  /**
   * Optional synchronous delivery, for a destination where a returned write is
   * as good as an acknowledgement (a local file: the page cache outlives the
   * process). The driver calls it from enqueueEncoded() while nothing is queued, so
   * the drain hands ring space back to the kernel only after the events are
   * written, and the output needs no spool. `batch.data` is valid only during
   * the call. What does not answer delivered is queued and goes through send().
   */
  deliverNow?(batch: EventBatch): SendResult;
  /** Releases everything; aborts sends in flight (they answer retry). Idempotent. */
  close(): Promise<void>;
  /** Why the last send did not deliver (dead-letter reason, logs). */
  readonly lastError?: string | null;
  /**
   * Set while the destination answers in a way only a configuration change
   * fixes (a wrong endpoint, a forbidden node): retried with backoff, and
   * shown in stats and metrics so an operator sees it is not an outage.
   */
  readonly configProblem?: string | null;
}

/**
 * The batch's first ⌈count/2⌉ events and the rest, cut at a line boundary
 * (for a destination that refuses the whole as too large). Ids stay exact;
 * kernel times are the batch's own (used only for lag and latency).
 */
export function splitBatch(batch: EventBatch): [EventBatch, EventBatch] {
  const k = Math.ceil(batch.count / 2);
  let cut = -1;
  for (let i = 0; i < k; i++) cut = batch.data.indexOf(NEWLINE, cut + 1);
  const at = cut + 1;
  return [
    { firstId: batch.firstId, lastId: batch.firstId + k - 1, count: k, data: batch.data.subarray(0, at),
      firstKtimeNs: batch.firstKtimeNs, lastKtimeNs: batch.firstKtimeNs },
    { firstId: batch.firstId + k, lastId: batch.lastId, count: batch.count - k, data: batch.data.subarray(at),
      firstKtimeNs: batch.lastKtimeNs, lastKtimeNs: batch.lastKtimeNs },
  ];
}

/**
 * A run of consecutive queued events, as the queue stored them. Ids
 * increase by one per event; a gap means records were dropped or corrupt in
 * between (counted where that happened).
 */
export interface EventBatch {
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
  /** `count` JSON lines, each terminated by "\n", UTF-8. JSON lines contain no raw newline. */
  readonly data: Buffer;
  /** CLOCK_BOOTTIME ns of the first and last event: lag and latency metrics. */
  readonly firstKtimeNs: number;
  readonly lastKtimeNs: number;
}

const NEWLINE = 0x0a;
const COMMA = 0x2c;

/**
 * `prefix` + "[" + lines joined by "," + "]" + `suffix` as one Buffer, without
 * parsing: the lines are already JSON objects, so replacing each line's
 * newline by a comma turns the batch into a JSON array.
 */
export function batchJsonArray(batch: EventBatch, prefix: string, suffix: string): Buffer {
  const d = batch.data;
  const pre = Buffer.byteLength(prefix);
  const len = pre + 1 + d.length + Buffer.byteLength(suffix) + (d.length === 0 ? 1 : 0);
  const out = Buffer.allocUnsafe(len);
  let p = out.write(prefix, 0, 'utf8');
  out[p++] = 0x5b; // [
  d.copy(out, p);
  // Every line ends in "\n": turn them into separators, the last into "]".
  let end = p + d.length;
  for (let i = out.indexOf(NEWLINE, p); i >= 0 && i < end; i = out.indexOf(NEWLINE, i + 1)) out[i] = COMMA;
  if (d.length === 0) out[end++] = 0x5d;
  else out[end - 1] = 0x5d; // ]
  out.write(suffix, end, 'utf8');
  return out;
}

/**
 * Counters and observations per sink, mapped to Prometheus by the daemon
 * (src/sinks never imports prom-client). Called per batch, never per event.
 */
export interface SinkMetrics {
  /** A batch was delivered; latency = kernel timestamp of its first event → acknowledgement. */
  delivered(events: number, bytes: number, latencySeconds: number): void;
  /** A send answered retry or threw: the batch will be sent again. */
  retried(events: number, reason: string): void;
  /** A batch was rejected and dead-lettered. */
  rejected(events: number, reason: string): void;
  /** Events lost: queue_full, too_large, corrupt, write_error, closed. */
  dropped(events: number, reason: DropReason): void;
}

export type DropReason = 'queue_full' | 'too_large' | 'corrupt' | 'write_error' | 'closed';

export const noopMetrics: SinkMetrics = {
  delivered() {},
  retried() {},
  rejected() {},
  dropped() {},
};

/** pino's Logger satisfies this. Sinks log state changes, never per event. */
export interface SinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const noopLogger: SinkLogger = { info() {}, warn() {}, error() {} };

/**
 * Registers a secret value a sink read or received (enroll secret, node
 * key, SASL password), so that the daemon's logs censor it wherever it
 * appears: in a server's reply echoed into an error, a library's message.
 */
export type AddSecret = (value: string) => void;

export const noSecrets: AddSecret = () => {};
