/**
 * The daemon's own log (pino): JSON lines on stderr, pretty on a terminal,
 * and no secret in either. Events never go through here (they go to the
 * outputs); stdout stays free for the stdout output.
 *
 * Secrets are kept out twice:
 *  1. pino's redact paths censor known fields wherever they appear in
 *     logged objects (enroll secret, node_key, passwords, private keys,
 *     Authorization and Cookie headers, tokens) — structure-based;
 *  2. every finished line passes a value-based guard before it is written:
 *     PEM blocks, registered secret values (addSecret: the enroll secret,
 *     the SASL password once read) and "key: value" / "key=value" pairs of
 *     secret keys inside free text (error messages, response bodies) are
 *     replaced. This catches what paths cannot: messages, err.message and
 *     err.stack, and nesting deeper than the paths reach.
 */
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config/option-schema';

export type { Logger } from 'pino';

export const REDACTED = '[REDACTED]';

/** Field names whose values are secret wherever they appear (top level, and one or two levels down). */
const SECRET_KEYS = [
  'secret', 'enroll_secret', 'enrollSecret', 'node_key', 'nodeKey', 'password', 'passwd', 'sasl_password',
  'saslPassword', 'private_key', 'privateKey', 'key', 'passphrase', 'token', 'access_token', 'accessToken',
  'authorization', 'Authorization', 'cookie', 'Cookie', 'set-cookie',
];

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => {
  const p = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `["${k}"]`;
  const dot = p.startsWith('[') ? p : `.${p}`;
  return [p, `*${dot}`, `*.*${dot}`];
}).concat(['headers.authorization', '*.headers.authorization', 'req.headers.authorization', 'sasl.password', '*.sasl.password']);

/** Secret keys in free text: `"node_key":"v"`, `node_key=v`, `password: v`, `Authorization: Bearer v` (also JSON-escaped). */
const PAIR_RE = /((?:enroll_secret|enrollSecret|node_key|nodeKey|password|passwd|secret|passphrase|access_token|token)(?:\\?")?\s*[:=]\s*(?:\\?")?)((?:Bearer |Basic )?[^"\\\s,;&}]+)/gi;
const AUTH_RE = /((?:proxy-)?authorization(?:\\?")?\s*[:=]\s*(?:\\?")?)((?:Bearer|Basic|Token|Digest)\s+)?([^"\\\s,;}]+)/gi;
/** A PEM block, or what is left of one, up to its END line or the end of the JSON string holding it. */
const PEM_RE = /-----BEGIN [A-Z0-9 ]+-----(?:(?!-----END )[^"\\]|\\.)*(?:-----END [A-Z0-9 ]+-----)?/g;

/** Shorter registered values would censor ordinary words; real secrets are longer. */
export const MIN_SECRET_LENGTH = 6;

/** The value-based guard: scrubs one serialized log line. */
export class SecretScrubber {
  private readonly values = new Set<string>();

  /** A secret value to censor wherever it appears (raw or JSON-escaped). Ignores values shorter than MIN_SECRET_LENGTH. */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
    this.values.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.add(escaped);
  }

  scrub(line: string): string {
    let out = line;
    if (out.includes('-----BEGIN ')) out = out.replace(PEM_RE, '[REDACTED PEM]');
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    out = out.replace(AUTH_RE, (_m, head: string, scheme: string | undefined) => head + (scheme ?? '') + REDACTED);
    out = out.replace(PAIR_RE, (m, head: string, value: string) => (value === REDACTED || value.startsWith('[REDACTED') ? m : head + REDACTED));
    return out;
  }
}

interface LineSink {
  write(chunk: string): unknown;
}

export interface LoggingOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go (a Writable in pretty mode). Default: stderr (fd 2), written synchronously so a crash loses no line. */
  destination?: LineSink | NodeJS.WritableStream;
  /** Is the destination a terminal (decides format "auto" and colours)? Default: process.stderr.isTTY. */
  isTty?: boolean;
  /** Bound into every line. */
  base?: Record<string, unknown>;
}

export interface Logging {
  /** The root logger; pass it (or a child) to components: it satisfies SinkLogger. */
  readonly logger: Logger;
  /** A logger for one component: every line carries {component}. */
  child(component: string, bindings?: Record<string, unknown>): Logger;
  /** log_level on SIGHUP: applies to the root and every child. */
  setLevel(level: LogLevel): void;
  /** Register a secret value (the enroll secret, a password read from a file) for the value-based guard. */
  addSecret(value: string): void;
  /** Flush buffered output (pretty mode buffers in pino-pretty). */
  flush(): void;
}

export function createLogging(opts: LoggingOptions): Logging {
  const scrubber = new SecretScrubber();
  const isTty = opts.isTty ?? Boolean(process.stderr.isTTY);
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && isTty);
  let target: LineSink & { flushSync?: () => void };
  if (pretty) {
    target = pinoPretty({
      colorize: isTty,
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: opts.destination ? (opts.destination as NodeJS.WritableStream) : 2,
    }) as unknown as LineSink;
  } else {
    target = (opts.destination as LineSink | undefined) ?? pino.destination({ fd: 2, sync: true });
  }
  const guarded: LineSink = { write: (line: string) => target.write(scrubber.scrub(line)) };
  const logger = pino({
    level: opts.level,
    base: { pid: process.pid, ...(opts.base ?? {}) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    // JSON lines carry "level":"info" (journal readers and jq); pino-pretty wants the numbers.
    ...(pretty ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
  }, guarded);
  return {
    logger,
    child: (component, bindings) => logger.child({ component, ...(bindings ?? {}) }),
    setLevel: (level) => { logger.level = level; },
    addSecret: (value) => scrubber.add(value),
    flush: () => { logger.flush(); target.flushSync?.(); },
  };
}
