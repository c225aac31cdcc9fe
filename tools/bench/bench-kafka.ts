/**
 * Kafka sink benchmark (issue 4): per codec, how fast events go through the
 * sink driver, the spool and the Kafka sink into the local broker
 * (tools/kafka/kafka.sh start), and what each event costs.
 *
 * Per codec and repetition: a fresh topic, a new driver + queue + sink; all
 * events are enqueued at once (pre-serialized) and the clock stops when the
 * last one is acknowledged. Printed per sample and as mean ± sd over reps:
 *   events/s        acknowledged events per wall second, flat out
 *   deliver µs/ev   this process's CPU (user+sys) per event: enqueue, spool,
 *                   driver, sink, kafkajs, compression
 *   broker µs/ev    the broker JVM's CPU per event (it shares the 2 cores)
 *   bytes/ev        on the broker's disk (after compression), per event
 *   RSS             this process's peak resident set
 *   lost            events not acknowledged + dropped (must be 0)
 * and once: serialize µs/event, the format's cost (src/events) per event,
 * which the pipeline pays before enqueue. Flags: USAGE below.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORMAT_NAMES, type FormatName } from '../../src/events';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import type { EventQueue } from '../../src/sinks/queue';
import { DRIVER_DEFAULTS, SinkDriver } from '../../src/sinks/sink-driver';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import { kafkaDriverMaxBatchBytes } from '../../src/sinks/kafka/batch-messages';
import { KAFKA_COMPRESSIONS, KAFKA_KEYS, parseKafkaConfig, type KafkaCompression } from '../../src/sinks/kafka/config';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { SampleEvents } from '../../test/support/kafka/sample-events';
import { collectingLogger, createTopic, requireBroker, uniqueTopic } from '../../test/support/kafka/test-broker';
import { ROOT } from '../../test/support/paths';
import { sampleProc } from '../../test/support/proc-stat';
import { Flags } from '../lib/cli-args';
import { enqueueStrings } from '../../test/support/string-lines';

const flags = new Flags(`usage: npm run bench:kafka -- [--events 50000] [--reps 3] [--codecs ${KAFKA_COMPRESSIONS.join(',')}]
       [--format ${FORMAT_NAMES.join('|')}] [--key ${KAFKA_KEYS.join('|')}] [--partitions 3] [--queue disk|memory]`, {
  events: { type: 'string', default: '50000' }, reps: { type: 'string', default: '3' },
  codecs: { type: 'string', default: KAFKA_COMPRESSIONS.join(',') }, format: { type: 'string', default: 'osquery' },
  key: { type: 'string', default: 'entity_id' }, partitions: { type: 'string', default: '3' }, queue: { type: 'string', default: 'disk' },
});
const EVENTS = flags.number('events', { integer: true, min: 1 });
const REPS = flags.number('reps', { integer: true, min: 1 });
const CODECS = flags.values.codecs.split(',') as KafkaCompression[];
for (const c of CODECS) if (!KAFKA_COMPRESSIONS.includes(c)) flags.fail(`--codecs: unknown codec ${c} (${KAFKA_COMPRESSIONS.join(', ')})`);
const FORMAT = flags.choice('format', FORMAT_NAMES);
const KEY = flags.choice('key', KAFKA_KEYS);
const PARTITIONS = flags.number('partitions', { integer: true, min: 1 });
const QUEUE = flags.choice('queue', ['disk', 'memory']);
const HOST = 'bench-host-01';
const KAFKA_DIR = join(ROOT, '.cache', 'kafka');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function brokerCpuMs(): number | null {
  try {
    return sampleProc(Number(readFileSync(join(KAFKA_DIR, 'kafka.pid'), 'utf8').trim()))?.cpuMs ?? null;
  } catch {
    return null; // no pid file: not the local broker
  }
}

/** Bytes of the topic's log segments on the local broker's disk, or null when not local. */
function topicBytesOnDisk(topic: string): number | null {
  const data = join(KAFKA_DIR, 'data');
  try {
    let n = 0;
    for (const d of readdirSync(data)) {
      if (!d.startsWith(topic + '-')) continue;
      for (const f of readdirSync(join(data, d))) if (f.endsWith('.log')) n += statSync(join(data, d, f)).size;
    }
    return n;
  } catch {
    return null;
  }
}

function meanSd(xs: readonly number[]): string {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  const digits = m >= 100 ? 0 : m >= 10 ? 1 : 2;
  return `${m.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}

interface Sample {
  eventsPerS: number;
  cpuUsPerEvent: number;
  brokerUsPerEvent: number | null;
  bytesPerEvent: number | null;
  rssMb: number;
  lost: number;
  sends: number;
}

async function runOnce(bootstrap: string, codec: KafkaCompression, events: number): Promise<Sample> {
  // Fresh lines per run, as the formatter returns them (V8 ropes): the first
  // write flattens a rope, so reused lines would favour every run but the first.
  const lines = new SampleEvents(FORMAT, HOST).lines(0, events);
  const topic = uniqueTopic(`anc-bench-${codec}`);
  await createTopic(bootstrap, topic, PARTITIONS);
  const config = parseKafkaConfig({
    logger_kafka_brokers: bootstrap, logger_kafka_topic: topic, logger_kafka_compression: codec, logger_kafka_key: KEY,
  });
  const log = collectingLogger();
  const sink = new KafkaSink({ config, hostIdentifier: HOST, log });
  const dir = QUEUE === 'disk' ? mkdtempSync(join(tmpdir(), 'anc-bench-kafka-')) : null;
  const queue: EventQueue = dir !== null ? new DiskSpool({ dir, maxBytes: 1024 * 1024 * 1024 }) : new MemoryQueue({ maxBytes: 1024 * 1024 * 1024 });
  const driver = new SinkDriver(sink, queue, {
    maxBatchBytes: kafkaDriverMaxBatchBytes(config, DRIVER_DEFAULTS.maxBatchLines, HOST), log,
  });
  try {
    await driver.start();
    // One warm-up send: connection, InitProducerId, topic metadata.
    enqueueStrings(driver, lines.slice(0, 10), SampleEvents.ktimeNs(0));
    while (driver.stats().deliveredEvents < 10) await sleep(5);

    let rss = process.memoryUsage().rss;
    const broker0 = brokerCpuMs();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < lines.length; i += 1000) enqueueStrings(driver, lines.slice(i, i + 1000), SampleEvents.ktimeNs(i));
    const target = lines.length + 10;
    const deadline = t0 + 600_000;
    while (driver.stats().deliveredEvents < target && performance.now() < deadline) {
      await sleep(5); // a timer, not setImmediate: a busy poll would be counted as the sink's CPU
      rss = Math.max(rss, process.memoryUsage().rss);
    }
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const broker1 = brokerCpuMs();
    const st = driver.stats();
    const lost = target - st.deliveredEvents + Object.values(st.droppedEvents).reduce((a, b) => a + b, 0);
    if (lost > 0) console.error(`  ${codec}: ${lost} events lost; lastError ${sink.lastError}\n  ${log.lines.slice(-5).join('\n  ')}`);
    await driver.close();
    const onDisk = topicBytesOnDisk(topic);
    return {
      eventsPerS: lines.length / ((t1 - t0) / 1000),
      cpuUsPerEvent: (cpu.user + cpu.system) / lines.length,
      brokerUsPerEvent: broker0 !== null && broker1 !== null ? ((broker1 - broker0) * 1000) / lines.length : null,
      bytesPerEvent: onDisk !== null ? onDisk / target : null,
      rssMb: rss / 1048576,
      lost,
      sends: sink.stats().sends,
    };
  } finally {
    await driver.close();
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

function serializeCost(format: FormatName): number {
  const ev = new SampleEvents(format, HOST);
  const lineages = Array.from({ length: 10_000 }, (_, i) => ev.lineage(i));
  let sink = 0;
  for (const l of lineages) sink += ev.format.exec(l).length; // warm up
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < 5; r++) for (const l of lineages) sink += ev.format.exec(l).length;
  const cpu = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('unreachable');
  return (cpu.user + cpu.system) / (5 * lineages.length);
}

async function main(): Promise<void> {
  const bootstrap = await requireBroker();
  const lines = new SampleEvents(FORMAT, HOST).lines(0, 1000);
  const avgBytes = lines.reduce((n, l) => n + l.length + 1, 0) / lines.length;
  const ser = serializeCost(FORMAT);
  console.log(`bench-kafka: ${EVENTS} ${FORMAT} events (${avgBytes.toFixed(0)} B each), key ${KEY}, ${PARTITIONS} partitions, `
    + `${QUEUE} queue, ${REPS} reps, broker ${bootstrap}, node ${process.version}`);
  console.log(`serialize (${FORMAT} format, src/events): ${ser.toFixed(2)} µs/event CPU`);
  await runOnce(bootstrap, CODECS[0], Math.min(EVENTS, 5000)); // warm-up (JIT, broker), not reported
  const samples = new Map<KafkaCompression, Sample[]>(CODECS.map((c) => [c, []]));
  // Codecs interleaved per repetition, so drift (JIT, page cache, broker GC) spreads over all of them.
  for (let r = 0; r < REPS; r++) {
    for (const codec of CODECS) {
      const s = await runOnce(bootstrap, codec, EVENTS);
      samples.get(codec)!.push(s);
      console.log(`  ${codec} #${r + 1}: ${s.eventsPerS.toFixed(0)} events/s, ${s.cpuUsPerEvent.toFixed(2)} µs/event CPU, `
        + `broker ${s.brokerUsPerEvent?.toFixed(2) ?? '?'} µs/event, ${s.bytesPerEvent?.toFixed(0) ?? '?'} B/event on disk, `
        + `${s.sends} sends, RSS ${s.rssMb.toFixed(0)} MB, lost ${s.lost}`);
    }
  }
  const rows: string[][] = [['codec', 'events/s', 'deliver µs/ev', 'ser+deliver µs/ev', 'broker µs/ev', 'bytes/ev on broker', 'peak RSS MB', 'lost']];
  for (const codec of CODECS) {
    const runs = samples.get(codec)!;
    const pick = (f: (s: Sample) => number | null): number[] => runs.map(f).filter((x): x is number => x !== null);
    rows.push([
      codec,
      meanSd(pick((s) => s.eventsPerS)),
      meanSd(pick((s) => s.cpuUsPerEvent)),
      meanSd(pick((s) => s.cpuUsPerEvent + ser)),
      pick((s) => s.brokerUsPerEvent).length > 0 ? meanSd(pick((s) => s.brokerUsPerEvent)) : '?',
      pick((s) => s.bytesPerEvent).length > 0 ? meanSd(pick((s) => s.bytesPerEvent)) : '?',
      Math.max(...pick((s) => s.rssMb)).toFixed(0),
      String(runs.reduce((n, s) => n + s.lost, 0)),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('');
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
