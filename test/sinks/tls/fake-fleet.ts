/**
 * A real HTTPS server that answers the osquery remote API as FleetDM does:
 * enroll hands out node keys for the right secret; log takes results for a
 * known node key and answers 401 {"node_invalid":true} otherwise. Tests can
 * make it fail requests, forget node keys, require client certificates and
 * stop listening (an outage) and come back on the same port.
 */
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TestCerts } from './test-certs';

export interface FakeFleetOptions {
  certs: TestCerts;
  enrollSecret: string;
  /** Demand a client certificate signed by the test CA (mTLS). */
  requireClientCert?: boolean;
  host?: string;
}

export interface LogRequest {
  gzip: boolean;
  authorization: string | undefined;
  nodeKey: string;
  logType: string;
  count: number;
  status: number;
}

export class FakeFleet {
  port = 0;
  readonly host: string;
  /** Every result object accepted, in arrival order. */
  readonly results: Array<Record<string, unknown>> = [];
  readonly logRequests: LogRequest[] = [];
  readonly enrollBodies: Array<Record<string, unknown>> = [];
  /** Answer the next N log requests with `failStatus`. */
  failNext = 0;
  failStatus = 500;
  /** Answer every log request with this status (e.g. 400), when set. */
  alwaysStatus: number | null = null;
  /** Refuse log requests carrying more results than this with 413, when set (a body size limit). */
  maxResults: number | null = null;
  /** Answer log requests one byte every this many ms, never finishing in time (a trickling server), when set. */
  trickleMs: number | null = null;
  /**
   * Takes over any request before the protocol does (the bad-input campaign's
   * malformed replies): return true when it answered, or destroyed the socket.
   */
  hostile: ((req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean) | null = null;
  /** What the config endpoint answers a valid node key (FleetDM: the agent options under "options"). */
  config: Record<string, unknown> = { options: {} };
  /** gzip the config endpoint's answers (Content-Encoding: gzip). */
  gzipConfig = false;
  /** Answer the next N config requests with 503. */
  configFailNext = 0;
  /** The node keys of config requests, in arrival order ("" for none). */
  readonly configRequests: string[] = [];
  private readonly nodeKeys = new Set<string>();
  private keySeq = 0;
  private server: https.Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly o: FakeFleetOptions) {
    this.host = o.host ?? '127.0.0.1';
  }

  get enrollments(): number {
    return this.enrollBodies.length;
  }

  /** Fleet forgets every node key (as after a host is deleted): next log gets node_invalid. */
  invalidateNodeKeys(): void {
    this.nodeKeys.clear();
  }

  async start(port = this.port): Promise<void> {
    const server = https.createServer({
      key: this.o.certs.serverKey,
      cert: this.o.certs.serverCert,
      ca: this.o.certs.ca,
      requestCert: this.o.requireClientCert ?? false,
      rejectUnauthorized: this.o.requireClientCert ?? false,
    }, (req, res) => this.handle(req, res));
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection (an outage). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.sockets) sock.destroy();
    s.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (this.hostile !== null && this.hostile(req, res, raw)) return;
      const gzip = req.headers['content-encoding'] === 'gzip';
      let body: Record<string, unknown>;
      try {
        if (gzip) raw = gunzipSync(raw);
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        this.answer(res, 400, { error: 'bad body' });
        return;
      }
      if (req.method === 'POST' && req.url === '/api/osquery/enroll') this.enroll(body, res);
      else if (req.method === 'POST' && req.url === '/api/osquery/log') this.log(req, body, gzip, res);
      else if (req.method === 'POST' && req.url === '/api/osquery/config') this.configAnswer(body, res);
      else this.answer(res, 404, { error: 'not found' });
    });
  }

  private enroll(body: Record<string, unknown>, res: ServerResponse): void {
    this.enrollBodies.push(body);
    if (body.enroll_secret !== this.o.enrollSecret) {
      this.answer(res, 401, { error: 'enroll failed: invalid secret', node_invalid: true });
      return;
    }
    const key = `node-key-${++this.keySeq}`;
    this.nodeKeys.add(key);
    this.answer(res, 200, { node_key: key });
  }

  private configAnswer(body: Record<string, unknown>, res: ServerResponse): void {
    const key = typeof body.node_key === 'string' ? body.node_key : '';
    this.configRequests.push(key);
    if (this.configFailNext > 0) {
      this.configFailNext--;
      this.answer(res, 503, { error: 'injected failure' });
      return;
    }
    if (!this.nodeKeys.has(key)) {
      this.answer(res, 401, { error: 'authentication error: invalid node key', node_invalid: true });
      return;
    }
    if (!this.gzipConfig) {
      this.answer(res, 200, this.config);
      return;
    }
    const data = gzipSync(JSON.stringify(this.config));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': data.length });
    res.end(data);
  }

  private log(req: IncomingMessage, body: Record<string, unknown>, gzip: boolean, res: ServerResponse): void {
    const nodeKey = String(body.node_key);
    const data = Array.isArray(body.data) ? body.data as Array<Record<string, unknown>> : [];
    const entry: LogRequest = {
      gzip, authorization: req.headers.authorization, nodeKey, logType: String(body.log_type), count: data.length, status: 200,
    };
    this.logRequests.push(entry);
    if (this.trickleMs !== null) {
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const t = setInterval(() => {
        if (res.destroyed || res.writableEnded) clearInterval(t);
        else res.write(' ');
      }, this.trickleMs);
      res.on('close', () => clearInterval(t));
      return;
    }
    if (this.maxResults !== null && data.length > this.maxResults) {
      entry.status = 413;
      this.answer(res, 413, { error: 'request entity too large' });
      return;
    }
    if (this.alwaysStatus !== null) {
      entry.status = this.alwaysStatus;
      this.answer(res, this.alwaysStatus, { error: 'configured failure' });
      return;
    }
    if (this.failNext > 0) {
      this.failNext--;
      entry.status = this.failStatus;
      this.answer(res, this.failStatus, { error: 'injected failure' });
      return;
    }
    if (!this.nodeKeys.has(nodeKey) || req.headers.authorization !== `NodeKey ${nodeKey}`) {
      entry.status = 401;
      this.answer(res, 401, { error: 'authentication error: invalid node key', node_invalid: true });
      return;
    }
    this.results.push(...data);
    this.answer(res, 200, {});
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}
