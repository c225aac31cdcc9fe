/**
 * The osquery remote logging API, as FleetDM serves it:
 *
 *   enroll  POST enroll_tls_endpoint {"enroll_secret","host_identifier",
 *           "platform_type","host_details":{…}} → {"node_key"}
 *   log     POST logger_tls_endpoint {"node_key","log_type":"result",
 *           "data":[…result objects…]}, header Authorization: NodeKey <key>,
 *           gzip'd with Content-Encoding: gzip when logger_tls_compress
 *
 * Answers: 2xx without node_invalid → delivered. node_invalid (Fleet: 401
 * {"node_invalid":true}) → enroll again and resend once. Network errors,
 * timeouts, 5xx, 408 and 429 → retry (the driver backs off). 413 → the
 * batch is sent again in halves, down to one event, which alone is rejected.
 * 403 and 404 → retry with backoff and a configProblem (a wrong endpoint or
 * a forbidden node is fixed by configuration, and events must not be
 * dead-lettered after one try meanwhile). Any other 4xx → rejected
 * (dead-lettered): resending the same bytes cannot succeed.
 *
 * "data" is built without parsing: the batch's lines are already the result
 * objects, so newlines become commas (sink.ts batchJsonArray).
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { noopLogger, noSecrets, batchJsonArray, splitBatch, type AddSecret, type EventBatch, type SendResult, type Sink, type SinkLogger } from '../sink';
import { readEnrollSecret, resolveTlsOptions, type ResolvedTlsOptions, type TlsSinkOptions } from './config';
import type { HostDetails } from './host-details';
import { HttpsJsonClient, type HttpsAnswer } from './https-client';

const gzip = promisify(zlib.gzip);

/** osquery's PlatformType bits for Linux (POSIX | LINUX), sent as a string like osquery does. */
const PLATFORM_TYPE_LINUX = '9';

type EnrollOutcome = 'ok' | 'retry';

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

function field(json: unknown, name: string): unknown {
  return json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
}

export class TlsSink implements Sink {
  readonly name: string;
  lastError: string | null = null;
  configProblem: string | null = null;
  /** Enrollments done (tests, logs). */
  enrollments = 0;

  private readonly options: TlsSinkOptions;
  private readonly hostDetails: HostDetails;
  private readonly log: SinkLogger;
  private o: ResolvedTlsOptions | null = null;
  private client: HttpsJsonClient | null = null;
  private nodeKey: string | null = null;
  private enrolling: Promise<EnrollOutcome> | null = null;
  private secret = '';
  private closed = false;

  /** The enroll secret and each node key go here once read or received. */
  private readonly addSecret: AddSecret;

  constructor(options: TlsSinkOptions, hostDetails: HostDetails, log: SinkLogger = noopLogger, name = 'tls', addSecret = noSecrets) {
    this.options = options;
    this.hostDetails = hostDetails;
    this.log = log;
    this.name = name;
    this.addSecret = addSecret;
  }

  /** Reads and checks certificates and the secret; does not contact the server (it may be down). */
  async start(): Promise<void> {
    this.o = resolveTlsOptions(this.options);
    this.secret = readEnrollSecret(this.o.enrollSecretPath);
    this.addSecret(this.secret);
    this.client = new HttpsJsonClient(this.o);
  }

  async send(batch: EventBatch): Promise<SendResult> {
    if (this.closed || this.client === null) {
      this.lastError = 'tls sink not running';
      return 'retry';
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.nodeKey === null && (await this.enroll()) !== 'ok') return 'retry';
      const key = this.nodeKey!;
      let answer: HttpsAnswer;
      try {
        answer = await this.postLog(key, batch);
      } catch (err) {
        this.lastError = `POST ${this.o!.logPath} failed: ${describe(err)}`;
        return 'retry';
      }
      if (field(answer.json, 'node_invalid') === true || answer.status === 401) {
        // Fleet forgot or revoked us: enroll again and resend this batch once.
        if (this.nodeKey === key) this.nodeKey = null;
        this.lastError = `node key rejected (HTTP ${answer.status}); enrolling again`;
        this.log.warn({ sink: this.name, status: answer.status }, 'TLS server says node_invalid; enrolling again');
        continue;
      }
      if (answer.status === 413) return this.sendInHalves(batch);
      return this.classify(answer, this.o!.logPath);
    }
    return 'retry';
  }

  /** 413: the server's body limit is below this batch; halves until it fits, one event at most rejected alone. */
  private async sendInHalves(batch: EventBatch): Promise<SendResult> {
    if (batch.count <= 1) {
      this.lastError = `POST ${this.o!.logPath}: HTTP 413: one event of ${batch.data.length} bytes is more than the server accepts`;
      return 'rejected';
    }
    const results = [];
    for (const half of splitBatch(batch)) results.push(await this.send(half));
    // The driver acknowledges or resends the batch as a whole: any retry resends it all (duplicates, never loss).
    return results.includes('retry') ? 'retry' : results.includes('rejected') ? 'rejected' : 'delivered';
  }

  private classify(answer: HttpsAnswer, path: string): SendResult {
    const s = answer.status;
    if (s >= 200 && s < 300) {
      this.lastError = null;
      this.configProblem = null;
      return 'delivered';
    }
    this.lastError = `POST ${path}: HTTP ${s} ${answer.text}`;
    if (s === 403 || s === 404) {
      this.configProblem = `POST ${path} answered HTTP ${s}: check tls_hostname, logger_tls_endpoint and the server's settings for this host`;
      this.lastError = this.configProblem;
      return 'retry';
    }
    if (s >= 500 || s === 408 || s === 429) return 'retry';
    return 'rejected';
  }

  private async postLog(key: string, batch: EventBatch): Promise<HttpsAnswer> {
    const prefix = '{"node_key":' + JSON.stringify(key) + ',"log_type":"result","data":';
    let body = batchJsonArray(batch, prefix, '}');
    const headers: Record<string, string> = { Authorization: `NodeKey ${key}` };
    if (this.o!.compress) {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    return this.client!.post(this.o!.logPath, body, headers);
  }

  /** One enrollment at a time; concurrent senders share it. */
  private enroll(): Promise<EnrollOutcome> {
    if (this.enrolling === null) {
      this.enrolling = this.doEnroll().finally(() => {
        this.enrolling = null;
      });
    }
    return this.enrolling;
  }

  private async doEnroll(): Promise<EnrollOutcome> {
    const o = this.o!;
    try {
      this.secret = readEnrollSecret(o.enrollSecretPath); // re-read: the secret may have been rotated
      this.addSecret(this.secret);
    } catch (err) {
      this.log.warn({ sink: this.name, err: describe(err) }, 'enroll secret unreadable; using the one read before');
    }
    const body = Buffer.from(JSON.stringify({
      enroll_secret: this.secret,
      host_identifier: o.hostIdentifier,
      platform_type: PLATFORM_TYPE_LINUX,
      host_details: this.hostDetails,
    }));
    let answer: HttpsAnswer;
    try {
      answer = await this.client!.post(o.enrollPath, body, {});
    } catch (err) {
      this.lastError = `enroll (POST ${o.enrollPath}) failed: ${describe(err)}`;
      return 'retry';
    }
    const key = field(answer.json, 'node_key');
    if (answer.status >= 200 && answer.status < 300 && typeof key === 'string' && key !== ''
      && field(answer.json, 'node_invalid') !== true) {
      this.nodeKey = key;
      this.addSecret(key);
      this.enrollments++;
      this.log.info({ sink: this.name, host: o.host }, 'enrolled with the TLS server');
      return 'ok';
    }
    this.lastError = `enroll refused: HTTP ${answer.status} ${answer.text}`
      + (answer.status === 401 || field(answer.json, 'node_invalid') === true
        ? ` (check enroll_secret_path ${o.enrollSecretPath} against the server's enroll secret)` : '');
    this.log.warn({ sink: this.name, status: answer.status }, 'TLS enroll refused; retrying with backoff');
    return 'retry';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client?.close();
    this.client = null;
  }
}
