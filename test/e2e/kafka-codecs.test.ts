/**
 * Issue 4: 10k events per codec through the sink driver and the Kafka sink
 * to the real broker (tools/kafka), read back by an independent consumer and
 * compared byte for byte, with their keys, partitions and per-partition
 * order. The zstd and lz4 topics are also read by the Java ConsoleConsumer:
 * the broker distribution's own client and codecs, a check that does not
 * share our codec adapters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import { SinkDriver } from '../../src/sinks/sink-driver';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { parseKafkaConfig, type KafkaCompression, type KafkaKey } from '../../src/sinks/kafka/config';
import { SampleEvents, seqOf } from '../support/kafka/sample-events';
import {
  collectingLogger, createTopic, javaConsume, readTopic, requireBroker, uniqueTopic, type ConsumedMessage,
} from '../support/kafka/test-broker';
import { enqueueStrings } from '../support/string-lines';

const EVENTS = 10_000;
const PARTITIONS = 3;
const HOST = 'ci-host-01';

// kafkajs's own partitioner (Java-compatible since 2.0): where a Java or kafkajs producer puts a key, on a murmur2 not ours.
const javaPartitioner = Partitioners.DefaultPartitioner();
const PARTITION_METADATA = Array.from({ length: PARTITIONS },
  (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));

function javaPartition(key: string): number {
  return javaPartitioner({ topic: 'any', partitionMetadata: PARTITION_METADATA, message: { key, value: null } });
}

interface Case {
  codec: KafkaCompression;
  key: KafkaKey;
  format: 'osquery' | 'ecs';
  java: boolean;
}

const CASES: Case[] = [
  { codec: 'none', key: 'entity_id', format: 'osquery', java: false },
  { codec: 'gzip', key: 'host', format: 'ecs', java: false },
  { codec: 'snappy', key: 'entity_id', format: 'ecs', java: false },
  { codec: 'lz4', key: 'host', format: 'osquery', java: true },
  { codec: 'zstd', key: 'entity_id', format: 'osquery', java: true },
];

function checkReadBack(c: Case, sent: readonly string[], got: readonly ConsumedMessage[]): void {
  assert.equal(got.length, sent.length, `${c.codec}: read back ${got.length} of ${sent.length} messages`);
  const seen = new Uint8Array(sent.length);
  const lastSeqInPartition = new Map<number, number>();
  for (const m of got) {
    const value = m.value.toString('utf8');
    const seq = seqOf(value);
    assert.ok(seq >= 0 && seq < sent.length, `${c.codec}: a message with no known id: ${value.slice(0, 200)}`);
    assert.equal(seen[seq], 0, `${c.codec}: event ${seq} read twice`);
    seen[seq] = 1;
    assert.equal(value, sent[seq], `${c.codec}: event ${seq} differs from what was enqueued`);
    const key = c.key === 'host' ? HOST : SampleEvents.entityId(seq);
    assert.equal(m.key?.toString('utf8'), key, `${c.codec}: event ${seq} has key ${m.key?.toString('utf8')}`);
    assert.equal(m.partition, javaPartition(key),
      `${c.codec}: event ${seq} is not on the partition the Java partitioner picks for its key`);
    const prev = lastSeqInPartition.get(m.partition) ?? -1;
    assert.ok(seq > prev, `${c.codec}: partition ${m.partition} has event ${seq} after ${prev}`);
    lastSeqInPartition.set(m.partition, seq);
  }
}

for (const c of CASES) {
  test(`kafka e2e: ${EVENTS} ${c.format} events with ${c.codec} (key ${c.key}) are read back identical`, async () => {
    const bootstrap = await requireBroker();
    const topic = uniqueTopic(`anc-codec-${c.codec}`);
    await createTopic(bootstrap, topic, PARTITIONS);
    const log = collectingLogger();
    const config = parseKafkaConfig({
      logger_kafka_brokers: bootstrap,
      logger_kafka_topic: topic,
      logger_kafka_compression: c.codec,
      logger_kafka_key: c.key,
    });
    const sink = new KafkaSink({ config, hostIdentifier: HOST, log });
    const driver = new SinkDriver(sink, new MemoryQueue({ maxBytes: 256 * 1024 * 1024 }), { lingerMs: 5, log });
    await driver.start();

    const events = new SampleEvents(c.format, HOST);
    const sent = events.lines(0, EVENTS);
    for (let i = 0; i < EVENTS; i += 500) {
      const group = sent.slice(i, i + 500);
      assert.equal(enqueueStrings(driver, group, SampleEvents.ktimeNs(i)), group.length);
    }
    await driver.close(120_000);

    const st = driver.stats();
    assert.equal(st.deliveredEvents, EVENTS, `delivered ${st.deliveredEvents}; sink lastError ${sink.lastError}; log:\n${log.lines.join('\n')}`);
    assert.equal(st.rejectedEvents, 0);
    assert.deepEqual(Object.values(st.droppedEvents).reduce((a, b) => a + b, 0), 0);
    const ks = sink.stats();
    assert.equal(ks.sentMessages, EVENTS);
    assert.equal(ks.keyMissing, 0);

    checkReadBack(c, sent, await readTopic(bootstrap, topic));

    if (c.java) {
      const java = await javaConsume(bootstrap, topic, EVENTS);
      assert.equal(java.length, EVENTS, `Java ConsoleConsumer read ${java.length} of ${EVENTS}`);
      const seen = new Uint8Array(EVENTS);
      for (const m of java) {
        const seq = seqOf(m.value);
        assert.ok(seq >= 0 && seq < EVENTS && seen[seq] === 0, `Java consumer: unexpected or repeated ${m.value.slice(0, 120)}`);
        seen[seq] = 1;
        assert.equal(m.value, sent[seq], `Java consumer: event ${seq} differs`);
        assert.equal(m.key, c.key === 'host' ? HOST : SampleEvents.entityId(seq), `Java consumer: key of event ${seq}`);
      }
    }
  });
}
