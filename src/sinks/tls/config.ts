/**
 * Options of the TLS sink, named as osquery's flags (what FleetDM documents),
 * and the files they point to, read and checked at start.
 */
import { readFileSync } from 'node:fs';
import { AncestrydError } from '../../errors';
import { parseHostPort, PORT_RANGE, type HostPort } from '../host-port';
import { checkPositiveInt } from '../queue';

export interface TlsSinkOptions {
  /** tls_hostname: "host" or "host:port" (443). Also the name the server certificate must carry. */
  tlsHostname: string;
  /** enroll_tls_endpoint. Default "/api/osquery/enroll". */
  enrollTlsEndpoint?: string;
  /** logger_tls_endpoint. Default "/api/osquery/log". */
  loggerTlsEndpoint?: string;
  /** enroll_secret_path: file holding the enroll secret (trimmed). */
  enrollSecretPath: string;
  /** host_identifier value sent at enroll (HostIdentity.hostIdentifier). */
  hostIdentifier: string;
  /** tls_server_certs: PEM bundle trusted INSTEAD of the system CAs. */
  tlsServerCerts?: string | null;
  /** tls_client_cert / tls_client_key: PEM files for mutual TLS (both or neither). */
  tlsClientCert?: string | null;
  tlsClientKey?: string | null;
  /** logger_tls_compress: gzip request bodies. Default false. */
  loggerTlsCompress?: boolean;
  /** logger_tls_period: seconds a partial batch waits (the driver's linger). Default 4. */
  loggerTlsPeriodS?: number;
  /** logger_tls_max_lines: events per request (the driver's max batch lines). Default 1024. */
  loggerTlsMaxLines?: number;
  /** tls_request_timeout_ms: one request, connect to last byte. Default 30000. */
  requestTimeoutMs?: number;
}

export const TLS_SINK_DEFAULTS = {
  enrollTlsEndpoint: '/api/osquery/enroll',
  loggerTlsEndpoint: '/api/osquery/log',
  loggerTlsCompress: false,
  loggerTlsPeriodS: 4,
  loggerTlsMaxLines: 1024,
  requestTimeoutMs: 30_000,
};

/**
 * The ranges the sink accepts: its own checks and the option schema's
 * (logger_tls_period, logger_tls_max_lines, tls_request_timeout_ms) read
 * them here. The period's lower bound is exclusive: (0, 3600] seconds.
 */
export const TLS_SINK_RANGES = {
  loggerTlsPeriodS: [0, 3600],
  loggerTlsMaxLines: [1, 1_000_000],
  requestTimeoutMs: [100, 600_000],
} as const;

/**
 * What tls_hostname and the endpoint options accept, in words: the sink's
 * messages and the option schema's docs say the same.
 */
export const TLS_HOSTNAME_ALLOWED = '"host" or "host:port"';
export const TLS_ENDPOINT_ALLOWED = 'a path starting with "/", without spaces';

/** The endpoints go into the request line as they are: a space there would end the path. */
const TLS_ENDPOINT_PATTERN = /^\/\S*$/;

export interface ResolvedTlsOptions {
  host: string;
  port: number;
  enrollPath: string;
  logPath: string;
  enrollSecretPath: string;
  hostIdentifier: string;
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  compress: boolean;
  periodS: number;
  maxLines: number;
  requestTimeoutMs: number;
}

function invalid(msg: string, cause?: unknown): AncestrydError {
  return new AncestrydError('ANC_CONFIG_INVALID', msg, cause === undefined ? undefined : { cause });
}

function readPem(option: string, path: string, marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw invalid(`${option}: cannot read ${path} (${(err as NodeJS.ErrnoException).code}): check the path and that the daemon may read it`, err);
  }
  if (!marker.test(data.toString('latin1'))) throw invalid(`${option}: ${path} holds no PEM ${marker.source.replace(/\\/g, '')} block`);
  return data;
}

export function readEnrollSecret(path: string): string {
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw invalid(`enroll_secret_path: cannot read ${path} (${(err as NodeJS.ErrnoException).code}): create it with the secret from Fleet (chmod 600)`, err);
  }
  if (secret === '') throw invalid(`enroll_secret_path: ${path} is empty: put the enroll secret from Fleet in it`);
  return secret;
}

/**
 * tls_hostname → the server's host and port (443 when none is given). The
 * option schema calls it too, so that a port out of range is refused at
 * load, before anything starts.
 */
export function parseTlsHostname(value: string): HostPort {
  const hp = parseHostPort(value ?? '', 443);
  if (hp === null) throw invalid(`tls_hostname: expected ${TLS_HOSTNAME_ALLOWED}, got ${JSON.stringify(value)}`);
  checkPositiveInt('tls_hostname port', hp.port, ...PORT_RANGE);
  return hp;
}

/** enroll_tls_endpoint, logger_tls_endpoint, and the daemon's config_tls_endpoint (the same server): checked by `option`'s name. */
export function checkTlsEndpoint(option: string, value: string): string {
  if (!TLS_ENDPOINT_PATTERN.test(value)) throw invalid(`${option}: expected ${TLS_ENDPOINT_ALLOWED}, got ${JSON.stringify(value)}`);
  return value;
}

/** tls_client_cert and tls_client_key: a certificate without its key (or the reverse) is no mutual TLS at all. null: unset. */
export function checkTlsClientPair(cert: string | null | undefined, key: string | null | undefined): void {
  if ((cert == null) !== (key == null)) throw invalid('tls_client_cert and tls_client_key: set both (mutual TLS) or neither');
}

/** Validates everything and reads the certificate files; throws AncestrydError naming the option. */
export function resolveTlsOptions(o: TlsSinkOptions): ResolvedTlsOptions {
  const { host, port } = parseTlsHostname(o.tlsHostname);
  checkTlsClientPair(o.tlsClientCert, o.tlsClientKey);
  if (typeof o.hostIdentifier !== 'string' || o.hostIdentifier === '') throw invalid('host_identifier: empty');
  const r: ResolvedTlsOptions = {
    host,
    port,
    enrollPath: checkTlsEndpoint('enroll_tls_endpoint', o.enrollTlsEndpoint ?? TLS_SINK_DEFAULTS.enrollTlsEndpoint),
    logPath: checkTlsEndpoint('logger_tls_endpoint', o.loggerTlsEndpoint ?? TLS_SINK_DEFAULTS.loggerTlsEndpoint),
    enrollSecretPath: o.enrollSecretPath,
    hostIdentifier: o.hostIdentifier,
    ca: o.tlsServerCerts == null ? undefined : readPem('tls_server_certs', o.tlsServerCerts, /-----BEGIN CERTIFICATE-----/),
    cert: o.tlsClientCert == null ? undefined : readPem('tls_client_cert', o.tlsClientCert, /-----BEGIN CERTIFICATE-----/),
    key: o.tlsClientKey == null ? undefined : readPem('tls_client_key', o.tlsClientKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
    compress: o.loggerTlsCompress ?? TLS_SINK_DEFAULTS.loggerTlsCompress,
    periodS: o.loggerTlsPeriodS ?? TLS_SINK_DEFAULTS.loggerTlsPeriodS,
    maxLines: o.loggerTlsMaxLines ?? TLS_SINK_DEFAULTS.loggerTlsMaxLines,
    requestTimeoutMs: o.requestTimeoutMs ?? TLS_SINK_DEFAULTS.requestTimeoutMs,
  };
  const [periodAbove, periodMax] = TLS_SINK_RANGES.loggerTlsPeriodS;
  if (!(r.periodS > periodAbove && r.periodS <= periodMax)) {
    throw invalid(`logger_tls_period=${r.periodS} is out of range (${periodAbove}, ${periodMax}] seconds`);
  }
  checkPositiveInt('logger_tls_max_lines', r.maxLines, ...TLS_SINK_RANGES.loggerTlsMaxLines);
  checkPositiveInt('tls_request_timeout_ms', r.requestTimeoutMs, ...TLS_SINK_RANGES.requestTimeoutMs);
  readEnrollSecret(r.enrollSecretPath);
  return r;
}

/** The driver settings the osquery flags imply: batch size and period. */
export function tlsDriverOptions(o: TlsSinkOptions): { maxBatchLines: number; lingerMs: number } {
  return {
    maxBatchLines: o.loggerTlsMaxLines ?? TLS_SINK_DEFAULTS.loggerTlsMaxLines,
    lingerMs: Math.round((o.loggerTlsPeriodS ?? TLS_SINK_DEFAULTS.loggerTlsPeriodS) * 1000),
  };
}
