/**
 * Keeps the metrics endpoint listening: a failed bind is retried with
 * backoff while the daemon runs on without it.
 *
 * A bind failure is not a configuration error. Any local user can take
 * 127.0.0.1:9393 while the daemon is down; exiting (status 2, which the
 * systemd unit does not restart) would let that user switch the sensor off
 * for good (issue 10). The condition is logged and shown in `stats`
 * (metrics_endpoint) until the port is free again.
 */
import { backoffDelayMs } from '../../sinks/backoff';
import type { Logging } from '../log';
import type { Metrics } from './metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server';

const RETRY = { initialMs: 1000, maxMs: 60_000 };

export class MetricsEndpoint {
  private server: MetricsServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly address: { readonly host: string; readonly port: number },
    private readonly metrics: Metrics,
    private readonly log: Logging['logger'],
  ) {}

  /** The first bind; on failure the daemon goes on and retries in the background. */
  async start(): Promise<void> {
    await this.bind();
  }

  get url(): string | null {
    return this.server?.url ?? null;
  }

  private async bind(): Promise<void> {
    if (this.closed) return;
    try {
      this.server = await startMetricsServer({ ...this.address, metrics: this.metrics });
      if (this.closed) {
        await this.server.close();
        return;
      }
      if (this.attempt > 0) this.log.info({ metrics_address: this.server.url }, 'metrics endpoint listening again');
      this.attempt = 0;
      this.metrics.setEndpoint({ listening: true, address: this.server.url, error: null });
    } catch (err) {
      const message = (err as Error).message;
      const delayMs = backoffDelayMs(this.attempt, RETRY);
      if (this.attempt === 0 || this.attempt % 10 === 0) {
        this.log.error({ err: message, retry_in_ms: delayMs, attempts: this.attempt + 1 },
          'metrics endpoint unavailable; the daemon runs without it and retries');
      }
      this.attempt++;
      this.metrics.setEndpoint({ listening: false, address: `${this.address.host}:${this.address.port}`, error: message });
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.bind();
      }, delayMs);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.server?.close();
  }
}
