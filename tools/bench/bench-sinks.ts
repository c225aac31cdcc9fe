/**
 * Sink benchmarks (issue 4): serialize and deliver cost per event for each
 * format and sink. Prints one line per case: rate ± sd over runs, CPU
 * µs/event, RSS and events lost. Flags: USAGE below; --only runs one group
 * of the cases below: format (with format-cold), format-cold, detail, spool,
 * file (with sustained), sustained or tls.
 *
 * Cases:
 *   format osquery/ecs/ocsf  ExecLineage (depth ancestors) → JSON line; 1024 lineages in
 *                            rotation, so ancestors repeat as in real process trees
 *   … cold ancestors         every ancestor view new (the render cache never hits)
 *   <format> <detail> depth  each format at each process_ancestry_detail, at depth 10 and the
 *                            default depth: µs and bytes per exec line
 *   spool append             lines → disk spool (one write(2) per group of 100)
 *   spool append+read+ack    the spool's whole cycle, as the driver runs it
 *   file sink, deliver only  pre-serialized lines → spool → results log
 *   file sink (spool)        serialize + enqueue + deliver to the results log, end to end
 *   file sink (memory)       same with the in-memory queue
 *   file sink sustained      serialize + deliver at a fixed 50k events/s for 5 s: backlog, lag, drain
 *   tls (gzip off/on)        serialize + enqueue + deliver to a local HTTPS server (mTLS, its
 *                            own process, so its parsing is not counted), end to end
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecLineage } from '../../src/ancestry/process-view';
import { EcsFormat } from '../../src/events/ecs';
import { OcsfFormat } from '../../src/events/ocsf';
import { ANCESTRY_DETAILS, createFormat, FORMAT_NAMES } from '../../src/events';
import { Limits } from '../../src/collector/layout';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import type { EventFormat } from '../../src/events/schema';
import { FileSink } from '../../src/sinks/file/file-sink';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import type { EventQueue } from '../../src/sinks/queue';
import type { Sink } from '../../src/sinks/sink';
import { SinkDriver } from '../../src/sinks/sink-driver';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import { collectHostDetails } from '../../src/sinks/tls/host-details';
import { TlsSink } from '../../src/sinks/tls/tls-sink';
import { clock, host, makeLineage } from '../../test/events/lineage-fixture';
import { FakeFleet } from '../../test/sinks/tls/fake-fleet';
import { makeTestCerts } from '../../test/sinks/tls/test-certs';
import { Flags } from '../lib/cli-args';
import { appendStrings, enqueueStrings } from '../../test/support/string-lines';

const CASES = ['format', 'format-cold', 'detail', 'spool', 'file', 'sustained', 'tls'] as const;
const flags = new Flags(`usage: npm run bench:sinks -- [--events 200000] [--runs 5] [--depth 10]
       [--tls-events 50000] [--only ${CASES.join('|')}]`, {
  events: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, depth: { type: 'string', default: '10' },
  'tls-events': { type: 'string', default: '50000' }, only: { type: 'string' },
  // Not for users: the TLS case runs this file again as its server (serveFleet).
  'serve-fleet': { type: 'string' },
});
const EVENTS = flags.number('events', { integer: true, min: 1 });
const RUNS = flags.number('runs', { integer: true, min: 1 });
const DEPTH = flags.number('depth', { integer: true, min: 1 });
const TLS_EVENTS = flags.number('tls-events', { integer: true, min: 1 });
const GROUP = 100;
const ONLY: string | null = flags.values.only === undefined ? null : flags.choice('only', CASES);

const gc = (globalThis as { gc?: () => void }).gc;

interface Sample {
  nsPerEvent: number;
  cpuUsPerEvent: number;
  lost: number;
}

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

function report(name: string, samples: Sample[], extra = ''): void {
  if (samples.length === 0) return;
  const ns = stats(samples.map((s) => s.nsPerEvent));
  const rate = stats(samples.map((s) => 1e9 / s.nsPerEvent));
  const cpu = stats(samples.map((s) => s.cpuUsPerEvent));
  const lost = samples.reduce((a, s) => a + s.lost, 0);
  const rss = process.memoryUsage().rss / 1048576;
  console.log(`${name.padEnd(30)} ${(ns.mean / 1000).toFixed(2).padStart(7)} µs/event ± ${(ns.sd / 1000).toFixed(2)}`
    + `  ${Math.round(rate.mean).toLocaleString('en-US').padStart(10)} events/s ± ${Math.round(rate.sd).toLocaleString('en-US')}`
    + `  cpu ${cpu.mean.toFixed(2)} µs/event  rss ${rss.toFixed(0)} MiB  lost ${lost}${extra ? '  ' + extra : ''}`);
}

let currentCase = '';

/** What a measured body returns: events lost, and cleanup to run outside the timing (deleting GBs of files). */
type Outcome = number | { lost: number; cleanup: () => void };

async function measure(runs: number, events: number, body: (run: number) => Promise<Outcome> | Outcome): Promise<Sample[]> {
  const out: Sample[] = [];
  if (ONLY !== null && !currentCase.includes(ONLY)) return out;
  for (let run = 0; run <= runs; run++) {
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const outcome = await body(run);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    const lost = typeof outcome === 'number' ? outcome : outcome.lost;
    if (typeof outcome !== 'number') outcome.cleanup();
    if (run > 0) out.push({ nsPerEvent: ns / events, cpuUsPerEvent: (c.user + c.system) / events, lost }); // run 0 warms up
  }
  return out;
}

/** A pool of lineages with distinct timestamps, as a stream of execs would bring. */
const lineages: ExecLineage[] = [];
for (let i = 0; i < 1024; i++) lineages.push(makeLineage(DEPTH, 3_600_000_000_000 + i * 1_000_003));

function formatBench(name: string, f: EventFormat, pool: readonly ExecLineage[] = lineages): Promise<void> {
  return measure(RUNS, EVENTS, () => {
    let n = 0;
    for (let i = 0; i < EVENTS; i++) n += f.exec(pool[i & 1023]).length;
    return n < 0 ? 1 : 0;
  }).then((s) => {
    let bytes = 0;
    for (const l of pool) bytes += Buffer.byteLength(f.exec(l)) + 1;
    report(name, s, `${(bytes / pool.length).toFixed(0)} B/event`);
  });
}

/** Every format at every process_ancestry_detail, at depth 10 and at the default depth: formatting cost and bytes per exec line (newline included). */
async function detailBench(): Promise<void> {
  for (const depth of [10, Limits.ET_CHAIN_DEFAULT]) {
    const pool: ExecLineage[] = [];
    for (let i = 0; i < 1024; i++) pool.push(makeLineage(depth, 3_600_000_000_000 + i * 1_000_003));
    for (const format of FORMAT_NAMES) {
      for (const detail of ANCESTRY_DETAILS) {
        await formatBench(`${format} ${detail} depth ${depth}`, createFormat(format, { host, clock, ancestryDetail: detail }), pool);
      }
    }
  }
}

/** Every ancestor a view never rendered before: the lineage-element cache cannot help. */
async function coldFormatBench(name: string, make: () => EventFormat): Promise<void> {
  const n = Math.min(EVENTS, 10_000);
  const cold: ExecLineage[] = [];
  for (let i = 0; i < n; i++) cold.push(makeLineage(DEPTH, 3_600_000_000_000 + i * 1_000_003));
  const samples = await measure(RUNS, n, () => {
    const f = make();
    for (let i = 0; i < n; i++) f.exec(cold[i]);
    return 0;
  });
  report(name, samples);
}

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `anc-bench-${prefix}-`));
}

/** Pre-serialized lines for the transport-only cases. */
const osquery = new OsqueryResultFormat({ host, clock });
const lines: string[] = lineages.map((l) => osquery.exec(l));

async function spoolBench(withRead: boolean): Promise<void> {
  const samples = await measure(RUNS, EVENTS, async () => {
    const dir = tmp('spool');
    const spool = new DiskSpool({ dir, fsync: 'never', maxBytes: 2 * 1024 ** 3, segmentBytes: 64 << 20 });
    let lost = 0;
    spool.onDrop = (n) => {
      lost += n;
    };
    await spool.open();
    const group: string[] = [];
    let read = 0;
    for (let i = 0; i < EVENTS; i++) {
      group.push(lines[i & 1023]);
      if (group.length === GROUP) {
        appendStrings(spool, group, i);
        group.length = 0;
        if (withRead && spool.unreadEvents >= 1000) {
          const b = await spool.read(1000, 4 << 20);
          read += b!.count;
          spool.ack(b!.lastId);
        }
      }
    }
    if (withRead) {
      for (let b = await spool.read(1000, 4 << 20); b !== null; b = await spool.read(1000, 4 << 20)) {
        read += b.count;
        spool.ack(b.lastId);
      }
      lost += EVENTS - read;
    }
    await spool.close();
    return { lost, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  });
  report(withRead ? 'spool append+read+ack' : 'spool append (write(2)/100 ev)', samples,
    `${(lines.reduce((a, l) => a + l.length, 0) / lines.length + 32).toFixed(0)} B/record`);
}

/**
 * Serialize (unless `preSerialized`) + enqueue in groups (as the ring drain
 * does) + wait until the sink acknowledged all.
 */
async function pipeline(sink: Sink, queue: EventQueue, events: number, driverOpts = {}, preSerialized = false): Promise<number> {
  const d = new SinkDriver(sink, queue, { lingerMs: 5, ...driverOpts }); // default batch limits (1000 lines, 1 MiB)
  await d.start();
  const group: string[] = [];
  let produced = 0;
  await new Promise<void>((resolve) => {
    // Produce in slices so delivery runs alongside, like the drain on its epoll wakeups.
    const slice = (): void => {
      const end = Math.min(events, produced + 5000);
      for (; produced < end; produced++) {
        group.push(preSerialized ? lines[produced & 1023] : osquery.exec(lineages[produced & 1023]));
        if (group.length === GROUP || produced === events - 1) {
          enqueueStrings(d, group, produced);
          group.length = 0;
        }
      }
      if (produced < events) setImmediate(slice);
      else resolve();
    };
    slice();
  });
  while (d.stats().deliveredEvents < events && d.stats().inFlightBatches + d.stats().unreadEvents > 0) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const s = d.stats();
  await d.close();
  return events - s.deliveredEvents;
}

async function fileBench(spooled: boolean, preSerialized: boolean): Promise<void> {
  const samples = await measure(RUNS, EVENTS, async () => {
    const dir = tmp('file');
    const sink = new FileSink({ loggerPath: join(dir, 'log'), rotateSizeBytes: 256 << 20, rotateMaxFiles: 10 });
    const queue = spooled
      ? new DiskSpool({ dir: join(dir, 'spool'), fsync: 'never', maxBytes: 2 * 1024 ** 3, segmentBytes: 64 << 20 })
      : new MemoryQueue({ maxBytes: 1 << 30 });
    const lost = await pipeline(sink, queue, EVENTS, {}, preSerialized);
    return { lost, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  });
  report(`file sink (${spooled ? 'spool' : 'memory'}), ${preSerialized ? 'deliver only' : 'serialize+deliver'}`, samples);
}

/**
 * The file sink behind the spool fed at a fixed rate for a few seconds, as
 * the daemon would be: does the backlog stay bounded? Prints the rate
 * achieved, the largest backlog and lag seen, and how long the rest took
 * to drain once the producer stopped.
 */
async function sustainedBench(ratePerS: number, seconds: number): Promise<void> {
  const dir = tmp('sustained');
  const sink = new FileSink({ loggerPath: join(dir, 'log'), rotateSizeBytes: 256 << 20, rotateMaxFiles: 10 });
  const d = new SinkDriver(sink, new DiskSpool({ dir: join(dir, 'spool'), fsync: 1000, maxBytes: 2 * 1024 ** 3 }), {
    nowBootNs: () => Number(process.hrtime.bigint()),
  });
  await d.start();
  const total = ratePerS * seconds;
  const group: string[] = [];
  let produced = 0;
  let maxBacklog = 0;
  let maxLag = 0;
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) * ratePerS) / 1000));
      while (produced < due) {
        group.push(osquery.exec(lineages[produced & 1023]));
        produced++;
        if (group.length === GROUP || produced === due) {
          enqueueStrings(d, group, Number(process.hrtime.bigint()));
          group.length = 0;
        }
      }
      const st = d.stats();
      maxBacklog = Math.max(maxBacklog, st.unreadEvents);
      maxLag = Math.max(maxLag, st.lagSeconds);
      if (produced < total) setTimeout(tick, 5);
      else resolve();
    };
    tick();
  });
  const producedMs = Date.now() - t0;
  while (d.stats().deliveredEvents < total) await new Promise((r) => setTimeout(r, 2));
  const drainMs = Date.now() - t0 - producedMs;
  const c = process.cpuUsage(c0);
  const st = d.stats();
  await d.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${`file sink sustained ${ratePerS / 1000}k/s`.padEnd(30)} ${Math.round(total / (producedMs / 1000)).toLocaleString('en-US')} events/s offered `
    + `for ${(producedMs / 1000).toFixed(1)} s, max backlog ${maxBacklog} events, max lag ${(maxLag * 1000).toFixed(0)} ms, `
    + `drained ${drainMs} ms after the last event, cpu ${((c.user + c.system) / total).toFixed(2)} µs/event, `
    + `lost ${total - st.deliveredEvents}`);
}

/**
 * `--serve-fleet <certDir>`: run the test Fleet server (mTLS) in this
 * process, print its port and the number of results it holds on request.
 * The TLS case runs it as a child so that its JSON parsing is not counted
 * as the sink's cost.
 */
async function serveFleet(certDir: string): Promise<void> {
  const certs = makeTestCerts(certDir);
  const fleet = new FakeFleet({ certs, enrollSecret: 'bench', requireClientCert: true });
  await fleet.start();
  process.stdout.write(`port ${fleet.port}\n`);
  process.stdin.on('data', () => {
    process.stdout.write(`requests ${fleet.logRequests.length} results ${fleet.results.length}\n`);
    fleet.results.length = 0;
  });
  process.stdin.on('end', () => void fleet.stop().then(() => process.exit(0)));
}

async function tlsBench(compress: boolean): Promise<void> {
  const dir = tmp('tls');
  writeFileSync(join(dir, 'secret'), 'bench');
  const server = spawn(process.execPath, [__filename, '--serve-fleet', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let buf = '';
  server.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (waiting !== null) {
        const w = waiting;
        waiting = null;
        w(line);
      } else answers.push(line);
    }
  });
  const next = (): Promise<string> => (answers.length > 0 ? Promise.resolve(answers.shift()!)
    : new Promise((resolve) => {
      waiting = resolve;
    }));
  const port = Number((await next()).split(' ')[1]);
  let batches = 0;
  let lostAtServer = 0;
  const samples = await measure(Math.min(RUNS, 3), TLS_EVENTS, async () => {
    const sink = new TlsSink({
      tlsHostname: `127.0.0.1:${port}`, enrollSecretPath: join(dir, 'secret'), hostIdentifier: host.hostIdentifier,
      tlsServerCerts: join(dir, 'ca.pem'), tlsClientCert: join(dir, 'client.pem'), tlsClientKey: join(dir, 'client.key'),
      loggerTlsCompress: compress,
    }, collectHostDetails(host.hostname, host.machineId, 'bench'));
    const spoolDir = join(dir, `spool-${Math.random()}`);
    const lost = await pipeline(sink, new DiskSpool({ dir: spoolDir, fsync: 'never', maxBytes: 1 << 30 }),
      TLS_EVENTS, { maxBatchLines: 1024, maxBatchBytes: 8 << 20 });
    return { lost, cleanup: () => rmSync(spoolDir, { recursive: true, force: true }) };
  });
  server.stdin!.write('\n');
  const m = /requests (\d+) results (\d+)/.exec(await next());
  batches = Number(m![1]);
  lostAtServer = (Math.min(RUNS, 3) + 1) * TLS_EVENTS - Number(m![2]);
  server.stdin!.end();
  await new Promise((r) => server.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  report(`tls gzip ${compress ? 'on ' : 'off'}, serialize+deliver`, samples,
    `${batches} requests of ≤1024 events, server (own process) missing ${lostAtServer}`);
}

/** Names the case for --only before measuring it. */
function named<T>(name: string, run: () => Promise<T>): Promise<T> {
  currentCase = name;
  return run();
}

async function main(): Promise<void> {
  console.log(`# bench-sinks: ${EVENTS} events × ${RUNS} runs (+1 warm-up), lineage depth ${DEPTH}, node ${process.version}`
    + `${gc ? '' : ' (add --expose-gc for steadier figures)'}`);
  await named('format', () => formatBench(`format osquery exec depth ${DEPTH}`, osquery));
  await named('format', () => formatBench('format osquery numerics', new OsqueryResultFormat({ host, clock, numerics: true })));
  await named('format', () => formatBench(`format ecs exec depth ${DEPTH}`, new EcsFormat({ host, clock })));
  await named('format', () => formatBench(`format ocsf exec depth ${DEPTH}`, new OcsfFormat({ host, clock })));
  await named('format-cold', () => coldFormatBench('format osquery, cold ancestors', () => new OsqueryResultFormat({ host, clock })));
  await named('format-cold', () => coldFormatBench('format ecs, cold ancestors', () => new EcsFormat({ host, clock })));
  await named('format-cold', () => coldFormatBench('format ocsf, cold ancestors', () => new OcsfFormat({ host, clock })));
  await named('detail', () => detailBench());
  await named('spool', () => spoolBench(false));
  await named('spool', () => spoolBench(true));
  await named('file', () => fileBench(true, true));
  await named('file', () => fileBench(true, false));
  await named('file', () => fileBench(false, false));
  if (ONLY === null || ONLY === 'file' || ONLY === 'sustained') await sustainedBench(50_000, 5);
  if (ONLY === null || ONLY === 'tls') {
    await named('tls', () => tlsBench(false));
    await named('tls', () => tlsBench(true));
  }
}

const serveDir = flags.values['serve-fleet'];
(serveDir !== undefined ? serveFleet(serveDir) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
