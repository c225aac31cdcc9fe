/** src/sinks/kafka/partitioner.ts: the Java client's murmur2 partitioning, checked against kafkajs's own murmur2. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Partitioners, type ICustomPartitioner } from 'kafkajs';
import { javaCompatiblePartitioner, murmur2 } from '../../src/sinks/kafka/partitioner';

// kafkajs's Long-based implementation of the same function (its DefaultPartitioner's).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

test('kafka partitioner: murmur2 equals kafkajs\'s for 20k random keys of every length mod 4', () => {
  for (let i = 0; i < 20_000; i++) {
    const key = randomBytes(i % 131);
    assert.equal(murmur2(key) & 0x7fffffff, kafkajsMurmur2(key) & 0x7fffffff, key.toString('hex'));
  }
});

test('kafka partitioner: known Java values', () => {
  // org.apache.kafka.common.utils.Utils.murmur2 of these UTF-8 strings (Kafka's UtilsTest)
  assert.equal(murmur2(Buffer.from('21')), -973932308);
  assert.equal(murmur2(Buffer.from('foobar')), -790332482);
  assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
  assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
  assert.equal(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
  assert.equal(murmur2(Buffer.from([97, 98, 99])), 479470107);
});

test('kafka partitioner: keyed messages where kafkajs\'s partitioner puts them (string or Buffer, cached key reused), unkeyed round-robin over led partitions', () => {
  const meta = [0, 1, 2, 3].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: partitionId === 2 ? -1 : 1, replicas: [1], isr: [1] }));
  const p = javaCompatiblePartitioner();
  // kafkajs's default since 2.0, Java-compatible: the same rule on its own murmur2.
  const java = Partitioners.DefaultPartitioner();
  const at = (partitioner: ReturnType<ICustomPartitioner>, key: Buffer | string) =>
    partitioner({ topic: 't', partitionMetadata: meta, message: { key, value: 'v' } });
  const host = Buffer.from('web-01');
  for (let i = 0; i < 3; i++) assert.equal(at(p, host), at(java, host));
  assert.equal(at(p, 'web-01'), at(java, host));
  for (let i = 0; i < 2000; i++) {
    const key = randomBytes(1 + (i % 64));
    assert.equal(at(p, key), at(java, key), key.toString('hex'));
  }
  assert.equal(p({ topic: 't', partitionMetadata: meta, message: { key: host, value: 'v', partition: 3 } }), 3);
  const seen = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const n = p({ topic: 't', partitionMetadata: meta, message: { key: null, value: 'v' } });
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), [0, 1, 3], 'never the partition without a leader');
  for (const c of seen.values()) assert.equal(c, 100);
});
