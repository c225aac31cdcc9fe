/**
 * Serves Prometheus and the probes on metrics_address:
 *   GET /metrics  text exposition of the Metrics registry
 *   GET /healthz  200 while the process answers and its event loop has not
 *                 stalled longer than maxEventLoopDelayMs in the last
 *                 HEALTH_WINDOW_MS to 2 × HEALTH_WINDOW_MS, whoever probes;
 *                 503 otherwise (a stalled loop means a drain that fell
 *                 behind the kernel)
 *   GET /readyz   200 once the pipeline called metrics.setReady(true)
 *                 (collector attached, outputs started); 503 before and
 *                 after setReady(false) at shutdown
 * Bodies of the probes are small JSON objects for people and scripts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { AncestrydError } from '../../errors';
import type { Metrics } from './metrics';
import { LOOP_DELAY_RESOLUTION_MS } from './runtime-metrics';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests); see MetricsServer.port. */
  port: number;
  metrics: Metrics;
  /** Default 10000 ms. */
  maxEventLoopDelayMs?: number;
}

export class MetricsServer {
  private closed = false;

  constructor(
    private readonly server: Server,
    private readonly loopDelay: ELDHistogram,
    readonly host: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Stops listening and drops open connections; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loopDelay.disable();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * /metrics is rendered at most once per this interval and the text served
 * to every scrape in it: any local user can reach the endpoint, and a scrape
 * flood (3 274 scrapes in 3 s, issue 10) rendering each time saturated the
 * event loop the ring drain runs on. Prometheus scrapes every 15 s or more.
 */
export const RENDER_INTERVAL_MS = 1000;

/**
 * /healthz judges the event loop over fixed windows of this length (the
 * current one and the one before), not since the previous probe: any local
 * user can probe, and a probe that reset the figures let anyone hide a
 * stall from the real health check (issue 10).
 */
export const HEALTH_WINDOW_MS = 10_000;


/** Listens on host:port; throws AncestrydError naming metrics_address when it cannot. */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics } = opts;
  const maxDelayMs = opts.maxEventLoopDelayMs ?? 10_000;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  // The window rolls on time alone; a probe only reads.
  let windowStart = performance.now();
  let previousMaxNs = 0;
  const recentMaxMs = (): number => {
    const now = performance.now();
    if (now - windowStart >= HEALTH_WINDOW_MS) {
      // A window with no probe in it counts as the previous one: a stall since then is still seen.
      previousMaxNs = loopDelay.max;
      loopDelay.reset();
      windowStart = now;
    }
    return Math.max(previousMaxNs, loopDelay.max) / 1e6;
  };

  // One render per RENDER_INTERVAL_MS at most, shared by every scrape in it.
  let snapshot: { atMs: number; body: Promise<string> } | null = null;
  const render = (): Promise<string> => {
    const now = performance.now();
    if (snapshot === null || now - snapshot.atMs >= RENDER_INTERVAL_MS) {
      const body = metrics.expose();
      const mine = { atMs: now, body };
      snapshot = mine;
      body.catch(() => {
        if (snapshot === mine) snapshot = null; // a failed render is not served again
      });
    }
    return snapshot.body;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    switch (path) {
      case '/metrics': {
        try {
          send(res, 200, metrics.contentType, await render(), head);
        } catch (err) {
          send(res, 500, 'text/plain; charset=utf-8', `collecting metrics failed: ${(err as Error).message}\n`, head);
        }
        return;
      }
      case '/healthz': {
        const maxMs = recentMaxMs();
        const ok = !(maxMs > maxDelayMs);
        send(res, ok ? 200 : 503, JSON_TYPE, JSON.stringify({
          status: ok ? 'ok' : 'unhealthy',
          event_loop_max_delay_ms: Math.round(maxMs),
          ...(ok ? {} : { reason: `event loop blocked for ${Math.round(maxMs)} ms (limit ${maxDelayMs} ms)` }),
        }) + '\n', head);
        return;
      }
      case '/readyz': {
        const { ready, reason } = metrics.readyStatus;
        send(res, ready ? 200 : 503, JSON_TYPE, JSON.stringify({ status: ready ? 'ready' : 'not ready', reason }) + '\n', head);
        return;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n', head);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    loopDelay.disable();
    server.close();
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const fix = code === 'EADDRINUSE' ? 'another process listens there (a second ancestryd?): stop it or change metrics_address'
      : code === 'EADDRNOTAVAIL' ? 'no local interface has that address: use 127.0.0.1, 0.0.0.0 or a local address'
        : code === 'EACCES' ? 'ports below 1024 need CAP_NET_BIND_SERVICE: use a higher port'
          : 'check metrics_address, or set metrics_address="" to disable';
    throw new AncestrydError('ANC_CONFIG_INVALID', `metrics_address: cannot listen on ${opts.host}:${opts.port} (${code}): ${fix}`, { cause: err });
  }
  const addr = server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : opts.port;
  return new MetricsServer(server, loopDelay, opts.host, port);
}
