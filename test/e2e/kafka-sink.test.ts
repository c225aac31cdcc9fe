/**
 * The Kafka sink against the real broker (tools/kafka): what it answers and
 * reports when the broker is unreachable, acks 1 and 0, batches cut under
 * logger_kafka_max_batch_bytes, a message the broker can never take
 * (dead-lettered, the rest delivered, the producer still usable), and that
 * close() leaves no socket or timer behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import { SinkDriver } from '../../src/sinks/sink-driver';
import type { EventBatch } from '../../src/sinks/sink';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { parseKafkaConfig } from '../../src/sinks/kafka/config';
import { SampleEvents, seqOf } from '../support/kafka/sample-events';
import {
  collectingLogger, createTopic, readTopic, requireBroker, uniqueTopic, waitForMessages,
} from '../support/kafka/test-broker';
import { freePort } from '../support/free-port';
import { enqueueStrings } from '../support/string-lines';

const HOST = 'ci-host-01';

function batchOf(lines: readonly string[], firstId = 1): EventBatch {
  return {
    firstId, lastId: firstId + lines.length - 1, count: lines.length,
    data: Buffer.from(lines.map((l) => l + '\n').join('')), firstKtimeNs: 1, lastKtimeNs: 1,
  };
}

/** Sockets and timers alive now (process.getActiveResourcesInfo). */
function handles(): { sockets: number; timers: number } {
  const r = process.getActiveResourcesInfo();
  return { sockets: r.filter((x) => /TCP|TLS/i.test(x)).length, timers: r.filter((x) => x === 'Timeout').length };
}

/**
 * Handles after close(), once the event loop has run the close callbacks of
 * destroyed sockets (libuv releases a handle a loop turn after destroy()).
 */
async function assertNoneSurvived(before: { sockets: number; timers: number }, what: string): Promise<void> {
  let h = handles();
  for (let i = 0; i < 20 && (h.sockets > before.sockets || h.timers > before.timers); i++) {
    await new Promise((r) => setImmediate(r));
    h = handles();
  }
  assert.ok(h.sockets <= before.sockets && h.timers <= before.timers,
    `${what}: sockets or timers survived close(): before ${JSON.stringify(before)}, after ${JSON.stringify(h)} `
    + `(${process.getActiveResourcesInfo().join(', ')})`);
}

async function deliverAll(driver: SinkDriver, lines: readonly string[], from = 0): Promise<void> {
  for (let i = 0; i < lines.length; i += 200) {
    const group = lines.slice(i, i + 200);
    assert.equal(enqueueStrings(driver, group, SampleEvents.ktimeNs(from + i)), group.length);
  }
}

test('kafka e2e: brokers unreachable — start() succeeds, send answers retry with an "unreachable" reason, close() leaves nothing', async () => {
  const before = handles();
  const port = await freePort();
  const log = collectingLogger();
  const sink = new KafkaSink({
    config: parseKafkaConfig({ logger_kafka_brokers: `127.0.0.1:${port}`, logger_kafka_topic: 'never' }),
    hostIdentifier: HOST,
    log,
  });
  await sink.start();
  const result = await sink.send(batchOf(new SampleEvents().lines(0, 3)));
  assert.equal(result, 'retry');
  assert.match(sink.lastError ?? '', new RegExp(`^unreachable: Connection error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  assert.ok(log.lines.some((l) => l.startsWith('warn Kafka connection at start failed')), log.lines.join('\n'));
  assert.ok(log.lines.filter((l) => l.includes('kafka client:')).length <= 2, 'kafkajs noise is rate-limited:\n' + log.lines.join('\n'));
  await sink.close();
  await sink.close(); // idempotent
  assert.equal(await sink.send(batchOf(['{}'])), 'retry', 'a send after close answers retry');
  assert.match(sink.lastError ?? '', /^closed: /);
  await assertNoneSurvived(before, 'unreachable');
});

test('kafka e2e: acks 1 and acks 0 (idempotence off) deliver; close() leaves no socket or timer', async () => {
  const bootstrap = await requireBroker();
  for (const acks of ['1', '0']) {
    const before = handles();
    const topic = uniqueTopic(`anc-acks${acks}`);
    await createTopic(bootstrap, topic, 1);
    const config = parseKafkaConfig({ logger_kafka_brokers: bootstrap, logger_kafka_topic: topic, logger_kafka_acks: acks });
    assert.equal(config.idempotent, false);
    const sink = new KafkaSink({ config, hostIdentifier: HOST });
    const driver = new SinkDriver(sink, new MemoryQueue(), { lingerMs: 5 });
    await driver.start();
    const lines = new SampleEvents('osquery').lines(0, 1000);
    await deliverAll(driver, lines);
    await driver.close(30_000);
    assert.equal(driver.stats().deliveredEvents, 1000, `acks ${acks}: ${sink.lastError}`);
    await assertNoneSurvived(before, `acks ${acks}`);
    await waitForMessages(bootstrap, topic, lines.length);
    const got = await readTopic(bootstrap, topic);
    assert.deepEqual(got.map((m) => m.value.toString()), lines, `acks ${acks}: read back in order`);
  }
});

test('kafka e2e: batches larger than logger_kafka_max_batch_bytes go out as several sends, in order', async () => {
  const bootstrap = await requireBroker();
  const topic = uniqueTopic('anc-split');
  await createTopic(bootstrap, topic, 1);
  const sink = new KafkaSink({
    config: parseKafkaConfig({
      logger_kafka_brokers: bootstrap, logger_kafka_topic: topic, logger_kafka_max_batch_bytes: 20_000,
      logger_kafka_compression: 'gzip',
    }),
    hostIdentifier: HOST,
  });
  const driver = new SinkDriver(sink, new MemoryQueue(), { lingerMs: 20 });
  await driver.start();
  const lines = new SampleEvents('osquery').lines(0, 2000);
  await deliverAll(driver, lines);
  await driver.close(60_000);
  const ds = driver.stats();
  const ks = sink.stats();
  assert.equal(ds.deliveredEvents, 2000, String(sink.lastError));
  assert.ok(ks.splitBatches > 0 && ks.sends > ds.deliveredBatches, JSON.stringify({ ds, ks }));
  const got = await readTopic(bootstrap, topic);
  assert.deepEqual(got.map((m) => m.value.toString()), lines);
});

test('kafka e2e: an event the broker can never take is dead-lettered with a too_large reason; the rest is delivered; the producer carries on', async () => {
  const bootstrap = await requireBroker();
  const topic = uniqueTopic('anc-too-large');
  await createTopic(bootstrap, topic, 1, [{ name: 'max.message.bytes', value: '20000' }]);
  const dir = mkdtempSync(join(tmpdir(), 'anc-kafka-dlq-'));
  const log = collectingLogger();
  try {
    const sink = new KafkaSink({
      config: parseKafkaConfig({ logger_kafka_brokers: bootstrap, logger_kafka_topic: topic, logger_kafka_max_batch_bytes: 16_000 }),
      hostIdentifier: HOST,
      log,
    });
    const driver = new SinkDriver(sink, new DiskSpool({ dir }), { lingerMs: 50, log });
    await driver.start();
    const ev = new SampleEvents('osquery');
    const lines = ev.lines(0, 20);
    // Event 7 is 40 KB: past the topic's 20000-byte max.message.bytes even alone.
    lines[7] = lines[7].replace('"cmdline":"', `"cmdline":"${'Z'.repeat(40_000)} `);
    assert.equal(seqOf(lines[7]), 7);
    assert.equal(enqueueStrings(driver, lines, SampleEvents.ktimeNs(0)), 20);
    const deadline = Date.now() + 30_000;
    while (driver.stats().rejectedEvents + driver.stats().deliveredEvents < 20) {
      assert.ok(Date.now() < deadline, `no answer for the batch: ${sink.lastError}\n${log.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The same producer takes the next events.
    const more = ev.lines(20, 5);
    assert.equal(enqueueStrings(driver, more, SampleEvents.ktimeNs(20)), 5);
    await driver.close(30_000);

    const st = driver.stats();
    assert.equal(st.rejectedEvents, 20, 'the driver dead-letters the whole batch that held the refused event');
    assert.equal(st.deliveredEvents, 5);
    assert.equal(sink.stats().rejectedChunks, 1);
    const dead = readFileSync(join(dir, 'dead-letter.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(dead.length, 1);
    assert.match(dead[0].reason, /^too_large: (MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE): .*logger_kafka_max_batch_bytes/);
    assert.equal(dead[0].count, 20);
    assert.ok(log.lines.some((l) => l.includes('Kafka refused events of a batch') && l.includes('"position":7') && l.includes('"events":1')),
      'the log names the refused event:\n' + log.lines.join('\n'));

    const got = (await readTopic(bootstrap, topic)).map((m) => seqOf(m.value));
    assert.deepEqual(got, [...Array.from({ length: 25 }, (_, i) => i)].filter((i) => i !== 7),
      'every other event of the batch, and the next ones, are in the topic');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
