/**
 * Routes kafkajs's own log lines into the daemon's logger (never the
 * console), rate-limited: during an outage kafkajs logs the same connection
 * error on every internal attempt, and the driver already reports the
 * outage once ("sink send failed ...").
 *
 * - kafkajs ERROR and WARN → warn; lines about conditions kafkajs retries by
 *   itself and that resolve in seconds (a freshly started broker's
 *   coordinator still loading, a leader election) → info.
 * - The same line is logged at most once per `windowMs`; the next one after
 *   the window carries how many were suppressed.
 * - Nothing a caller configured as a secret appears: any occurrence is
 *   replaced by "[redacted]" (kafkajs does not log passwords; this makes
 *   sure a future version cannot leak one through us).
 */
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { SinkLogger } from '../sink';

/** kafkajs retries these by itself; they clear within seconds of a broker start or leader move. */
const TRANSIENT = /coordinator (is )?loading|not the correct coordinator|coordinator is not available|leadership election|leader not available|not the leader for|not leader or follower|NOT_LEADER/i;

/**
 * kafkajs warns when the idempotent producer's retries are bounded. Ours are
 * on purpose: a send that fails goes back to the driver, which sends the
 * identical batch again, and the broker still de-duplicates it.
 */
const EXPECTED = /Limiting retries for the idempotent producer/;

export interface ClientLogOptions {
  sink: string;
  log: SinkLogger;
  secrets?: readonly string[];
  windowMs?: number;
  now?: () => number;
}

interface Seen {
  at: number;
  suppressed: number;
}

const MAX_TRACKED = 256;

export function kafkaLogCreator(opts: ClientLogOptions): logCreator {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const secrets = (opts.secrets ?? []).filter((s) => s.length > 0);
  const seen = new Map<string, Seen>();
  const redact = (s: string): string => {
    for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join('[redacted]');
    return s;
  };
  return () => (entry: LogEntry) => {
    const message = String(entry.log.message ?? '');
    if (EXPECTED.test(message)) return;
    if (entry.level !== logLevel.ERROR && entry.level !== logLevel.WARN && entry.level !== logLevel.INFO) return;
    const key = entry.level + '|' + entry.namespace + '|' + message;
    const t = now();
    const s = seen.get(key);
    let repeated = 0;
    if (s !== undefined) {
      if (t - s.at < windowMs) {
        s.suppressed++;
        return;
      }
      repeated = s.suppressed;
      s.at = t;
      s.suppressed = 0;
    } else {
      if (seen.size >= MAX_TRACKED) seen.clear();
      seen.set(key, { at: t, suppressed: 0 });
    }
    const fields: Record<string, unknown> = { sink: opts.sink, kafkajs: entry.namespace };
    const l = entry.log as Record<string, unknown>;
    for (const f of ['broker', 'topic', 'groupId', 'retryCount', 'retryTime', 'error']) {
      if (l[f] !== undefined) fields[f] = typeof l[f] === 'string' ? redact(l[f] as string) : l[f];
    }
    if (repeated > 0) fields.repeated = repeated;
    const text = 'kafka client: ' + redact(message);
    const transient = TRANSIENT.test(message) || (typeof l.error === 'string' && TRANSIENT.test(l.error));
    if (entry.level === logLevel.INFO || transient) opts.log.info(fields, text);
    else opts.log.warn(fields, text);
  };
}
