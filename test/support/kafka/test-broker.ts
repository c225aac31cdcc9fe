/**
 * The test side of tools/kafka/kafka.sh: find the broker the test command
 * started (and fail loudly when there is none), run kafka.sh (kill,
 * restart-keep-data, Java CLI tools), create topics, and read a topic back
 * completely with an independent kafkajs consumer.
 *
 * "Completely" is exact, not timed: readTopic() takes each partition's high
 * watermark first and reads until every partition reached it. The deadline
 * only turns a hang into a failure with a message.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { registerKafkaCodecs } from '../../../src/sinks/kafka/codecs';
import type { SinkLogger } from '../../../src/sinks/sink';
import { ROOT } from '../paths';

export const KAFKA_SH = join(ROOT, 'tools', 'kafka', 'kafka.sh');

export function kafkaBootstrap(): string {
  return process.env.ANCESTRYD_KAFKA_BOOTSTRAP ?? '127.0.0.1:19092';
}

function tcpProbe(hostPort: string, timeoutMs: number): Promise<string | null> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((res) => {
    const s = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (why: string | null): void => {
      s.destroy();
      res(why);
    };
    s.setTimeout(timeoutMs, () => done('timeout'));
    s.once('connect', () => done(null));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/**
 * The bootstrap address of a reachable broker. Throws (never skips) with
 * what to do when there is none.
 */
export async function requireBroker(): Promise<string> {
  const bootstrap = kafkaBootstrap();
  const why = await tcpProbe(bootstrap, 3000);
  if (why !== null) {
    throw new Error(`no Kafka broker at ${bootstrap} (${why}): this e2e test needs the real broker; start it with `
      + '"tools/kafka/kafka.sh start" (scripts/run-tests.sh does, and exports ANCESTRYD_KAFKA_BOOTSTRAP)');
  }
  return bootstrap;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kafka.sh with `args`; throws with its stderr unless it exits 0 (or `allowFail`). */
export function kafkaSh(args: readonly string[], opts: { allowFail?: boolean; maxStdoutBytes?: number } = {}): Promise<ShResult> {
  return new Promise((res, rej) => {
    const child = spawn(KAFKA_SH, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', rej);
    child.once('close', (code) => {
      const r = { code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (r.code !== 0 && !opts.allowFail) {
        rej(new Error(`tools/kafka/kafka.sh ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}`));
      } else {
        res(r);
      }
    });
  });
}

export function testKafka(bootstrap: string, clientId = 'ancestryd-test'): Kafka {
  registerKafkaCodecs();
  return new Kafka({
    brokers: [bootstrap],
    clientId,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka(bootstrap, 'ancestryd-test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A topic name no earlier run used. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

export async function createTopic(bootstrap: string, topic: string, partitions: number,
  configEntries: { name: string; value: string }[] = []): Promise<void> {
  await withAdmin(bootstrap, async (admin) => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }],
      waitForLeaders: true,
    });
    if (!created) throw new Error(`topic ${topic} already exists`);
  });
}

export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
}

/**
 * Every message in `topic` at the time of the call, in offset order per
 * partition (partitions concatenated in partition order).
 */
/**
 * Wait until the topic holds at least `count` messages. With acks=0 a send
 * resolves before the broker appended it, so reading back at once races.
 */
export async function waitForMessages(bootstrap: string, topic: string, count: number, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const offsets = await withAdmin(bootstrap, (admin) => admin.fetchTopicOffsets(topic));
    const have = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    if (have >= count) return;
    if (Date.now() > end) throw new Error(`${topic} holds ${have} messages after ${deadlineMs} ms, expected ${count}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function readTopic(bootstrap: string, topic: string, deadlineMs = 120_000): Promise<ConsumedMessage[]> {
  const ends = await withAdmin(bootstrap, (admin) => admin.fetchTopicOffsets(topic));
  const want = new Map<number, number>();
  for (const o of ends) if (Number(o.high) > 0) want.set(o.partition, Number(o.high));
  const perPartition = new Map<number, ConsumedMessage[]>();
  for (const o of ends) perPartition.set(o.partition, []);
  if (want.size === 0) return [];

  const kafka = testKafka(bootstrap, 'ancestryd-test-consumer');
  const consumer = kafka.consumer({ groupId: `ancestryd-test-${topic}-${Date.now()}`, maxBytes: 16 * 1024 * 1024 });
  let timer: NodeJS.Timeout | null = null;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((res, rej) => {
      timer = setTimeout(() => {
        const got = [...perPartition.values()].reduce((n, a) => n + a.length, 0);
        rej(new Error(`reading ${topic} back did not reach the high watermarks ${JSON.stringify([...want])} within `
          + `${deadlineMs} ms (got ${got} messages)`));
      }, deadlineMs);
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const list = perPartition.get(batch.partition)!;
          for (const m of batch.messages) {
            list.push({ partition: batch.partition, offset: Number(m.offset), key: m.key, value: m.value ?? Buffer.alloc(0) });
          }
          const high = want.get(batch.partition);
          const last = batch.messages.length > 0 ? Number(batch.messages[batch.messages.length - 1].offset) : -1;
          if (high !== undefined && last + 1 >= high) want.delete(batch.partition);
          if (want.size === 0) res();
        },
      }).catch(rej);
    });
  } finally {
    if (timer !== null) clearTimeout(timer);
    await consumer.disconnect();
  }
  return [...perPartition.keys()].sort((a, b) => a - b).flatMap((p) => perPartition.get(p)!);
}

/**
 * Reads `count` messages with the Java ConsoleConsumer (the broker
 * distribution's own client and codecs): "<key>\t<value>" per message.
 */
export async function javaConsume(bootstrap: string, topic: string, count: number): Promise<{ key: string; value: string }[]> {
  const r = await kafkaSh(['tool', 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning',
    '--max-messages', String(count), '--timeout-ms', '60000',
    '--formatter-property', 'print.key=true', '--formatter-property', 'key.separator=\t']);
  const lines = r.stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => {
    const tab = l.indexOf('\t');
    return { key: l.slice(0, tab), value: l.slice(tab + 1) };
  });
}

/** A SinkLogger that keeps every line, for failure messages and assertions on what was logged. */
export function collectingLogger(): SinkLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (obj: object, msg: string): void => {
    lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, info: put('info'), warn: put('warn'), error: put('error') };
}
