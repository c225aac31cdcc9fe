/**
 * The SASL password is registered for the logs' censor when the sink reads
 * it (issue 10 item 11): kafkajs and broker errors end up in log lines.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseKafkaConfig } from '../../src/sinks/kafka/config';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { removeDir, tempDir } from './sink-test-helpers';

test('KafkaSink registers the SASL password it reads, before it connects', async () => {
  const dir = tempDir('kafka-secret');
  try {
    const file = join(dir, 'password');
    writeFileSync(file, 'sasl-password-0123456789\n', { mode: 0o600 });
    const config = parseKafkaConfig({
      logger_kafka_brokers: '127.0.0.1:1', logger_kafka_topic: 't',
      logger_kafka_sasl_mechanism: 'scram-sha-256', logger_kafka_sasl_username: 'u', logger_kafka_sasl_password_file: file,
    });
    const secrets: string[] = [];
    const sink = new KafkaSink({ config, hostIdentifier: 'h', addSecret: (v) => secrets.push(v) });
    await sink.start();
    assert.deepEqual(secrets, ['sasl-password-0123456789']);
    await sink.close();
  } finally {
    removeDir(dir);
  }
});
