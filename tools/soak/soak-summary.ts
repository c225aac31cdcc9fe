/** What a soak run found, as written to summary.json and rendered by report-html.ts. */
import type { CheckReport } from '../../test/support/check/checker';
import type { HistogramBin, Summary } from '../../test/support/samples';
import type { QueryCounts } from './query-load';

/** procgen's last stdout line. */
export interface ProcgenSummary {
  mode: string;
  workers: number;
  secs: number;
  execs: number;
  failures: number;
  unfinished: number;
  execs_per_sec: number;
  wrap_forks: number;
  pid_wraps: number;
  pid_min: number;
  pid_max: number;
  by_mode: Record<string, number>;
}

export interface SoakSummary {
  startedAt: string;
  endedAt: string;
  host: string;
  kernel: string;
  cpus: number;
  config: {
    mode: string;
    rate: number;
    durationSec: number;
    workers: number;
    queryRate: number;
    wrapForks: number;
    wrapEverySec: number;
    exe: string;
    maxDepth: number;
    tag: string;
    attached: boolean;
    daemonArgs: string[];
  };
  procgen: ProcgenSummary | null;
  check: CheckReport;
  /** Kernel event → line in the results log, ms, our exec lines. */
  latency: Summary;
  latencyHistogram: HistogramBin[];
  latencyAllLines: Summary;
  clock: { realtimeMinusBoottimeNs: string; realtimeErrorNs: number; monotonicMinusBoottimeNs: string; monotonicErrorNs: number; driftNs: string };
  tail: { lines: number; bytes: number; files: number; badLines: number; daemonSentEvents: number | null };
  daemon: {
    pid: number;
    rssMbMax: number;
    rssMbMean: number;
    rssMbEnd: number;
    hwmMb: number;
    cpuPercentMean: number;
    cpuPercentMax: number;
    cpuSeconds: number;
    /** Daemon CPU per ring record (fork, exec, exit), µs. */
    cpuUsPerEvent: number;
    /** Daemon CPU per exec line, µs. */
    cpuUsPerExec: number;
    ringRecords: number;
    ringLost: number;
    execEvents: number;
    cacheHits: number;
    cacheMisses: number;
    cacheHitRatePercent: number;
    incompleteByReason: Record<string, number>;
    procfsReads: number;
    /** The daemon's `stats` answer at the end of the run. */
    finalStats: Record<string, unknown> | null;
  };
  queries: {
    rate: number;
    counts: QueryCounts;
    all: Summary;
    ancestry: Summary;
    stats: Summary;
    errorExamples: string[];
  };
  /** ok: nothing lost, wrong, duplicated or unmatched, procgen ran clean, no ring loss. */
  verdict: { ok: boolean; problems: string[] };
}
