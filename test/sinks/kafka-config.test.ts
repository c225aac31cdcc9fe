/** src/sinks/kafka/config.ts: option descriptions, values as osquery writes them, cross-option checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAncestrydError } from '../../src/errors';
import {
  KAFKA_OPTIONS, KAFKA_OPTION_NAMES, parseBrokers, parseKafkaConfig,
} from '../../src/sinks/kafka/config';

const BASE = { logger_kafka_brokers: 'kafka1:9092,10.0.0.7:9093', logger_kafka_topic: 'ancestryd_events' };

function rejects(values: Record<string, unknown>, message: string | RegExp): void {
  assert.throws(() => parseKafkaConfig(values), (err: unknown) => {
    assert.ok(isAncestrydError(err, 'ANC_CONFIG_INVALID'), `expected ANC_CONFIG_INVALID, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('kafka config: every option has a name, type, doc and a validator that accepts its default', () => {
  for (const name of KAFKA_OPTION_NAMES) {
    const o = KAFKA_OPTIONS[name];
    assert.equal(o.name, name);
    assert.ok(o.type.length > 0 && o.doc.length > 20, name);
    assert.notEqual(o.default, undefined, name);
    assert.doesNotThrow(() => o.validate(o.default), name);
    assert.ok(name.startsWith('logger_kafka_'), name);
  }
});

test('kafka config: defaults with brokers and topic', () => {
  const c = parseKafkaConfig(BASE);
  assert.deepEqual(c.brokers, ['kafka1:9092', '10.0.0.7:9093']);
  assert.equal(c.topic, 'ancestryd_events');
  assert.equal(c.acks, -1);
  assert.equal(c.idempotent, true, 'idempotent is on by default with acks=all');
  assert.equal(c.compression, 'none');
  assert.equal(c.key, 'host');
  assert.equal(c.clientId, 'ancestryd');
  assert.equal(c.maxBatchBytes, 1_000_000);
  assert.equal(c.requestTimeoutMs, 30_000);
  assert.equal(c.tls, null);
  assert.equal(c.sasl, null);
});

test('kafka config: brokers must be host:port — the issue\'s message', () => {
  rejects({ ...BASE, logger_kafka_brokers: 'kafka' }, 'logger_kafka_brokers: expected "host:port,...", got "kafka"');
  rejects({ ...BASE, logger_kafka_brokers: 'a:1,kafka' }, /^logger_kafka_brokers: expected "host:port,\.\.\.", got "a:1,kafka"/);
  rejects({ ...BASE, logger_kafka_brokers: 'kafka:70000' }, /port 70000 is out of range \[1, 65535\]/);
  rejects({ ...BASE, logger_kafka_brokers: 'kafka:' }, /got "kafka:"/);
  rejects({ ...BASE, logger_kafka_brokers: '[::1]:9092' }, /IPv6 literals are not supported/);
  rejects({ ...BASE, logger_kafka_brokers: '300.1.1.1:9092' }, /not an IPv4 address/);
  rejects({ ...BASE, logger_kafka_brokers: 'bad host:9092' }, /is not a host name/);
  rejects({ ...BASE, logger_kafka_brokers: 'a:1,,b:2' }, /empty entry/);
  rejects({ ...BASE, logger_kafka_brokers: 9092 }, 'logger_kafka_brokers: expected "host:port,...", got 9092');
  rejects({ ...BASE, logger_kafka_brokers: '' }, /^logger_kafka_brokers: required when the Kafka sink is enabled/);
  assert.deepEqual(parseBrokers(' k1.example.com:9092 , k_2:19092 '), ['k1.example.com:9092', 'k_2:19092']);
});

test('kafka config: topic is required and must be a legal Kafka name', () => {
  rejects({ logger_kafka_brokers: 'k:1' }, /^logger_kafka_topic: required/);
  rejects({ ...BASE, logger_kafka_topic: 'has space' }, /not a legal Kafka topic name/);
  rejects({ ...BASE, logger_kafka_topic: '..' }, /not a legal Kafka topic name/);
  rejects({ ...BASE, logger_kafka_topic: 'x'.repeat(250) }, /not a legal Kafka topic name/);
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_topic: 'a.b_c-9' }).topic, 'a.b_c-9');
});

test('kafka config: acks as osquery writes it ("all", "1", "0") or as numbers', () => {
  for (const [v, want] of [['all', -1], ['-1', -1], [-1, -1], ['1', 1], [1, 1], ['0', 0], [0, 0]] as const) {
    assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_acks: v }).acks, want, String(v));
  }
  rejects({ ...BASE, logger_kafka_acks: '2' }, 'logger_kafka_acks: expected "all" (or -1), 1 or 0, got "2"');
  rejects({ ...BASE, logger_kafka_acks: 'leader' }, /got "leader"/);
});

test('kafka config: idempotent follows acks unless set; true needs acks=all', () => {
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_acks: '1' }).idempotent, false);
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_acks: 0 }).idempotent, false);
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_idempotent: false }).idempotent, false);
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_idempotent: 'true' }).idempotent, true);
  rejects({ ...BASE, logger_kafka_acks: '1', logger_kafka_idempotent: true },
    'logger_kafka_idempotent=true needs logger_kafka_acks=all, got "1": set acks to "all" or idempotent to "auto"');
  rejects({ ...BASE, logger_kafka_idempotent: 'yes' }, /expected "auto", true or false, got "yes"/);
});

test('kafka config: compression, key, client id, sizes', () => {
  for (const c of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_compression: c }).compression, c);
  }
  rejects({ ...BASE, logger_kafka_compression: 'brotli' },
    'logger_kafka_compression: expected "none", "gzip", "snappy", "lz4", "zstd", got "brotli"');
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_key: 'entity_id' }).key, 'entity_id');
  rejects({ ...BASE, logger_kafka_key: 'pid' }, /logger_kafka_key: expected "host", "entity_id", got "pid"/);
  rejects({ ...BASE, logger_kafka_client_id: 'has space' }, /logger_kafka_client_id: expected 1\.\.255 printable ASCII/);
  assert.equal(parseKafkaConfig({ ...BASE, logger_kafka_max_batch_bytes: '500000' }).maxBatchBytes, 500_000);
  rejects({ ...BASE, logger_kafka_max_batch_bytes: 100 }, 'logger_kafka_max_batch_bytes=100 is out of range [1024, 67108864]');
  rejects({ ...BASE, logger_kafka_request_timeout_ms: 'soon' }, 'logger_kafka_request_timeout_ms: expected an integer, got "soon"');
});

test('kafka config: TLS files need logger_kafka_tls; cert and key come together; paths are absolute', () => {
  const c = parseKafkaConfig({
    ...BASE, logger_kafka_tls: true, logger_kafka_tls_server_certs: '/etc/ancestryd/ca.pem',
    logger_kafka_tls_client_cert: '/etc/ancestryd/c.pem', logger_kafka_tls_client_key: '/etc/ancestryd/k.pem',
  });
  assert.deepEqual(c.tls, { caFile: '/etc/ancestryd/ca.pem', certFile: '/etc/ancestryd/c.pem', keyFile: '/etc/ancestryd/k.pem' });
  assert.deepEqual(parseKafkaConfig({ ...BASE, logger_kafka_tls: 'true' }).tls, { caFile: null, certFile: null, keyFile: null });
  rejects({ ...BASE, logger_kafka_tls_server_certs: '/ca.pem' },
    'logger_kafka_tls_server_certs is set but logger_kafka_tls is false: set logger_kafka_tls=true or clear logger_kafka_tls_server_certs');
  rejects({ ...BASE, logger_kafka_tls: true, logger_kafka_tls_client_cert: '/c.pem' },
    'logger_kafka_tls_client_cert is set without logger_kafka_tls_client_key: set both or neither');
  rejects({ ...BASE, logger_kafka_tls: true, logger_kafka_tls_server_certs: 'ca.pem' },
    'logger_kafka_tls_server_certs: expected an absolute path, got "ca.pem"');
});

test('kafka config: SASL needs a user and a password file; none refuses stray credentials', () => {
  const c = parseKafkaConfig({
    ...BASE, logger_kafka_sasl_mechanism: 'scram-sha-512', logger_kafka_sasl_username: 'alice',
    logger_kafka_sasl_password_file: '/etc/ancestryd/kafka.pw',
  });
  assert.deepEqual(c.sasl, { mechanism: 'scram-sha-512', username: 'alice', passwordFile: '/etc/ancestryd/kafka.pw' });
  rejects({ ...BASE, logger_kafka_sasl_mechanism: 'plain', logger_kafka_sasl_password_file: '/pw' },
    'logger_kafka_sasl_username: required with logger_kafka_sasl_mechanism=plain');
  rejects({ ...BASE, logger_kafka_sasl_mechanism: 'plain', logger_kafka_sasl_username: 'a' },
    'logger_kafka_sasl_password_file: required with logger_kafka_sasl_mechanism=plain');
  rejects({ ...BASE, logger_kafka_sasl_username: 'a' }, /are set but logger_kafka_sasl_mechanism is "none"/);
  rejects({ ...BASE, logger_kafka_sasl_mechanism: 'gssapi' }, /logger_kafka_sasl_mechanism: expected "none", "plain", "scram-sha-256", "scram-sha-512", got "gssapi"/);
});

test('kafka config: unknown keys are refused by name', () => {
  rejects({ ...BASE, logger_kafka_acks_all: true }, /^logger_kafka_acks_all: unknown Kafka option; known: logger_kafka_brokers, /);
});
