/**
 * The options of each output and of the spool, one function a sink, that the
 * schema (option-schema.ts) spreads into OPTIONS in this order: the file
 * output, the spool, Kafka, the tls output.
 *
 * Each option is declared here once, with its doc text; its range and
 * default come from the sink that enforces them (FILE_SINK_RANGES,
 * SPOOL_RANGES, TLS_SINK_RANGES and their _DEFAULTS; Kafka describes its
 * options whole in KAFKA_OPTIONS), so what the schema rejects is what the
 * sink rejects. The sinks never import the daemon: this module reads them.
 *
 * What the docs say about queues follows src/daemon/outputs.ts: the file
 * output writes synchronously from the drain pass and queues in memory only
 * while writes fail; kafka and tls write ahead to a disk spool; stdout
 * queues in memory.
 */
import { isAncestrydError } from '../../errors';
import { FILE_SINK_DEFAULTS, FILE_SINK_RANGES } from '../../sinks/file/config';
import { parseFsyncPolicy } from '../../sinks/fsync-policy';
import { KAFKA_OPTIONS, type KafkaOptionSpec, type KafkaOptionValue } from '../../sinks/kafka/config';
import { DROP_POLICIES } from '../../sinks/queue';
import { SPOOL_DEFAULTS, SPOOL_RANGES } from '../../sinks/spool/config';
import {
  checkTlsEndpoint, parseTlsHostname, TLS_ENDPOINT_ALLOWED, TLS_HOSTNAME_ALLOWED, TLS_SINK_DEFAULTS, TLS_SINK_RANGES,
} from '../../sinks/tls/config';
import {
  boolean, bytes, decimal, integer, oneOf, OptionValueError, path, systemOrLocal, text,
  type OptionGroup, type OptionSpec,
} from './option-types';

/** A sink's [min, max] as the spec builders take it. */
function within([min, max]: readonly [number, number]): { min: number; max: number } {
  return { min, max };
}

function fsyncPolicy(o: { group: OptionGroup; doc: string; default: string | number }): OptionSpec<string | number> {
  const allowed = '"never", "batch", or an interval in ms (1..3600000)';
  return {
    name: '', group: o.group, type: 'fsync', allowed, doc: o.doc, default: o.default, reloadable: false,
    parse(raw, { name }) {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new OptionValueError(`${name}: expected ${allowed}, got ${JSON.stringify(raw)}`);
      try {
        return parseFsyncPolicy(name, typeof raw === 'string' ? raw.trim() : raw);
      } catch (err) {
        throw new OptionValueError((err as Error).message);
      }
    },
  };
}

/** The file output (src/sinks/file): logger_path, logger_rotate_*, logger_fsync. */
export function fileOptions() {
  return {
    logger_path: path({
      group: 'filesystem', default: (h) => systemOrLocal('/var/log/ancestryd', 'var/log/ancestryd', h, true),
      defaultDoc: '/var/log/ancestryd; ./var/log/ancestryd when that cannot be written (not root)',
      doc: 'Directory of ancestryd.results.log (created 0700). Refused when another user owns it or group or others may write it; '
        + 'a symlink in place of the log is never followed.',
    }),
    logger_rotate_size: bytes({
      group: 'filesystem', ...within(FILE_SINK_RANGES.rotateSizeBytes), default: FILE_SINK_DEFAULTS.rotateSizeBytes,
      doc: 'Rotate the results log before it passes this size.',
    }),
    logger_rotate_max_files: integer({
      group: 'filesystem', ...within(FILE_SINK_RANGES.rotateMaxFiles), unit: 'files', default: FILE_SINK_DEFAULTS.rotateMaxFiles,
      doc: 'Rotated results logs kept (.1 newest).',
    }),
    logger_fsync: fsyncPolicy({
      group: 'filesystem', default: FILE_SINK_DEFAULTS.fsync as string | number,
      doc: 'When the results log is forced to disk: never (the kernel writes back within ~30 s; survives a daemon crash, '
        + 'not a power loss), batch (after every batch), or at most every N ms.',
    }),
  };
}

/** The disk spool of the kafka and tls outputs (src/sinks/spool): spool_*. */
export function spoolOptions() {
  return {
    spool_path: path({
      group: 'spool', default: (h) => systemOrLocal('/var/lib/ancestryd/spool', 'var/lib/ancestryd/spool', h, true),
      defaultDoc: '/var/lib/ancestryd/spool; ./var/lib/ancestryd/spool when that cannot be written (not root)',
      doc: 'Directory of the on-disk queues of the kafka and tls outputs (one subdirectory per output, 0700): events wait '
        + 'there while the destination is down, and survive restarts.',
    }),
    spool_max_bytes: bytes({
      group: 'spool', ...within(SPOOL_RANGES.maxBytes), default: SPOOL_DEFAULTS.maxBytes,
      doc: 'Disk space per output spool. When full, spool_drop_policy decides what is lost; every loss is counted '
        + '(ancestryd_sink_events_dropped_total).',
    }),
    spool_drop_policy: oneOf(DROP_POLICIES, {
      group: 'spool', default: SPOOL_DEFAULTS.dropPolicy,
      doc: 'When an output\'s queue is full: drop_oldest (default: keep the newest events) or drop_newest. The kafka and tls '
        + 'outputs queue in their spools (spool_max_bytes), stdout in a bounded memory queue; the filesystem output writes each '
        + 'drain pass to the results log at once and queues, in a bounded memory queue, only while those writes fail. Every loss '
        + 'is counted (ancestryd_sink_events_dropped_total).',
    }),
    spool_fsync: fsyncPolicy({
      group: 'spool', default: SPOOL_DEFAULTS.fsync as string | number,
      doc: 'When spooled events are forced to disk: never, batch (every append), or at most every N ms.',
    }),
  };
}

/**
 * An option a component describes itself (src/sinks/kafka's KAFKA_OPTIONS):
 * included as is, its own validator deciding, its error message passed on.
 */
function componentOption(c: KafkaOptionSpec, group: OptionGroup): OptionSpec<KafkaOptionValue> {
  return {
    name: c.name, group, type: c.type === 'boolean' ? 'boolean' : c.type.replace(/^enum: /, 'enum '),
    allowed: c.type.startsWith('enum: ') ? `one of ${c.type.slice(6).split(' | ').join(', ')}` : `${/^[aeiou]/.test(c.type) ? 'an' : 'a'} ${c.type}`,
    doc: c.doc, default: c.default, reloadable: false,
    parse(raw) {
      const value = typeof raw === 'string' ? raw.trim() : raw;
      try {
        c.validate(value);
      } catch (err) {
        if (isAncestrydError(err)) throw new OptionValueError(err.message);
        throw err;
      }
      return value as KafkaOptionValue;
    },
  };
}

type KafkaOptionSpecs = { -readonly [K in keyof typeof KAFKA_OPTIONS]: OptionSpec<KafkaOptionValue> };

/** The Kafka output (src/sinks/kafka): its own option descriptors, logger_kafka_*. */
export function kafkaOptions(): KafkaOptionSpecs {
  const out = {} as KafkaOptionSpecs;
  for (const [name, c] of Object.entries(KAFKA_OPTIONS)) out[name as keyof KafkaOptionSpecs] = componentOption(c, 'kafka');
  return out;
}

/** The tls output (src/sinks/tls, the osquery TLS logger protocol): the server, enrollment, logger_tls_*. */
export function tlsOutputOptions() {
  const [periodAbove, periodMax] = TLS_SINK_RANGES.loggerTlsPeriodS;
  return {
    tls_hostname: text({
      group: 'tls', default: '', check: (_name, s) => parseTlsHostname(s), describe: TLS_HOSTNAME_ALLOWED,
      doc: 'The TLS server (e.g. FleetDM), "host" or "host:port" (443). Required when logger_plugin includes tls.',
    }),
    enroll_tls_endpoint: text({
      group: 'tls', default: TLS_SINK_DEFAULTS.enrollTlsEndpoint, check: checkTlsEndpoint, describe: TLS_ENDPOINT_ALLOWED,
      doc: 'Enrollment endpoint.',
    }),
    logger_tls_endpoint: text({
      group: 'tls', default: TLS_SINK_DEFAULTS.loggerTlsEndpoint, check: checkTlsEndpoint, describe: TLS_ENDPOINT_ALLOWED,
      doc: 'Log endpoint.',
    }),
    enroll_secret_path: path({
      group: 'tls', default: '', emptyDisables: true,
      doc: 'File holding the enroll secret (chmod 600). Required when logger_plugin includes tls.',
    }),
    tls_server_certs: path({
      group: 'tls', default: '', emptyDisables: true,
      doc: 'PEM bundle of the CAs trusted for the server, instead of the system CAs. Empty: the system CAs.',
    }),
    tls_client_cert: path({
      group: 'tls', default: '', emptyDisables: true,
      doc: 'PEM client certificate for mutual TLS (with tls_client_key).',
    }),
    tls_client_key: path({
      group: 'tls', default: '', emptyDisables: true,
      doc: 'PEM private key of tls_client_cert (chmod 600).',
    }),
    logger_tls_compress: boolean({
      group: 'tls', default: TLS_SINK_DEFAULTS.loggerTlsCompress,
      doc: 'gzip request bodies.',
    }),
    logger_tls_period: decimal({
      group: 'tls', minExclusive: periodAbove, max: periodMax, unit: 'seconds', default: TLS_SINK_DEFAULTS.loggerTlsPeriodS, reloadable: true,
      doc: 'Longest a partial batch waits before it is sent.',
    }),
    logger_tls_max_lines: integer({
      group: 'tls', ...within(TLS_SINK_RANGES.loggerTlsMaxLines), unit: 'events', default: TLS_SINK_DEFAULTS.loggerTlsMaxLines, reloadable: true,
      doc: 'Events per log request.',
    }),
    tls_request_timeout_ms: integer({
      group: 'tls', ...within(TLS_SINK_RANGES.requestTimeoutMs), unit: 'ms', default: TLS_SINK_DEFAULTS.requestTimeoutMs,
      doc: 'One request, connect to last byte: a deadline, which a server trickling bytes does not extend.',
    }),
  };
}
