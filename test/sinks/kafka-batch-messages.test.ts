/** src/sinks/kafka/batch-messages.ts: one message per event, keys, and chunks under the byte cap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventBatch } from '../../src/sinks/sink';
import {
  BATCH_OVERHEAD_BYTES, RECORD_OVERHEAD_BYTES, batchMessages, kafkaDriverMaxBatchBytes, type BatchMessages,
} from '../../src/sinks/kafka/batch-messages';
import { parseKafkaConfig } from '../../src/sinks/kafka/config';
import { SampleEvents } from '../support/kafka/sample-events';

function batchOf(lines: readonly string[], firstId = 1): EventBatch {
  return {
    firstId, lastId: firstId + lines.length - 1, count: lines.length,
    data: Buffer.from(lines.map((l) => l + '\n').join('')), firstKtimeNs: 1, lastKtimeNs: 2,
  };
}

const HOST = Buffer.from('ci-host-01');

function chunks(plan: BatchMessages): number[][] {
  const out: number[][] = [];
  let from = 0;
  for (const end of plan.chunkEnds) {
    out.push(Array.from({ length: end - from }, (_, i) => from + i));
    from = end;
  }
  return out;
}

function recordBytes(plan: BatchMessages, i: number): number {
  const m = plan.messages[i];
  return m.value.length + (m.key?.length ?? 0) + RECORD_OVERHEAD_BYTES;
}

test('kafka batch: one message per event, values are the lines, the host key on each; one chunk when it fits', () => {
  const lines = new SampleEvents('osquery').lines(0, 50);
  const plan = batchMessages(batchOf(lines), 'host', HOST, 1_000_000);
  assert.equal(plan.messages.length, 50);
  assert.deepEqual(plan.chunkEnds, [50]);
  plan.messages.forEach((m, i) => {
    assert.equal(m.value.toString('utf8'), lines[i]);
    assert.equal(m.key, HOST);
  });
  assert.equal(plan.keyMissing, 0);
});

test('kafka batch: entity_id keys per event; events without one are counted and unkeyed', () => {
  const ev = new SampleEvents('ecs');
  const lines = [ev.line(5), '{"unrelated":true}', ev.line(6)];
  const plan = batchMessages(batchOf(lines), 'entity_id', HOST, 1_000_000);
  assert.equal(plan.messages[0].key?.toString(), SampleEvents.entityId(5));
  assert.equal(plan.messages[1].key, null);
  assert.equal(plan.messages[2].key?.toString(), SampleEvents.entityId(6));
  assert.equal(plan.keyMissing, 1);
});

test('kafka batch: chunks stay under the cap, keep order, and are cut the same way every time', () => {
  const ev = new SampleEvents('osquery');
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(ev.line(i) + ' '.repeat((i * 7919) % 3000));
  const cap = 50_000;
  const batch = batchOf(lines);
  const plan = batchMessages(batch, 'entity_id', HOST, cap);
  assert.ok(plan.chunkEnds.length > 10);
  const all = chunks(plan);
  assert.deepEqual(all.flat(), lines.map((_, i) => i), 'every event once, in order');
  for (const c of all) {
    const bytes = BATCH_OVERHEAD_BYTES + c.reduce((n, i) => n + recordBytes(plan, i), 0);
    assert.ok(bytes <= cap, `chunk of ${c.length} is ${bytes} bytes`);
    // and not cut early: the next event would not have fitted
    const next = c[c.length - 1] + 1;
    if (next < lines.length) assert.ok(bytes + recordBytes(plan, next) > cap);
  }
  assert.deepEqual(batchMessages(batch, 'entity_id', HOST, cap).chunkEnds, plan.chunkEnds);
});

test('kafka batch: an event larger than the cap travels alone', () => {
  const small = '{"name":"q","columns":{"entity_id":"a-1-1"}}';
  const big = '{"name":"q","columns":{"cmdline":"' + 'x'.repeat(5000) + '","entity_id":"b-2-2"}}';
  const plan = batchMessages(batchOf([small, small, big, small, big, big, small]), 'entity_id', HOST, 2048);
  assert.deepEqual(chunks(plan), [[0, 1], [2], [3], [4], [5], [6]]);
  assert.ok(plan.largestRecordBytes > 5000);
});

test('kafka batch: an empty batch has no chunk', () => {
  const plan = batchMessages({ firstId: 1, lastId: 0, count: 0, data: Buffer.alloc(0), firstKtimeNs: 0, lastKtimeNs: 0 },
    'host', HOST, 10_000);
  assert.deepEqual(plan.chunkEnds, []);
  assert.equal(plan.messages.length, 0);
});

test('kafka batch: a driver batch under kafkaDriverMaxBatchBytes is always one send', () => {
  for (const key of ['host', 'entity_id'] as const) {
    const config = parseKafkaConfig({ logger_kafka_brokers: 'k:9092', logger_kafka_topic: 't', logger_kafka_key: key });
    const maxLines = 1000;
    const budget = kafkaDriverMaxBatchBytes(config, maxLines, 'ci-host-01');
    assert.ok(budget > 800_000 && budget < config.maxBatchBytes, String(budget));
    // The worst case: maxLines events filling the budget, each with the longest entity id.
    const id = 'f'.repeat(32) + '-' + '9'.repeat(20) + '-' + '9'.repeat(10);
    const pad = Math.floor(budget / maxLines) - 60 - id.length;
    const line = '{"name":"q","columns":{"entity_id":"' + id + '","x":"' + 'y'.repeat(pad) + '"}}';
    const lines = Array.from({ length: maxLines }, () => line);
    const batch = batchOf(lines);
    assert.ok(batch.data.length <= budget, `${batch.data.length} > ${budget}`);
    assert.deepEqual(batchMessages(batch, key, HOST, config.maxBatchBytes).chunkEnds, [maxLines], key);
  }
  const tiny = parseKafkaConfig({ logger_kafka_brokers: 'k:9092', logger_kafka_topic: 't', logger_kafka_max_batch_bytes: 2048 });
  assert.equal(kafkaDriverMaxBatchBytes(tiny, 1000, 'h'), 1024, 'never below the driver minimum');
});
