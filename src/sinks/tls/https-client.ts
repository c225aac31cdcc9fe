/**
 * POSTs JSON bodies to one HTTPS server over a keep-alive agent, verifying
 * its certificate (always: against the pinned bundle if given, else the
 * system CAs) and its name against the configured host, optionally with a
 * client certificate. Answers with the status and the parsed JSON body,
 * whatever the status (Fleet explains a 401 in its body).
 */
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ResolvedTlsOptions } from './config';

export interface HttpsAnswer {
  status: number;
  /** Parsed JSON body, or null when absent or not JSON. */
  json: unknown;
  /** The first bytes of the body, for error messages. */
  text: string;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

export class HttpsJsonClient {
  private readonly agent: https.Agent;
  private readonly requests = new Set<import('node:http').ClientRequest>();

  constructor(private readonly o: ResolvedTlsOptions) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      // SNI only for names (RFC 6066 forbids IP literals); the certificate check covers both.
      servername: isIP(o.host) === 0 ? o.host : undefined,
      rejectUnauthorized: true,
    });
  }

  post(path: string, body: Buffer, headers: Record<string, string>): Promise<HttpsAnswer> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: this.o.host,
        port: this.o.port,
        method: 'POST',
        path,
        agent: this.agent,
        timeout: this.o.requestTimeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(body.length),
          Accept: 'application/json',
          'Accept-Encoding': 'gzip',
          'User-Agent': 'ancestryd',
          ...headers,
        },
      });
      this.requests.add(req);
      // tls_request_timeout_ms bounds the whole exchange: the socket timeout alone is an idle
      // timeout, which a server trickling a byte now and then never trips (issue 10).
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${this.o.requestTimeoutMs} ms`)), this.o.requestTimeoutMs);
      deadline.unref();
      const done = (): void => {
        clearTimeout(deadline);
        this.requests.delete(req);
      };
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.requestTimeoutMs} ms`)));
      req.on('error', (err) => {
        done();
        reject(err);
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('error', (err) => {
          done();
          reject(err);
        });
        res.on('end', () => {
          done();
          let raw = Buffer.concat(chunks);
          if (res.headers['content-encoding'] === 'gzip') {
            try {
              // Bounded as the body is: a small gzip bomb must not become a huge string.
              raw = gunzipSync(raw, { maxOutputLength: MAX_RESPONSE_BYTES });
            } catch {
              raw = Buffer.alloc(0); // not gzip after all, or too large: no JSON
            }
          }
          const text = raw.toString('utf8');
          let json: unknown = null;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json, text: text.slice(0, 200) });
        });
      });
      req.end(body);
    });
  }

  /** Aborts requests in flight and closes every socket. */
  close(): void {
    for (const r of this.requests) r.destroy(new Error('sink closed'));
    this.requests.clear();
    this.agent.destroy();
  }
}
