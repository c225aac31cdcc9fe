/**
 * Soak runner (issue 6): what the old load test did — a process rate, a query
 * rate, a duration, and a per-second CSV of the daemon's memory, CPU and
 * cache hits/misses — plus the correctness checker's verdict on every exec,
 * event latency, and a self-contained HTML report.
 *
 * Flags: USAGE below (`npm run soak -- --help`);
 *   make soak DURATION=60 RATE=1000 MODE=mix QUERY_RATE=10 OUT=var/soak/x
 *
 * Starts the daemon (with its files under OUT/daemon, no config file) or
 * attaches to a running one, runs build/procgen MODE at RATE exec/s (0: flat
 * out) for DURATION s, queries the admin socket at QUERY_RATE/s, samples the
 * daemon every second, waits for the last execs to reach the log, stops the
 * daemon, and writes OUT/soak.csv, OUT/summary.json, OUT/report.html.
 * --pause-daemon AT,SECS stops the daemon (SIGSTOP) AT s into the run for
 * SECS s: a stalled daemon, to show what loss looks like (the kernel ring
 * overflows; the checker must see every lost exec and the daemon must
 * count them).
 *
 * Exit 1 when an exec was lost, wrong, duplicated, or the run itself failed
 * (including: procgen reached less than --min-rate exec/s, or the pid space
 * wrapped fewer than --min-wraps times).
 */
import { spawn } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminRequest } from '../../src/daemon/admin/admin-client';
import type { SessionResult } from '../../test/support/check/check-session';
import { renderCheck, latencyRow } from '../../test/support/check/check-text';
import { attachDaemon, startDaemon, type DaemonHandle } from '../../test/support/daemon-process';
import { ROOT } from '../../test/support/paths';
import { sampleProc, type ProcSample } from '../../test/support/proc-stat';
import { Flags } from '../lib/cli-args';
import { readClockOffsets } from '../lib/clock-offset';
import { CheckThread } from './check-thread';
import { Progress } from './progress';
import { QueryLoad } from './query-load';
import { renderReport } from './report-html';
import { csvHeader, csvRow, type SoakRow } from './soak-csv';
import type { ProcgenSummary, SoakSummary } from './soak-summary';

const MODES = ['flat', 'tree', 'churn', 'daemonize', 'subreaper', 'thread-exec', 'pid-wrap', 'mix'] as const;

const USAGE = `usage: node dist/tools/soak/soak.js [--duration 60] [--rate 1000] [--mode mix]
       [--workers 2] [--query-rate 10] [--out DIR] [--wrap-forks 3]
       [--wrap-every 5] [--exe /bin/true] [--daemon-arg=--OPTION=VALUE ...]
       [--keep-logs] [--drain-timeout 30] [--min-rate R] [--min-wraps N]
       [--pause-daemon AT,SECS] [--kill-daemon AT,SECS [--restart-arg=--OPTION=VALUE ...] [--restart-build DIR] [--max-duplicates N]]
       [--attach --admin-socket PATH --logger-path DIR [--max-depth 32]]
--mode: ${MODES.join(', ')}`;

interface Args {
  duration: number;
  rate: number;
  mode: string;
  workers: number;
  queryRate: number;
  out: string;
  wrapForks: number;
  wrapEvery: number;
  exe: string;
  daemonArgs: string[];
  keepLogs: boolean;
  drainTimeout: number;
  attach: boolean;
  adminSocket: string;
  loggerPath: string;
  maxDepth: number | null;
  minRate: number;
  minWraps: number;
  pauseAt: number;
  pauseSecs: number;
  /** --kill-daemon: SIGKILL at killAt s, start again killSecs s later (bpf_pin on, a pin root of its own). */
  killAt: number;
  killSecs: number;
  /** Options added for the restarted daemon (e.g. other bpf settings: an upgrade). */
  restartArgs: string[];
  /** The tree (dist/ and build/exec_trace.bpf.o) the restarted daemon runs: another build, an upgrade. */
  restartBuild: string;
  /** Duplicate lines accepted: a kill may replay the one drain pass it interrupted. */
  maxDuplicates: number;
}

function readArgs(): Args {
  const flags = new Flags(USAGE, {
    duration: { type: 'string', default: '60' }, rate: { type: 'string', default: '1000' }, mode: { type: 'string', default: 'mix' },
    workers: { type: 'string', default: '2' }, 'query-rate': { type: 'string', default: '10' }, out: { type: 'string', default: '' },
    'wrap-forks': { type: 'string', default: '3' }, 'wrap-every': { type: 'string', default: '5' }, exe: { type: 'string', default: '/bin/true' },
    'daemon-arg': { type: 'string', multiple: true, default: [] }, 'keep-logs': { type: 'boolean', default: false },
    'drain-timeout': { type: 'string', default: '30' }, attach: { type: 'boolean', default: false },
    'admin-socket': { type: 'string', default: '' }, 'logger-path': { type: 'string', default: '' }, 'max-depth': { type: 'string' },
    'min-rate': { type: 'string', default: '0' }, 'min-wraps': { type: 'string', default: '0' }, 'pause-daemon': { type: 'string' },
    'kill-daemon': { type: 'string' }, 'restart-arg': { type: 'string', multiple: true, default: [] },
    'restart-build': { type: 'string', default: ROOT }, 'max-duplicates': { type: 'string', default: '0' },
  });
  const v = flags.values;
  const a: Args = {
    duration: flags.number('duration', { above: 0 }),
    rate: flags.number('rate', { min: 0 }),
    mode: flags.choice('mode', MODES),
    workers: flags.number('workers', { integer: true, min: 1 }),
    queryRate: flags.number('query-rate', { min: 0 }),
    out: v.out,
    wrapForks: flags.number('wrap-forks', { integer: true, min: 0 }),
    wrapEvery: flags.number('wrap-every', { min: 0 }),
    exe: v.exe,
    daemonArgs: v['daemon-arg'],
    keepLogs: v['keep-logs'],
    drainTimeout: flags.number('drain-timeout', { min: 0 }),
    attach: v.attach,
    adminSocket: v['admin-socket'],
    loggerPath: v['logger-path'],
    maxDepth: flags.optionalNumber('max-depth', { integer: true, min: 1 }),
    minRate: flags.number('min-rate', { min: 0 }),
    minWraps: flags.number('min-wraps', { integer: true, min: 0 }),
    pauseAt: 0,
    pauseSecs: 0,
    killAt: 0,
    killSecs: 0,
    restartArgs: v['restart-arg'] ?? [],
    restartBuild: resolve(v['restart-build'] ?? ROOT),
    maxDuplicates: flags.number('max-duplicates', { integer: true, min: 0 }),
  };
  if (v['kill-daemon'] !== undefined) {
    const m = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(v['kill-daemon']);
    if (!m) return flags.fail('--kill-daemon: expected AT,SECS (seconds), e.g. 8,5');
    a.killAt = Number(m[1]);
    a.killSecs = Number(m[2]);
    if (a.attach) flags.fail('--kill-daemon kills only a daemon the soak started, not an attached one');
  }
  if (v['pause-daemon'] !== undefined) {
    const m = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(v['pause-daemon']);
    if (!m) return flags.fail('--pause-daemon: expected AT,SECS (seconds), e.g. 8,3');
    a.pauseAt = Number(m[1]);
    a.pauseSecs = Number(m[2]);
  }
  if (a.attach && (!a.adminSocket || !a.loggerPath)) flags.fail('--attach needs --admin-socket and --logger-path');
  if (a.attach && a.pauseSecs > 0) flags.fail('--pause-daemon stops only a daemon the soak started, not an attached one');
  if (a.out === '') a.out = join(ROOT, 'var', 'soak', new Date().toISOString().replace(/[:.]/g, '-'));
  a.out = resolve(a.out);
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (o: unknown) => Object.values((o ?? {}) as Record<string, number>).reduce((x, y) => x + (Number(y) || 0), 0);

interface DaemonStats {
  cache_hits: number;
  cache_misses: number;
  cache_size: number;
  cache_live: number;
  cache_exited: number;
  procfs_reads: number;
  events: Record<string, number>;
  incomplete: Record<string, number>;
  ring: { records: Record<string, number>; lost: Record<string, number> };
  sinks?: Record<string, { sent_events?: number; queued_events?: number }>;
}

async function stats(socket: string): Promise<DaemonStats | null> {
  try {
    return (await adminRequest(socket, 'stats', {}, { timeoutMs: 5000 })) as unknown as DaemonStats;
  } catch {
    return null;
  }
}

function maxDepthOf(args: readonly string[]): number {
  for (const a of args) {
    const m = /^--process_ancestry_max_depth[= ](\d+)$/.exec(a);
    if (m) return Number(m[1]);
  }
  const preset = args.map((a) => /^--process_ancestry_preset[= ](\w+)$/.exec(a)?.[1]).find(Boolean);
  return ({ small: 16, medium: 20, large: 24, enterprise: 32 } as Record<string, number>)[preset ?? ''] ?? 32;
}

async function main(): Promise<number> {
  const a = readArgs();
  mkdirSync(a.out, { recursive: true });
  const truthPath = join(a.out, 'truth.jsonl');
  const csvPath = join(a.out, 'soak.csv');
  rmSync(truthPath, { force: true });
  writeFileSync(csvPath, csvHeader());
  const tag = `s${Date.now().toString(36)}`;
  const maxDepth = a.maxDepth ?? maxDepthOf(a.daemonArgs);
  const progress = new Progress(a.duration);
  const startedAt = new Date().toISOString();
  const clock0 = readClockOffsets(ROOT);

  progress.note(`soak: ${a.mode} at ${a.rate || 'full speed'} exec/s × ${a.duration} s, ${a.workers} workers, ${a.queryRate} queries/s → ${a.out}`);
  let daemon: DaemonHandle;
  // --kill-daemon: the programs stay pinned while the daemon is down, under a root of the run's own.
  const pinRoot = a.killSecs > 0 ? `/sys/fs/bpf/anc-soak-${process.pid}` : null;
  const daemonArgs = pinRoot === null ? a.daemonArgs : ['--bpf_pin=true', `--bpf_pin_path=${pinRoot}`, ...a.daemonArgs];
  if (a.attach) {
    daemon = await attachDaemon(a.adminSocket, a.loggerPath);
  } else {
    rmSync(join(a.out, 'daemon'), { recursive: true, force: true });
    daemon = await startDaemon(join(a.out, 'daemon'), daemonArgs);
  }
  progress.note(`daemon pid ${daemon.pid} ${daemon.owned ? 'started' : 'attached'}; checking process_ancestry_max_depth=${maxDepth}`);

  const check = new CheckThread({
    logDir: daemon.logDir, truthPath, tagPrefix: tag, maxDepth, monoMinusBootNs: clock0.monotonicMinusBoottimeNs, fromEnd: a.attach,
  });
  const queries = new QueryLoad({ adminSocket: daemon.adminSocket, rate: a.queryRate });

  // Baseline, then the load.
  const base = { proc: sampleProc(daemon.pid), stats: await stats(daemon.adminSocket), t: performance.now() };
  const pgArgs = [a.mode, '--workers', String(a.workers), '--duration', String(a.duration), '--rate', String(a.rate),
    '--truth', truthPath, '--tag', tag, '--exe', a.exe, '--wrap-forks', String(a.wrapForks), '--wrap-every', String(a.wrapEvery)];
  const pgErr = openSync(join(a.out, 'procgen.log'), 'w');
  const pg = spawn(join(ROOT, 'build', 'procgen'), pgArgs, { stdio: ['ignore', 'pipe', pgErr] });
  closeSync(pgErr);
  let pgOut = '';
  pg.stdout!.on('data', (d: Buffer) => { pgOut += d.toString(); });
  const pgDone = new Promise<number | null>((r) => pg.once('exit', (code) => r(code)));
  let pgExit: number | null | undefined;
  void pgDone.then((c) => { pgExit = c; });
  queries.start();
  if (a.pauseSecs > 0) {
    setTimeout(() => {
      progress.note(`pausing the daemon (SIGSTOP) for ${a.pauseSecs} s`);
      process.kill(daemon.pid, 'SIGSTOP');
      setTimeout(() => process.kill(daemon.pid, 'SIGCONT'), a.pauseSecs * 1000);
    }, a.pauseAt * 1000);
  }

  /** While the killed daemon is down: nothing to sample, and its absence is the point. */
  let down = false;
  let restartMs = NaN;
  if (a.killSecs > 0) {
    setTimeout(() => {
      progress.note(`killing the daemon (SIGKILL); starting it again in ${a.killSecs} s`);
      down = true;
      process.kill(daemon.pid, 'SIGKILL');
      setTimeout(() => {
        void (async () => {
          await daemon.stop(); // reaps the killed child
          const t = performance.now();
          daemon = await startDaemon(join(a.out, 'daemon'), [...daemonArgs, ...a.restartArgs], 60_000, a.restartBuild);
          restartMs = performance.now() - t;
          progress.note(`daemon pid ${daemon.pid} started again, ready in ${restartMs.toFixed(0)} ms`);
          down = false;
        })().catch((err: unknown) => {
          progress.note(`restarting the daemon failed: ${(err as Error).message}`);
          down = false;
        });
      }, a.killSecs * 1000);
    }, a.killAt * 1000);
  }

  const rows: SoakRow[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  let prev: { proc: ProcSample | null; stats: DaemonStats | null; t: number } = base;
  let daemonGone = false;
  const t0 = performance.now();
  const sampleOnce = async (): Promise<void> => {
    const now = performance.now();
    const proc = sampleProc(daemon.pid);
    const st = await stats(daemon.adminSocket);
    const tick = await check.tick();
    const qw = queries.takeWindow();
    const dt = (now - prev.t) / 1000;
    if (proc === null) daemonGone = true;
    const rate = (f: (s: DaemonStats) => number) => (st && prev.stats ? (f(st) - f(prev.stats)) / dt : undefined);
    const dh = st && prev.stats ? st.cache_hits - prev.stats.cache_hits : 0;
    const dm = st && prev.stats ? st.cache_misses - prev.stats.cache_misses : 0;
    const row: SoakRow = {
      timestamp: new Date().toISOString(),
      memory_mb: proc ? proc.rssKb / 1024 : undefined,
      cpu_percent: proc && prev.proc ? ((proc.cpuMs - prev.proc.cpuMs) / (dt * 1000)) * 100 : undefined,
      cache_hits: st?.cache_hits,
      cache_misses: st?.cache_misses,
      events_per_sec: rate((s) => sum(s.ring.records)),
      ring_lost: st ? sum(st.ring.lost) : undefined,
      cache_size: st?.cache_size,
      incomplete: st ? sum(st.incomplete) : undefined,
      query_p99_ms: qw.p99Ms,
      execs_per_sec: rate((s) => s.events.exec ?? 0),
      lines_per_sec: tick.lines / dt,
      latency_p50_ms: tick.latencyP50Ms,
      latency_p99_ms: tick.latencyP99Ms,
      latency_max_ms: tick.latencyMaxMs,
      queries: qw.count,
      query_errors: qw.errors,
      cache_hit_rate_percent: dh + dm > 0 ? (dh / (dh + dm)) * 100 : undefined,
      cache_live: st?.cache_live,
      cache_exited: st?.cache_exited,
      procfs_reads: st?.procfs_reads,
      sink_queued_events: st?.sinks?.filesystem?.queued_events,
      pending_truth: tick.pendingTruth,
    };
    rows.push(row);
    appendFileSync(csvPath, csvRow(row));
    if (row.memory_mb !== undefined) rss.push(row.memory_mb);
    if (row.cpu_percent !== undefined) cpu.push(row.cpu_percent);
    prev = { proc: proc ?? prev.proc, stats: st ?? prev.stats, t: now };
    progress.update((now - t0) / 1000, `${(row.execs_per_sec ?? 0).toFixed(0)} exec/s  RSS ${(row.memory_mb ?? 0).toFixed(0)} MB  `
      + `CPU ${(row.cpu_percent ?? 0).toFixed(0)}%  lat p99 ${Number.isFinite(tick.latencyP99Ms) ? tick.latencyP99Ms.toFixed(0) : '–'} ms  `
      + `q p99 ${Number.isFinite(qw.p99Ms) ? qw.p99Ms.toFixed(1) : '–'} ms  matched ${tick.matched} pending ${tick.pendingTruth}  ring lost ${row.ring_lost ?? '–'}`);
  };

  // One row per second, until procgen is done and the last execs are in the log.
  let nextAt = t0 + 1000;
  let drainStart = 0;
  let lastPending = -1;
  let lastProgressAt = 0;
  for (;;) {
    await sleep(Math.max(0, nextAt - performance.now()));
    nextAt += 1000;
    if (down) continue;
    await sampleOnce();
    if (daemonGone) break;
    if (pgExit === undefined) continue;
    if (drainStart === 0) {
      drainStart = performance.now();
      progress.note(`procgen done (exit ${pgExit}); waiting for the last execs to reach the log`);
    }
    const pending = await check.pending();
    if (pending !== lastPending) {
      lastPending = pending;
      lastProgressAt = performance.now();
    }
    // Done when nothing is pending, or nothing moved for 5 s, or at the drain timeout.
    if (pending === 0 || performance.now() - lastProgressAt > 5000 || performance.now() - drainStart > a.drainTimeout * 1000) break;
  }
  await queries.stop();
  const finalStats = await stats(daemon.adminSocket);
  const finalProc = sampleProc(daemon.pid);
  const clock1 = readClockOffsets(ROOT);
  let daemonExit: number | null = null;
  if (daemon.owned) daemonExit = await daemon.stop();
  if (pinRoot !== null) {
    const pin = (finalStats as unknown as { ring?: { pin?: Record<string, unknown> } } | null)?.ring?.pin;
    progress.note(`restarted daemon: ready in ${restartMs.toFixed(0)} ms; took over ${JSON.stringify(pin ?? null)}`);
    rmSync(pinRoot, { recursive: true, force: true });
  }
  progress.end();
  const res: SessionResult = await check.finish();
  if (pgExit === undefined) pgExit = await pgDone;

  let pgSummary: ProcgenSummary | null = null;
  try {
    pgSummary = JSON.parse(pgOut.trim().split('\n').pop() ?? '') as ProcgenSummary;
  } catch {
    pgSummary = null;
  }

  const bs = base.stats;
  const fs = finalStats;
  const cpuMs = finalProc && base.proc ? finalProc.cpuMs - base.proc.cpuMs : NaN;
  const records = fs && bs ? sum(fs.ring.records) - sum(bs.ring.records) : NaN;
  const execEvents = fs && bs ? (fs.events.exec ?? 0) - (bs.events.exec ?? 0) : NaN;
  const hits = fs && bs ? fs.cache_hits - bs.cache_hits : NaN;
  const misses = fs && bs ? fs.cache_misses - bs.cache_misses : NaN;
  const incompleteByReason: Record<string, number> = {};
  for (const [k, v] of Object.entries(fs?.incomplete ?? {})) incompleteByReason[k] = v - (bs?.incomplete?.[k] ?? 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : NaN);
  const ringLost = fs && bs ? sum(fs.ring.lost) - sum(bs.ring.lost) : NaN;
  const qs = queries.summary();

  const problems: string[] = [];
  const c = res.check;
  if (c.lost) problems.push(`${c.lost} execs lost`);
  if (c.wrong) problems.push(`${c.wrong} execs with wrong ancestry`);
  if (c.duplicates > a.maxDuplicates) problems.push(`${c.duplicates} duplicate lines (accepted: ${a.maxDuplicates})`);
  if (c.unmatched) problems.push(`${c.unmatched} lines without truth`);
  if (c.truth === 0) problems.push('no execs generated');
  if (res.badLines) problems.push(`${res.badLines} unparseable lines`);
  if (ringLost > 0) problems.push(`${ringLost} ring records lost in the kernel`);
  if (pgExit !== 0 || !pgSummary || pgSummary.failures || pgSummary.unfinished) {
    problems.push(`procgen exit ${pgExit}${pgSummary ? ` (${pgSummary.failures} failures, ${pgSummary.unfinished} unfinished)` : ', no summary'}: see procgen.log`);
  }
  if (pgSummary && pgSummary.execs_per_sec < a.minRate) problems.push(`procgen reached ${pgSummary.execs_per_sec} exec/s, below --min-rate ${a.minRate}`);
  if (pgSummary && pgSummary.pid_wraps < a.minWraps) problems.push(`the pid space wrapped ${pgSummary.pid_wraps} times, below --min-wraps ${a.minWraps}`);
  if (daemonGone) problems.push('the daemon died during the run: see daemon/daemon.log');
  if (daemon.owned && daemonExit !== 0) problems.push(`the daemon exited with ${daemonExit} at SIGTERM`);
  if (qs.counts.errors) problems.push(`${qs.counts.errors} admin queries failed`);

  const summary: SoakSummary = {
    startedAt, endedAt: new Date().toISOString(), host: hostname(),
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), cpus: cpus().length,
    config: {
      mode: a.mode, rate: a.rate, durationSec: a.duration, workers: a.workers, queryRate: a.queryRate, wrapForks: a.wrapForks,
      wrapEverySec: a.wrapEvery, exe: a.exe, maxDepth, tag, attached: a.attach, daemonArgs: daemon.args,
    },
    procgen: pgSummary,
    check: c,
    latency: res.latency,
    latencyHistogram: res.latencyHistogram,
    latencyAllLines: res.latencyAllLines,
    clock: {
      realtimeMinusBoottimeNs: clock0.realtimeMinusBoottimeNs.toString(), realtimeErrorNs: clock0.realtimeErrorNs,
      monotonicMinusBoottimeNs: clock0.monotonicMinusBoottimeNs.toString(), monotonicErrorNs: clock0.monotonicErrorNs,
      driftNs: (clock1.monotonicMinusBoottimeNs - clock0.monotonicMinusBoottimeNs).toString(),
    },
    tail: { lines: res.tail.lines, bytes: res.tail.bytes, files: res.tail.files, badLines: res.badLines, daemonSentEvents: fs?.sinks?.filesystem?.sent_events ?? null },
    daemon: {
      pid: daemon.pid,
      rssMbMax: Math.max(...rss), rssMbMean: mean(rss), rssMbEnd: finalProc ? finalProc.rssKb / 1024 : NaN,
      hwmMb: finalProc ? finalProc.hwmKb / 1024 : NaN,
      cpuPercentMean: mean(cpu), cpuPercentMax: Math.max(...cpu), cpuSeconds: cpuMs / 1000,
      cpuUsPerEvent: (cpuMs * 1000) / records, cpuUsPerExec: (cpuMs * 1000) / execEvents,
      ringRecords: records, ringLost, execEvents, cacheHits: hits, cacheMisses: misses,
      cacheHitRatePercent: (hits / (hits + misses)) * 100, incompleteByReason,
      procfsReads: fs && bs ? fs.procfs_reads - bs.procfs_reads : NaN,
      finalStats: fs as unknown as Record<string, unknown> | null,
    },
    queries: { rate: a.queryRate, ...qs },
    verdict: { ok: problems.length === 0, problems },
  };
  writeFileSync(join(a.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(join(a.out, 'report.html'), renderReport(summary, rows));
  if (daemon.owned && !a.keepLogs) rmSync(join(daemon.logDir), { recursive: true, force: true });

  const lines = [
    `# soak ${a.mode} ${a.rate || 'flat out'} exec/s × ${a.duration} s — ${summary.verdict.ok ? 'PASS' : `FAIL: ${problems.join('; ')}`}`,
    '',
    `procgen: ${pgSummary ? `${pgSummary.execs} execs at ${pgSummary.execs_per_sec} /s, ${pgSummary.pid_wraps} pid wraps (pids ${pgSummary.pid_min}–${pgSummary.pid_max}), ${pgSummary.wrap_forks} wrap forks` : 'no summary'}`,
    '',
    ...renderCheck(c, undefined),
    '',
    '| latency (ms) | count | p50 | p90 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    latencyRow('kernel event → line (exec lines of the run)', res.latency),
    latencyRow('admin query (all)', qs.all),
    latencyRow('admin query: ancestry', qs.ancestry),
    latencyRow('admin query: stats', qs.stats),
    '',
    `daemon: RSS max ${summary.daemon.rssMbMax.toFixed(1)} MB (mean ${summary.daemon.rssMbMean.toFixed(1)}), CPU mean ${summary.daemon.cpuPercentMean.toFixed(1)} % `
      + `(max ${summary.daemon.cpuPercentMax.toFixed(1)}), ${summary.daemon.cpuUsPerEvent.toFixed(1)} µs/ring record, ${summary.daemon.cpuUsPerExec.toFixed(1)} µs/exec, `
      + `cache hit rate ${summary.daemon.cacheHitRatePercent.toFixed(2)} % (${hits} / ${misses}), ring lost ${ringLost}, procfs reads ${summary.daemon.procfsReads}, `
      + `incomplete ${JSON.stringify(incompleteByReason)}`,
    `queries: ${qs.counts.sent} sent at ${a.queryRate}/s: ${qs.counts.ok} ok, ${qs.counts.gone} gone, ${qs.counts.missingLive} alive-but-unknown, ${qs.counts.errors} errors, ${qs.counts.skipped} skipped`,
    '',
    `wrote ${csvPath} (${rows.length} rows), ${join(a.out, 'summary.json')}, ${join(a.out, 'report.html')}`,
  ];
  console.log(lines.join('\n'));
  return summary.verdict.ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
