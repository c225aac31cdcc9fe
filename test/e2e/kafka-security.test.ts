/**
 * The Kafka sink's TLS and SASL against the real broker's SSL and
 * SASL_PLAINTEXT listeners (tools/kafka: test CA, client certificate
 * required, one SASL user for PLAIN and SCRAM-SHA-256/512): events go
 * through and are read back on the plaintext listener; a wrong CA, a
 * missing client certificate and a wrong password answer retry with a
 * reason that says what to check — and the password never reaches the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAncestrydError } from '../../src/errors';
import type { EventBatch } from '../../src/sinks/sink';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { parseKafkaConfig } from '../../src/sinks/kafka/config';
import { SampleEvents, seqOf } from '../support/kafka/sample-events';
import {
  collectingLogger, createTopic, kafkaSh, readTopic, requireBroker, uniqueTopic,
} from '../support/kafka/test-broker';

interface SecurityEnv {
  KAFKA_SASL_BOOTSTRAP: string;
  KAFKA_SASL_USER: string;
  KAFKA_SASL_PASSWORD_FILE: string;
  KAFKA_SSL_BOOTSTRAP: string;
  KAFKA_TLS_CA: string;
  KAFKA_TLS_OTHER_CA: string;
  KAFKA_TLS_CLIENT_CERT: string;
  KAFKA_TLS_CLIENT_KEY: string;
}

async function securityEnv(): Promise<SecurityEnv> {
  const r = await kafkaSh(['security-env']);
  const env: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
  return env as unknown as SecurityEnv;
}

function batchOf(lines: readonly string[]): EventBatch {
  return { firstId: 1, lastId: lines.length, count: lines.length, data: Buffer.from(lines.map((l) => l + '\n').join('')), firstKtimeNs: 1, lastKtimeNs: 1 };
}

/** Sends one batch through a sink with these options; returns the answer, lastError and the log. */
async function sendOnce(options: Record<string, unknown>, lines: readonly string[]): Promise<{ result: string; lastError: string | null; log: string[] }> {
  const log = collectingLogger();
  const sink = new KafkaSink({ config: parseKafkaConfig(options), hostIdentifier: 'ci-host-01', log });
  await sink.start();
  try {
    const result = await sink.send(batchOf(lines));
    return { result, lastError: sink.lastError, log: log.lines };
  } finally {
    await sink.close();
  }
}

test('kafka e2e: SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 deliver; a wrong password is retried with an auth reason and never logged', async () => {
  const plaintext = await requireBroker();
  const env = await securityEnv();
  const password = readFileSync(env.KAFKA_SASL_PASSWORD_FILE, 'utf8').trim();
  const topic = uniqueTopic('anc-sasl');
  await createTopic(plaintext, topic, 1);
  const ev = new SampleEvents('osquery');
  const mechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'];
  for (let i = 0; i < mechanisms.length; i++) {
    const r = await sendOnce({
      logger_kafka_brokers: env.KAFKA_SASL_BOOTSTRAP, logger_kafka_topic: topic, logger_kafka_sasl_mechanism: mechanisms[i],
      logger_kafka_sasl_username: env.KAFKA_SASL_USER, logger_kafka_sasl_password_file: env.KAFKA_SASL_PASSWORD_FILE,
    }, ev.lines(i * 10, 10));
    assert.equal(r.result, 'delivered', `${mechanisms[i]}: ${r.lastError}`);
    assert.ok(r.log.some((l) => l.includes('SASL without logger_kafka_tls')), 'warns about SASL without TLS');
    assert.ok(!r.log.some((l) => l.includes(password)), 'the password reached the log');
  }
  const got = (await readTopic(plaintext, topic)).map((m) => seqOf(m.value));
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));

  const dir = mkdtempSync(join(tmpdir(), 'anc-kafka-sasl-'));
  try {
    const wrong = join(dir, 'password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    for (const mechanism of ['plain', 'scram-sha-512']) {
      const r = await sendOnce({
        logger_kafka_brokers: env.KAFKA_SASL_BOOTSTRAP, logger_kafka_topic: topic, logger_kafka_sasl_mechanism: mechanism,
        logger_kafka_sasl_username: env.KAFKA_SASL_USER, logger_kafka_sasl_password_file: wrong,
      }, ev.lines(100, 1));
      assert.equal(r.result, 'retry', mechanism);
      assert.match(r.lastError ?? '', /^auth: .*check logger_kafka_sasl_mechanism/, `${mechanism}: ${r.lastError}`);
      assert.ok(!r.log.some((l) => l.includes('not-the-password')), `${mechanism}: the password reached the log`);
      console.log(`kafka sasl ${mechanism}, wrong password: ${r.lastError}`);
    }
    // A password file that is not there fails the start, naming the option.
    const sink = new KafkaSink({
      config: parseKafkaConfig({
        logger_kafka_brokers: env.KAFKA_SASL_BOOTSTRAP, logger_kafka_topic: topic, logger_kafka_sasl_mechanism: 'plain',
        logger_kafka_sasl_username: 'u', logger_kafka_sasl_password_file: join(dir, 'missing'),
      }),
      hostIdentifier: 'h',
    });
    await assert.rejects(sink.start(), (err: unknown) => isAncestrydError(err, 'ANC_CONFIG_INVALID')
      && /^logger_kafka_sasl_password_file: cannot read .*missing \(ENOENT\)/.test(err.message));
    await sink.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kafka e2e: TLS with the CA and a client certificate delivers; a wrong CA or no client certificate is retried with a tls reason', async () => {
  const plaintext = await requireBroker();
  const env = await securityEnv();
  const topic = uniqueTopic('anc-tls');
  await createTopic(plaintext, topic, 1);
  const ev = new SampleEvents('ecs');
  const base = { logger_kafka_brokers: env.KAFKA_SSL_BOOTSTRAP, logger_kafka_topic: topic, logger_kafka_tls: true };

  const ok = await sendOnce({
    ...base, logger_kafka_tls_server_certs: env.KAFKA_TLS_CA,
    logger_kafka_tls_client_cert: env.KAFKA_TLS_CLIENT_CERT, logger_kafka_tls_client_key: env.KAFKA_TLS_CLIENT_KEY,
    logger_kafka_compression: 'zstd',
  }, ev.lines(0, 20));
  assert.equal(ok.result, 'delivered', String(ok.lastError));
  assert.deepEqual((await readTopic(plaintext, topic)).map((m) => seqOf(m.value)), Array.from({ length: 20 }, (_, i) => i));

  const wrongCa = await sendOnce({
    ...base, logger_kafka_tls_server_certs: env.KAFKA_TLS_OTHER_CA,
    logger_kafka_tls_client_cert: env.KAFKA_TLS_CLIENT_CERT, logger_kafka_tls_client_key: env.KAFKA_TLS_CLIENT_KEY,
  }, ev.lines(20, 1));
  assert.equal(wrongCa.result, 'retry');
  assert.match(wrongCa.lastError ?? '', /^tls: the broker's certificate did not verify: .*check logger_kafka_tls_server_certs/,
    String(wrongCa.lastError));

  // The system CAs do not know the test CA either: verification is never skipped.
  const systemCas = await sendOnce({ ...base }, ev.lines(21, 1));
  assert.equal(systemCas.result, 'retry');
  assert.match(systemCas.lastError ?? '', /^tls: the broker's certificate did not verify: /, String(systemCas.lastError));

  const noClientCert = await sendOnce({ ...base, logger_kafka_tls_server_certs: env.KAFKA_TLS_CA }, ev.lines(22, 1));
  assert.equal(noClientCert.result, 'retry');
  assert.match(noClientCert.lastError ?? '', /^tls: the broker ended the handshake: .*check logger_kafka_tls_client_cert/,
    String(noClientCert.lastError));
  console.log(['kafka tls: reasons the sink reports —', `  wrong CA: ${wrongCa.lastError}`, `  system CAs: ${systemCas.lastError}`,
    `  no client certificate: ${noClientCert.lastError}`].join('\n'));
});
