/**
 * Logs per-event problems (a malformed record, a /proc race, a rejected
 * message) without flooding the log: per key, the first `burst` lines of
 * each interval are written, the rest only counted, and the count rides on
 * the next line written for that key (`suppressed: N`) or on flush().
 * Counting for metrics is the caller's (every per-event problem is counted
 * with a reason label and logged rate-limited, never both skipped). No timers: the clock is read on each call.
 */
type Level = 'warn' | 'error';
type LogFn = (obj: object, msg: string) => void;
export type RateLimitedTarget = Record<Level, LogFn>;

export interface RateLimitOptions {
  /** Default 60 s. */
  intervalMs?: number;
  /** Lines per key per interval. Default 5. */
  burst?: number;
  /** Distinct keys tracked; further keys share one bucket. Default 1000. */
  maxKeys?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
}

interface Bucket {
  windowStart: number;
  logged: number;
  suppressed: number;
  level: Level;
  msg: string;
}

const OVERFLOW_KEY = '(other)';

export class RateLimitedLog {
  private readonly buckets = new Map<string, Bucket>();
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly log: RateLimitedTarget, opts: RateLimitOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.burst = opts.burst ?? 5;
    this.maxKeys = opts.maxKeys ?? 1000;
    this.now = opts.now ?? (() => performance.now());
  }

  warn(key: string, obj: object, msg: string): boolean {
    return this.write('warn', key, obj, msg);
  }

  error(key: string, obj: object, msg: string): boolean {
    return this.write('error', key, obj, msg);
  }

  /** Writes one summary line per key with suppressed lines (call on close). */
  flush(): void {
    for (const [key, b] of this.buckets) {
      if (b.suppressed > 0) {
        this.emit(b.level, { key, suppressed: b.suppressed }, `${b.suppressed} more "${b.msg}" suppressed (rate limit)`);
        b.suppressed = 0;
      }
    }
  }

  private write(level: Level, key: string, obj: object, msg: string): boolean {
    if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) key = OVERFLOW_KEY;
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { windowStart: t, logged: 0, suppressed: 0, level, msg };
      this.buckets.set(key, b);
    } else if (t - b.windowStart >= this.intervalMs) {
      b.windowStart = t;
      b.logged = 0;
    }
    b.level = level;
    b.msg = msg;
    if (b.logged >= this.burst) {
      b.suppressed++;
      return false;
    }
    b.logged++;
    if (b.suppressed > 0) {
      this.emit(level, { ...obj, suppressed: b.suppressed }, msg);
      b.suppressed = 0;
    } else {
      this.emit(level, obj, msg);
    }
    return true;
  }

  private emit(level: Level, obj: object, msg: string): void {
    if (level === 'error') this.log.error(obj, msg);
    else this.log.warn(obj, msg);
  }
}

/**
 * A component's logger whose warnings and errors are rate-limited per
 * message: for parts that log a failure on every call (a spool's write on
 * a full disk: once per drain pass, about 100 a second), where each line
 * would say the same thing.
 */
export function rateLimitedLogger(log: Record<'info' | Level, LogFn>, opts: RateLimitOptions = {}): Record<'info' | Level, LogFn> {
  const limited = new RateLimitedLog({ warn: (o, m) => log.warn(o, m), error: (o, m) => log.error(o, m) }, opts);
  return {
    info: (obj, msg) => log.info(obj, msg),
    warn: (obj, msg) => void limited.warn(msg, obj, msg),
    error: (obj, msg) => void limited.error(msg, obj, msg),
  };
}
