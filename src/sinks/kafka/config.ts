/**
 * The Kafka sink's options: one plain description per option (name, type,
 * default, doc, validator) that the daemon's config schema includes as is,
 * and parseKafkaConfig(), which turns validated values into a
 * KafkaSinkConfig and checks what spans several options.
 *
 * Names are osquery's where osquery has the option (logger_kafka_brokers,
 * _topic, _acks, _compression), so an operator's existing flags keep their
 * meaning; values may be strings as in osquery's JSON config ("acks": "1").
 * Differences from osquery: every broker needs an explicit port (osquery
 * defaults to 9092 silently; we refuse to guess), and compression also
 * takes snappy, lz4 and zstd.
 *
 * A validator accepts its option's default: the default of a required
 * option ("" for brokers and topic) only fails in parseKafkaConfig, which
 * the daemon calls when the Kafka sink is enabled.
 */
import { AncestrydError } from '../../errors';
import { isPort, PORT_RANGE } from '../host-port';

export type KafkaAcks = -1 | 0 | 1;
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const KAFKA_COMPRESSIONS: readonly KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** host: the host identifier (all of a host's events on one partition, in order); entity_id: the process. */
export type KafkaKey = 'host' | 'entity_id';
export const KAFKA_KEYS: readonly KafkaKey[] = ['host', 'entity_id'];
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export const KAFKA_SASL_MECHANISMS: readonly (KafkaSaslMechanism | 'none')[] = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'];

/** What the sink runs with, after validation. Paths are read at KafkaSink.start(). */
export interface KafkaSinkConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly acks: KafkaAcks;
  readonly compression: KafkaCompression;
  readonly key: KafkaKey;
  readonly idempotent: boolean;
  readonly clientId: string;
  readonly maxBatchBytes: number;
  readonly requestTimeoutMs: number;
  /** null: plaintext. */
  readonly tls: null | {
    /** PEM CA bundle; null: the system's CAs. */
    readonly caFile: string | null;
    readonly certFile: string | null;
    readonly keyFile: string | null;
  };
  readonly sasl: null | {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly passwordFile: string;
  };
}

export type KafkaOptionValue = string | number | boolean;

/** One option, in the shape convict wants ({ doc, format, default }) plus a type name for docs and --help. */
export interface KafkaOptionSpec {
  readonly name: string;
  /** For docs: "string", "integer", "boolean" or "enum: a | b". */
  readonly type: string;
  readonly default: KafkaOptionValue;
  readonly doc: string;
  /** Throws AncestrydError ANC_CONFIG_INVALID naming the option; accepts the default. convict: `format`. */
  readonly validate: (value: unknown) => void;
  /** A path to a secret (never the secret itself): still, do not echo it into logs. */
  readonly sensitive?: boolean;
}

function invalid(message: string): AncestrydError {
  return new AncestrydError('ANC_CONFIG_INVALID', message);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

// --- value parsers: each names its option and says what it expected ---------

const HOST_LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_RE = new RegExp(`^${HOST_LABEL}(\\.${HOST_LABEL})*\\.?$`);
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "host:port,host:port" → ["host:port", …]; "" → []. */
export function parseBrokers(value: unknown, option = 'logger_kafka_brokers'): string[] {
  if (typeof value !== 'string') throw invalid(`${option}: expected "host:port,...", got ${show(value)}`);
  if (value.trim() === '') return [];
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const why = brokerProblem(entry);
    if (why !== null) {
      throw invalid(`${option}: expected "host:port,...", got ${JSON.stringify(value)}`
        + (why === '' ? '' : ` (${JSON.stringify(entry)}: ${why})`));
    }
    out.push(entry);
  }
  return out;
}

/**
 * null when `entry` is host:port; '' when it is plainly not; else what is wrong.
 * Not host-port.ts's parseHostPort: a broker takes no IPv6 and may have "_" in its name.
 */
function brokerProblem(entry: string): string | null {
  if (entry.startsWith('[')) return 'IPv6 literals are not supported by the Kafka client; use a host name';
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return entry === '' ? 'empty entry' : '';
  const host = entry.slice(0, colon);
  const port = entry.slice(colon + 1);
  if (host.includes(':')) return 'IPv6 literals are not supported by the Kafka client; use a host name';
  if (!/^\d{1,5}$/.test(port)) return '';
  const p = Number(port);
  if (!isPort(p)) return `port ${p} is out of range [${PORT_RANGE.join(', ')}]`;
  const v4 = IPV4_RE.exec(host);
  if (v4 !== null) return v4.slice(1).every((o) => Number(o) <= 255) ? null : `${host} is not an IPv4 address`;
  if (host.length > 253 || !HOST_RE.test(host)) return `${JSON.stringify(host)} is not a host name`;
  return null;
}

/** Kafka's legal topic names: [a-zA-Z0-9._-], 1..249 characters, not "." or "..". "" is "unset". */
export function parseTopic(value: unknown, option = 'logger_kafka_topic'): string {
  if (typeof value !== 'string') throw invalid(`${option}: expected a topic name, got ${show(value)}`);
  if (value === '') return '';
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(value) || value === '.' || value === '..') {
    throw invalid(`${option}: ${JSON.stringify(value)} is not a legal Kafka topic name (letters, digits, ".", "_", "-"; at most 249)`);
  }
  return value;
}

export function parseAcks(value: unknown, option = 'logger_kafka_acks'): KafkaAcks {
  if (value === 'all' || value === '-1' || value === -1) return -1;
  if (value === '1' || value === 1) return 1;
  if (value === '0' || value === 0) return 0;
  throw invalid(`${option}: expected "all" (or -1), 1 or 0, got ${show(value)}`);
}

function parseEnum<T extends string>(option: string, allowed: readonly T[], value: unknown): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(`${option}: expected ${allowed.map((a) => `"${a}"`).join(', ')}, got ${show(value)}`);
}

function parseBool(option: string, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`${option}: expected true or false, got ${show(value)}`);
}

/** "auto" → null (on when acks=all). */
function parseIdempotent(option: string, value: unknown): boolean | null {
  if (value === 'auto') return null;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`${option}: expected "auto", true or false, got ${show(value)}`);
}

function parseInteger(option: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw invalid(`${option}: expected an integer, got ${show(value)}`);
  if (n < min || n > max) throw invalid(`${option}=${n} is out of range [${min}, ${max}]`);
  return n;
}

function parseString(option: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`${option}: expected a string, got ${show(value)}`);
  return value;
}

function parsePath(option: string, value: unknown): string {
  const s = parseString(option, value);
  if (s !== '' && !s.startsWith('/')) throw invalid(`${option}: expected an absolute path, got ${JSON.stringify(s)}`);
  return s;
}

function parseClientId(option: string, value: unknown): string {
  const s = parseString(option, value);
  if (!/^[\x21-\x7e]{1,255}$/.test(s)) {
    throw invalid(`${option}: expected 1..255 printable ASCII characters without spaces, got ${JSON.stringify(s)}`);
  }
  return s;
}

// --- the options -----------------------------------------------------------

/**
 * The broker's default message.max.bytes is 1048588 (1 MiB + 12); the cap
 * leaves room for the record batch's own framing. See kafka-sink.ts.
 */
export const KAFKA_DEFAULT_MAX_BATCH_BYTES = 1_000_000;
/** The ranges the sink accepts, stated once: its option validators and parseKafkaConfig read them. */
const MAX_BATCH_BYTES_RANGE = [1024, 64 * 1024 * 1024] as const;
const REQUEST_TIMEOUT_MS_RANGE = [1000, 300_000] as const;

const spec = (s: KafkaOptionSpec): KafkaOptionSpec => s;

export const KAFKA_OPTIONS = {
  logger_kafka_brokers: spec({
    name: 'logger_kafka_brokers',
    type: 'string',
    default: '',
    doc: 'Bootstrap brokers, "host:port,host:port". Required when the Kafka sink is enabled; every entry needs a port.',
    validate: (v) => void parseBrokers(v),
  }),
  logger_kafka_topic: spec({
    name: 'logger_kafka_topic',
    type: 'string',
    default: '',
    doc: 'Topic every event is published to. Required when the Kafka sink is enabled.',
    validate: (v) => void parseTopic(v),
  }),
  logger_kafka_acks: spec({
    name: 'logger_kafka_acks',
    type: 'enum: all | -1 | 1 | 0',
    default: 'all',
    doc: 'Acknowledgements the partition leader waits for: "all" (-1, every in-sync replica), 1 (the leader only) or 0 (none: '
      + 'a batch counts as delivered once written to the socket, and is lost if the broker drops it).',
    validate: (v) => void parseAcks(v),
  }),
  logger_kafka_compression: spec({
    name: 'logger_kafka_compression',
    type: 'enum: none | gzip | snappy | lz4 | zstd',
    default: 'none',
    doc: 'Compression of record batches. zstd needs Kafka >= 2.1 on the broker.',
    validate: (v) => void parseEnum('logger_kafka_compression', KAFKA_COMPRESSIONS, v),
  }),
  logger_kafka_key: spec({
    name: 'logger_kafka_key',
    type: 'enum: host | entity_id',
    default: 'host',
    doc: 'Message key: "host" (the host identifier: a host\'s events stay on one partition, in order) or "entity_id" '
      + '(the process\'s entity id: a process\'s events stay in order, a host\'s spread over partitions).',
    validate: (v) => void parseEnum('logger_kafka_key', KAFKA_KEYS, v),
  }),
  logger_kafka_idempotent: spec({
    name: 'logger_kafka_idempotent',
    type: 'enum: auto | true | false',
    default: 'auto',
    doc: 'Idempotent producer: the broker drops a batch the sink sends again after a lost acknowledgement. '
      + '"auto" turns it on when logger_kafka_acks is "all"; true requires acks "all".',
    validate: (v) => void parseIdempotent('logger_kafka_idempotent', v),
  }),
  logger_kafka_client_id: spec({
    name: 'logger_kafka_client_id',
    type: 'string',
    default: 'ancestryd',
    doc: 'Kafka client.id: names this producer in broker logs, metrics and quotas.',
    validate: (v) => void parseClientId('logger_kafka_client_id', v),
  }),
  logger_kafka_max_batch_bytes: spec({
    name: 'logger_kafka_max_batch_bytes',
    type: 'integer',
    default: KAFKA_DEFAULT_MAX_BATCH_BYTES,
    doc: 'Upper bound on one produce request\'s records before compression (values, keys and per-record framing). '
      + 'Larger batches from the queue are split. Keep it below the broker\'s message.max.bytes (default 1048588) '
      + 'and the topic\'s max.message.bytes.',
    validate: (v) => void parseInteger('logger_kafka_max_batch_bytes', v, ...MAX_BATCH_BYTES_RANGE),
  }),
  logger_kafka_request_timeout_ms: spec({
    name: 'logger_kafka_request_timeout_ms',
    type: 'integer',
    default: 30_000,
    doc: 'How long a request waits for the broker\'s answer (also the broker-side wait for acks) before the send '
      + 'counts as failed and is retried.',
    validate: (v) => void parseInteger('logger_kafka_request_timeout_ms', v, ...REQUEST_TIMEOUT_MS_RANGE),
  }),
  logger_kafka_tls: spec({
    name: 'logger_kafka_tls',
    type: 'boolean',
    default: false,
    doc: 'Connect with TLS. The broker\'s certificate and host name are always verified.',
    validate: (v) => void parseBool('logger_kafka_tls', v),
  }),
  logger_kafka_tls_server_certs: spec({
    name: 'logger_kafka_tls_server_certs',
    type: 'string',
    default: '',
    doc: 'PEM file of the CA(s) that sign the brokers\' certificates; "" uses the system\'s CAs.',
    validate: (v) => void parsePath('logger_kafka_tls_server_certs', v),
  }),
  logger_kafka_tls_client_cert: spec({
    name: 'logger_kafka_tls_client_cert',
    type: 'string',
    default: '',
    doc: 'PEM client certificate (chain) for brokers that require TLS client authentication; needs logger_kafka_tls_client_key.',
    validate: (v) => void parsePath('logger_kafka_tls_client_cert', v),
  }),
  logger_kafka_tls_client_key: spec({
    name: 'logger_kafka_tls_client_key',
    type: 'string',
    default: '',
    doc: 'PEM private key of logger_kafka_tls_client_cert (unencrypted; keep it 0600).',
    validate: (v) => void parsePath('logger_kafka_tls_client_key', v),
    sensitive: true,
  }),
  logger_kafka_sasl_mechanism: spec({
    name: 'logger_kafka_sasl_mechanism',
    type: 'enum: none | plain | scram-sha-256 | scram-sha-512',
    default: 'none',
    doc: 'SASL authentication. "plain" sends the password as is: use it only with logger_kafka_tls.',
    validate: (v) => void parseEnum('logger_kafka_sasl_mechanism', KAFKA_SASL_MECHANISMS, v),
  }),
  logger_kafka_sasl_username: spec({
    name: 'logger_kafka_sasl_username',
    type: 'string',
    default: '',
    doc: 'SASL user name (needs logger_kafka_sasl_mechanism other than none).',
    validate: (v) => void parseString('logger_kafka_sasl_username', v),
  }),
  logger_kafka_sasl_password_file: spec({
    name: 'logger_kafka_sasl_password_file',
    type: 'string',
    default: '',
    doc: 'File holding the SASL password (one line; a trailing newline is ignored). Read at start, never logged.',
    validate: (v) => void parsePath('logger_kafka_sasl_password_file', v),
    sensitive: true,
  }),
} as const;

export type KafkaOptionName = keyof typeof KAFKA_OPTIONS;
export const KAFKA_OPTION_NAMES = Object.keys(KAFKA_OPTIONS) as KafkaOptionName[];

/**
 * Validates the Kafka options (missing ones take their default; unknown
 * logger_kafka_* keys are refused) and what spans several of them.
 * Throws AncestrydError ANC_CONFIG_INVALID with the option and the fix.
 */
export function parseKafkaConfig(values: Readonly<Record<string, unknown>>): KafkaSinkConfig {
  for (const k of Object.keys(values)) {
    if (!(k in KAFKA_OPTIONS)) {
      throw invalid(`${k}: unknown Kafka option; known: ${KAFKA_OPTION_NAMES.join(', ')}`);
    }
  }
  const v = (n: KafkaOptionName): unknown => (values[n] === undefined ? KAFKA_OPTIONS[n].default : values[n]);
  for (const n of KAFKA_OPTION_NAMES) KAFKA_OPTIONS[n].validate(v(n));

  const brokers = parseBrokers(v('logger_kafka_brokers'));
  if (brokers.length === 0) {
    throw invalid('logger_kafka_brokers: required when the Kafka sink is enabled, e.g. "kafka1:9092,kafka2:9092"');
  }
  const topic = parseTopic(v('logger_kafka_topic'));
  if (topic === '') throw invalid('logger_kafka_topic: required when the Kafka sink is enabled, e.g. "ancestryd_process_events"');
  const acks = parseAcks(v('logger_kafka_acks'));
  const idem = parseIdempotent('logger_kafka_idempotent', v('logger_kafka_idempotent'));
  if (idem === true && acks !== -1) {
    throw invalid(`logger_kafka_idempotent=true needs logger_kafka_acks=all, got ${show(v('logger_kafka_acks'))}: `
      + 'set acks to "all" or idempotent to "auto"');
  }

  const tlsOn = parseBool('logger_kafka_tls', v('logger_kafka_tls'));
  const caFile = parsePath('logger_kafka_tls_server_certs', v('logger_kafka_tls_server_certs'));
  const certFile = parsePath('logger_kafka_tls_client_cert', v('logger_kafka_tls_client_cert'));
  const keyFile = parsePath('logger_kafka_tls_client_key', v('logger_kafka_tls_client_key'));
  if (!tlsOn) {
    for (const [n, p] of [['logger_kafka_tls_server_certs', caFile], ['logger_kafka_tls_client_cert', certFile],
      ['logger_kafka_tls_client_key', keyFile]] as const) {
      if (p !== '') throw invalid(`${n} is set but logger_kafka_tls is false: set logger_kafka_tls=true or clear ${n}`);
    }
  }
  if ((certFile === '') !== (keyFile === '')) {
    throw invalid(certFile === ''
      ? 'logger_kafka_tls_client_key is set without logger_kafka_tls_client_cert: set both or neither'
      : 'logger_kafka_tls_client_cert is set without logger_kafka_tls_client_key: set both or neither');
  }

  const mech = parseEnum('logger_kafka_sasl_mechanism', KAFKA_SASL_MECHANISMS, v('logger_kafka_sasl_mechanism'));
  const username = parseString('logger_kafka_sasl_username', v('logger_kafka_sasl_username'));
  const passwordFile = parsePath('logger_kafka_sasl_password_file', v('logger_kafka_sasl_password_file'));
  if (mech === 'none') {
    if (username !== '' || passwordFile !== '') {
      throw invalid('logger_kafka_sasl_username/logger_kafka_sasl_password_file are set but logger_kafka_sasl_mechanism is "none": '
        + 'choose a mechanism (plain, scram-sha-256, scram-sha-512) or clear them');
    }
  } else {
    if (username === '') throw invalid(`logger_kafka_sasl_username: required with logger_kafka_sasl_mechanism=${mech}`);
    if (passwordFile === '') throw invalid(`logger_kafka_sasl_password_file: required with logger_kafka_sasl_mechanism=${mech}`);
  }

  return {
    brokers,
    topic,
    acks,
    compression: parseEnum('logger_kafka_compression', KAFKA_COMPRESSIONS, v('logger_kafka_compression')),
    key: parseEnum('logger_kafka_key', KAFKA_KEYS, v('logger_kafka_key')),
    idempotent: idem ?? acks === -1,
    clientId: parseClientId('logger_kafka_client_id', v('logger_kafka_client_id')),
    maxBatchBytes: parseInteger('logger_kafka_max_batch_bytes', v('logger_kafka_max_batch_bytes'), ...MAX_BATCH_BYTES_RANGE),
    requestTimeoutMs: parseInteger('logger_kafka_request_timeout_ms', v('logger_kafka_request_timeout_ms'), ...REQUEST_TIMEOUT_MS_RANGE),
    tls: tlsOn ? { caFile: caFile || null, certFile: certFile || null, keyFile: keyFile || null } : null,
    sasl: mech === 'none' ? null : { mechanism: mech, username, passwordFile },
  };
}
