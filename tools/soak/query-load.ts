/**
 * Admin queries at a fixed rate, as the old load test's query generator did,
 * through the daemon's admin socket (src/daemon/admin/admin-client.ts: one
 * connection per request, as the CLI makes) instead of a CLI process per
 * query. Open loop: requests start on schedule whether or not earlier ones
 * answered (up to maxInFlight), so a slow daemon shows as latency, not as a
 * lower rate.
 *
 * Mix: `statsShare` of the queries are "stats", the rest "ancestry <pid>" of
 * a random live pid from /proc (listed every 250 ms). A not_found answer is
 * normal for a process that exited meanwhile (zombies included: they have
 * exited, and an init that reaps slowly leaves many); for one still running
 * and older than 1 s it is counted as missingLive: the daemon should know it.
 */
import { readdirSync } from 'node:fs';
import { adminRequest } from '../../src/daemon/admin/admin-client';
import { procState, uptimeSeconds } from '../../test/support/proc-stat';
import { Samples, type Summary } from '../../test/support/samples';

export interface QueryLoadOptions {
  adminSocket: string;
  /** Queries per second; 0 disables. */
  rate: number;
  /** Share of stats queries, default 0.1. */
  statsShare?: number;
  /** Default 8. */
  maxInFlight?: number;
  timeoutMs?: number;
}

export interface QueryCounts {
  sent: number;
  ok: number;
  /** not_found for a pid that had exited. */
  gone: number;
  /** not_found for a pid alive and older than 1 s. */
  missingLive: number;
  errors: number;
  /** Not sent: maxInFlight requests were waiting already. */
  skipped: number;
}

export interface QueryWindow {
  count: number;
  errors: number;
  p99Ms: number;
}

export class QueryLoad {
  readonly counts: QueryCounts = { sent: 0, ok: 0, gone: 0, missingLive: 0, errors: 0, skipped: 0 };
  readonly latency = new Samples();
  readonly ancestryLatency = new Samples();
  readonly statsLatency = new Samples();
  readonly errorExamples: string[] = [];
  private window: number[] = [];
  private windowErrors = 0;
  private pids: number[] = [];
  private pidsAt = 0;
  private inFlight = 0;
  private issued = 0;
  private t0 = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly drained: (() => void)[] = [];

  constructor(private readonly o: QueryLoadOptions) {}

  start(): void {
    if (this.o.rate <= 0) return;
    this.t0 = performance.now();
    this.timer = setInterval(() => this.schedule(), 10);
  }

  private schedule(): void {
    const due = Math.floor(((performance.now() - this.t0) / 1000) * this.o.rate) - this.issued;
    for (let i = 0; i < due; i++) {
      this.issued++;
      if (this.inFlight >= (this.o.maxInFlight ?? 8)) {
        this.counts.skipped++;
        continue;
      }
      void this.one();
    }
  }

  private livePid(): number {
    const now = performance.now();
    if (now - this.pidsAt > 250 || this.pids.length === 0) {
      this.pids = readdirSync('/proc').filter((n) => n.charCodeAt(0) <= 57).map(Number).filter((n) => n > 0);
      this.pidsAt = now;
    }
    return this.pids[Math.floor(Math.random() * this.pids.length)];
  }

  private async one(): Promise<void> {
    this.inFlight++;
    this.counts.sent++;
    const stats = Math.random() < (this.o.statsShare ?? 0.1);
    const pid = stats ? 0 : this.livePid();
    const t = performance.now();
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    try {
      if (stats) await adminRequest(this.o.adminSocket, 'stats', {}, { timeoutMs });
      else await adminRequest(this.o.adminSocket, 'ancestry', { pid }, { timeoutMs });
      this.done(t, stats);
      this.counts.ok++;
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code === 'not_found') {
        this.done(t, stats);
        const st = procState(pid);
        if (st !== null && st.state !== 'Z' && st.state !== 'X' && uptimeSeconds() * 100 - st.startTicks > 100) {
          this.counts.missingLive++;
          if (this.errorExamples.length < 5) this.errorExamples.push(`pid ${pid} (state ${st.state}, start tick ${st.startTicks}): ${(err as Error).message}`);
        } else {
          this.counts.gone++;
        }
      } else {
        this.counts.errors++;
        this.windowErrors++;
        if (this.errorExamples.length < 5) this.errorExamples.push((err as Error).message);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const d of this.drained.splice(0)) d();
    }
  }

  private done(t: number, stats: boolean): void {
    const ms = performance.now() - t;
    this.latency.add(ms);
    (stats ? this.statsLatency : this.ancestryLatency).add(ms);
    this.window.push(ms);
  }

  /** Answers since the previous call. */
  takeWindow(): QueryWindow {
    const w = this.window.sort((a, b) => a - b);
    const r = { count: w.length, errors: this.windowErrors, p99Ms: w.length ? w[Math.ceil(0.99 * w.length) - 1] : NaN };
    this.window = [];
    this.windowErrors = 0;
    return r;
  }

  /** Stops sending and waits for the answers still due. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight > 0) await new Promise<void>((r) => this.drained.push(r));
  }

  summary(): { counts: QueryCounts; all: Summary; ancestry: Summary; stats: Summary; errorExamples: string[] } {
    return { counts: { ...this.counts }, all: this.latency.summary(), ancestry: this.ancestryLatency.summary(), stats: this.statsLatency.summary(), errorExamples: this.errorExamples };
  }
}
