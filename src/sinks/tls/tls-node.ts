/**
 * This host as a node of an osquery TLS server (FleetDM): the HTTPS client,
 * the enroll secret and the node key the enrollment gave, shared by every
 * part that talks to the server — the tls output (logger_tls_endpoint) and
 * the remote configuration (config_tls_endpoint).
 *
 * Why one: Fleet keeps one node key per host identifier, and enrolling again
 * replaces it. Two parts enrolling on their own would revoke each other's
 * key at every enrollment, each answered node_invalid by turns.
 *
 *   enroll  POST enroll_tls_endpoint {"enroll_secret","host_identifier",
 *           "platform_type","host_details":{…}} → {"node_key"}
 *
 * A part that gets node_invalid for its key calls forget(key), and the next
 * key() enrolls again; concurrent callers share one enrollment.
 */
import { noopLogger, noSecrets, type AddSecret, type SinkLogger } from '../sink';
import { readEnrollSecret, resolveTlsOptions, type ResolvedTlsOptions, type TlsSinkOptions } from './config';
import type { HostDetails } from './host-details';
import { HttpsJsonClient, type HttpsAnswer } from './https-client';

/** osquery's PlatformType bits for Linux (POSIX | LINUX), sent as a string like osquery does. */
const PLATFORM_TYPE_LINUX = '9';

export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

export function jsonField(json: unknown, name: string): unknown {
  return json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
}

/** The server says this node key is no longer valid (Fleet: 401 {"node_invalid": true}). */
export function nodeInvalid(answer: HttpsAnswer): boolean {
  return jsonField(answer.json, 'node_invalid') === true || answer.status === 401;
}

export class TlsNode {
  /** Why the last enrollment failed, or null. */
  lastError: string | null = null;
  private o: ResolvedTlsOptions | null = null;
  private http: HttpsJsonClient | null = null;
  private nodeKey: string | null = null;
  private enrolling: Promise<string | null> | null = null;
  private secret = '';
  private users = 0;

  constructor(private readonly options: TlsSinkOptions, private readonly hostDetails: HostDetails,
    private readonly log: SinkLogger = noopLogger, private readonly addSecret: AddSecret = noSecrets) {}

  /** Reads and checks certificates and the secret (once, whoever starts first); does not contact the server. */
  start(): void {
    this.users++;
    if (this.o !== null) return;
    this.o = resolveTlsOptions(this.options);
    this.secret = readEnrollSecret(this.o.enrollSecretPath);
    this.addSecret(this.secret);
    this.http = new HttpsJsonClient(this.o);
  }

  get resolved(): ResolvedTlsOptions {
    if (this.o === null) throw new Error('TlsNode used before start()');
    return this.o;
  }

  get client(): HttpsJsonClient | null {
    return this.http;
  }

  /** The node key, enrolling first when there is none; null when enrollment failed (lastError says why). */
  key(): Promise<string | null> {
    if (this.nodeKey !== null) return Promise.resolve(this.nodeKey);
    if (this.enrolling === null) {
      this.enrolling = this.enroll().finally(() => {
        this.enrolling = null;
      });
    }
    return this.enrolling;
  }

  /** The server rejected `key`: the next key() enrolls again (unless another caller already did). */
  forget(key: string): void {
    if (this.nodeKey === key) this.nodeKey = null;
  }

  private async enroll(): Promise<string | null> {
    const o = this.resolved;
    try {
      this.secret = readEnrollSecret(o.enrollSecretPath); // re-read: the secret may have been rotated
      this.addSecret(this.secret);
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'enroll secret unreadable; using the one read before');
    }
    const body = Buffer.from(JSON.stringify({
      enroll_secret: this.secret,
      host_identifier: o.hostIdentifier,
      platform_type: PLATFORM_TYPE_LINUX,
      host_details: this.hostDetails,
    }));
    let answer: HttpsAnswer;
    try {
      if (this.http === null) throw new Error('closed');
      answer = await this.http.post(o.enrollPath, body, {});
    } catch (err) {
      this.lastError = `enroll (POST ${o.enrollPath}) failed: ${describeError(err)}`;
      return null;
    }
    const key = jsonField(answer.json, 'node_key');
    if (answer.status >= 200 && answer.status < 300 && typeof key === 'string' && key !== ''
      && jsonField(answer.json, 'node_invalid') !== true) {
      this.nodeKey = key;
      this.addSecret(key);
      this.lastError = null;
      this.log.info({ host: o.host }, 'enrolled with the TLS server');
      return key;
    }
    this.lastError = `enroll refused: HTTP ${answer.status} ${answer.text}`
      + (answer.status === 401 || jsonField(answer.json, 'node_invalid') === true
        ? ` (check enroll_secret_path ${o.enrollSecretPath} against the server's enroll secret)` : '');
    this.log.warn({ status: answer.status }, 'TLS enroll refused; retrying with backoff');
    return null;
  }

  /** Each part that started the node closes it; the last one closes the connections. */
  close(): void {
    if (--this.users > 0) return;
    this.http?.close();
    this.http = null;
  }
}
