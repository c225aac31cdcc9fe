/**
 * The osquery remote logging API, as FleetDM serves it (enrollment: the
 * TlsNode this host shares with the remote configuration, tls-node.ts):
 *
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
import type { TlsSinkOptions } from './config';
import type { HostDetails } from './host-details';
import type { HttpsAnswer } from './https-client';
import { describeError, nodeInvalid, TlsNode } from './tls-node';

const gzip = promisify(zlib.gzip);

export class TlsSink implements Sink {
  readonly name: string;
  lastError: string | null = null;
  configProblem: string | null = null;
  readonly node: TlsNode;
  private readonly log: SinkLogger;
  private started = false;
  private closed = false;

  /** `node`: the host's enrollment when another part shares it (config_plugin=tls); else the sink's own. */
  constructor(options: TlsSinkOptions, hostDetails: HostDetails, log: SinkLogger = noopLogger, name = 'tls', addSecret: AddSecret = noSecrets,
    node?: TlsNode) {
    this.log = log;
    this.name = name;
    this.node = node ?? new TlsNode(options, hostDetails, log, addSecret);
  }

  /** Reads and checks certificates and the secret; does not contact the server (it may be down). */
  async start(): Promise<void> {
    this.node.start();
    this.started = true;
  }

  async send(batch: EventBatch): Promise<SendResult> {
    const client = this.node.client;
    if (this.closed || !this.started || client === null) {
      this.lastError = 'tls sink not running';
      return 'retry';
    }
    const logPath = this.node.resolved.logPath;
    for (let attempt = 0; attempt < 2; attempt++) {
      const key = await this.node.key();
      if (key === null) {
        this.lastError = this.node.lastError;
        return 'retry';
      }
      let answer: HttpsAnswer;
      try {
        answer = await this.postLog(key, batch);
      } catch (err) {
        this.lastError = `POST ${logPath} failed: ${describeError(err)}`;
        return 'retry';
      }
      if (nodeInvalid(answer)) {
        // Fleet forgot or revoked us: enroll again and resend this batch once.
        this.node.forget(key);
        this.lastError = `node key rejected (HTTP ${answer.status}); enrolling again`;
        this.log.warn({ sink: this.name, status: answer.status }, 'TLS server says node_invalid; enrolling again');
        continue;
      }
      if (answer.status === 413) return this.sendInHalves(batch);
      return this.classify(answer, logPath);
    }
    return 'retry';
  }

  /** 413: the server's body limit is below this batch; halves until it fits, one event at most rejected alone. */
  private async sendInHalves(batch: EventBatch): Promise<SendResult> {
    if (batch.count <= 1) {
      this.lastError = `POST ${this.node.resolved.logPath}: HTTP 413: one event of ${batch.data.length} bytes is more than the server accepts`;
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
    const o = this.node.resolved;
    if (o.compress) {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    return this.node.client!.post(o.logPath, body, headers);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.started) this.node.close();
  }
}
