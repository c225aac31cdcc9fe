/**
 * One checker run: follows the truth file and the results log together,
 * feeds the Checker, and measures each exec line's latency from its kernel
 * timestamp (the eid's CLOCK_BOOTTIME ns) to its arrival in the file.
 *
 * Latency = arrival (CLOCK_MONOTONIC, process.hrtime) − (ktime + monotonic−boottime).
 * That is the same as arrival_realtime − (ktime + realtime−boottime) with
 * both offsets read together by build/clock-offset: the realtime terms
 * cancel, so a wall-clock step during the run cannot bend the figures. The
 * error bound is the clock-offset window (reported, sub-µs) plus the
 * tailer's wake-up delay (see log-tail.ts), which can only add.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { Checker, type CheckReport } from './checker';
import { LogTailer, type TailStats } from '../log-tail';
import { parseResultLine } from './result-line';
import { Samples, type HistogramBin, type Summary } from '../samples';
import { parseTruthLine } from './truth';

export interface CheckSessionOptions {
  logDir: string;
  truthPath: string;
  tagPrefix: string;
  maxDepth: number;
  /** CLOCK_MONOTONIC − CLOCK_BOOTTIME, ns (0 unless the machine was suspended). */
  monoMinusBootNs: bigint;
  /** Skip what the log holds already (a daemon that was running before). */
  fromEnd?: boolean;
  /** Follow the files as they grow (soak). Off: read what is there (offline check). */
  follow?: boolean;
}

/** What happened since the previous tick (one CSV row's worth). */
export interface TickFigures {
  lines: number;
  execLines: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  matched: number;
  pendingTruth: number;
}

export interface SessionResult {
  check: CheckReport;
  /** Kernel event → line in the file, ms, over our exec lines. */
  latency: Summary;
  latencyHistogram: HistogramBin[];
  /** The same over every line with an eid (other processes' execs included). */
  latencyAllLines: Summary;
  tail: TailStats;
  /** Lines that are not JSON or not a result row. */
  badLines: number;
  badLineExamples: string[];
  truthLines: number;
}

/** Reads a growing file line by line from where it stopped. */
class LineFollower {
  private pos = 0;
  private partial = '';
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  constructor(private readonly path: string, private readonly onLine: (line: string) => void) {}

  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return; // not created yet
    }
    try {
      for (;;) {
        const n = readSync(fd, this.buf, 0, this.buf.length, this.pos);
        if (n <= 0) break;
        this.pos += n;
        const lines = (this.partial + this.buf.toString('utf8', 0, n)).split('\n');
        this.partial = lines.pop() ?? '';
        for (const l of lines) if (l !== '') this.onLine(l);
      }
    } finally {
      closeSync(fd);
    }
  }
}

export class CheckSession {
  private readonly checker: Checker;
  private readonly tailer: LogTailer;
  private readonly truth: LineFollower;
  private readonly latency = new Samples();
  private readonly latencyAll = new Samples();
  private tickLat: number[] = [];
  private tickLines = 0;
  private tickExecLines = 0;
  private badLines = 0;
  private readonly badLineExamples: string[] = [];
  private truthLines = 0;
  private truthTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: CheckSessionOptions) {
    this.checker = new Checker({ maxDepth: o.maxDepth });
    this.truth = new LineFollower(o.truthPath, (l) => {
      this.truthLines++;
      this.checker.addTruth(parseTruthLine(l));
    });
    this.tailer = new LogTailer({ dir: o.logDir, fromEnd: o.fromEnd, onLines: (lines, at) => this.onLines(lines, at) });
  }

  start(): void {
    if (this.o.follow) {
      this.tailer.start();
      this.truthTimer = setInterval(() => this.truth.poll(), 100);
    }
  }

  private onLines(lines: string[], arrivalNs: bigint): void {
    // Truth first: a line's truth was written before its exec.
    this.truth.poll();
    const base = arrivalNs - this.o.monoMinusBootNs;
    for (const l of lines) {
      if (l === '') continue;
      this.tickLines++;
      let r;
      try {
        r = parseResultLine(l, this.o.tagPrefix);
      } catch {
        this.badLines++;
        if (this.badLineExamples.length < 3) this.badLineExamples.push(l.slice(0, 200));
        continue;
      }
      if (r.ktimeNs !== null && this.o.follow) {
        const ms = Number(base - r.ktimeNs) / 1e6;
        this.latencyAll.add(ms);
        if (r.exec !== null) {
          this.latency.add(ms);
          this.tickLat.push(ms);
        }
      }
      if (r.exec !== null) {
        this.tickExecLines++;
        this.checker.addObserved(r.exec);
      }
    }
  }

  /** Figures since the previous tick. */
  tick(): TickFigures {
    this.truth.poll();
    this.tailer.poll();
    const lat = this.tickLat.sort((a, b) => a - b);
    const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : NaN);
    const f: TickFigures = {
      lines: this.tickLines, execLines: this.tickExecLines, latencyP50Ms: q(0.5), latencyP99Ms: q(0.99),
      latencyMaxMs: lat.length ? lat[lat.length - 1] : NaN, matched: this.checker.matched, pendingTruth: this.checker.pendingTruth,
    };
    this.tickLat = [];
    this.tickLines = 0;
    this.tickExecLines = 0;
    return f;
  }

  /** Truth lines read whose exec line has not been seen (yet). */
  pending(): number {
    this.truth.poll();
    this.tailer.poll();
    return this.checker.pendingTruth;
  }

  /** Reads what is left and judges; call after the daemon flushed (stopped). */
  finish(): SessionResult {
    if (this.truthTimer) clearInterval(this.truthTimer);
    this.truthTimer = null;
    this.truth.poll();
    this.tailer.stop();
    this.truth.poll();
    return {
      check: this.checker.finish(),
      latency: this.latency.summary(),
      latencyHistogram: this.latency.histogram(10),
      latencyAllLines: this.latencyAll.summary(),
      tail: { ...this.tailer.stats },
      badLines: this.badLines,
      badLineExamples: this.badLineExamples,
      truthLines: this.truthLines,
    };
  }
}
