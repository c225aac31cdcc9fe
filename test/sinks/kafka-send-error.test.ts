/** src/sinks/kafka/send-error.ts: kafkajs's errors, as it really nests them, sorted into retry / rejected / recreate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as kafkajs from 'kafkajs';
import { classifySendError } from '../../src/sinks/kafka/send-error';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

// kafkajs's type declarations omit the constructors' second argument (broker, code, cause) that its code passes.
type ErrorClass = new (e: unknown, extra?: Record<string, unknown>) => Error;
const K = kafkajs as unknown as Record<string, ErrorClass>;
const KafkaJSConnectionError = K.KafkaJSConnectionError;
const KafkaJSNonRetriableError = K.KafkaJSNonRetriableError;
const KafkaJSNumberOfRetriesExceeded = K.KafkaJSNumberOfRetriesExceeded;
const KafkaJSProtocolError = K.KafkaJSProtocolError;
const KafkaJSSASLAuthenticationError = K.KafkaJSSASLAuthenticationError;

const CTX = { topic: 'events', compression: 'zstd', brokers: ['k1:9092', 'k2:9092'] };
const protocol = (code: number): Error => new KafkaJSProtocolError(createErrorFromCode(code));

test('kafka errors: broker down (what send() throws during an outage) → retry, unreachable, with the broker', () => {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092',
    { broker: '127.0.0.1:19092', code: 'ECONNREFUSED' });
  const thrown = new KafkaJSNonRetriableError(refused, { cause: refused });
  const c = classifySendError(thrown, CTX);
  assert.equal(c.action, 'retry');
  assert.equal(c.reason, 'unreachable: Connection error: connect ECONNREFUSED 127.0.0.1:19092 (127.0.0.1:19092)');
});

test('kafka errors: too large and invalid records → rejected, saying which option to change', () => {
  const c = classifySendError(protocol(10), CTX);
  assert.equal(c.action, 'rejected');
  assert.match(c.reason, /^too_large: MESSAGE_TOO_LARGE: .*lower logger_kafka_max_batch_bytes/);
  assert.equal(classifySendError(protocol(18), CTX).action, 'rejected');
  assert.match(classifySendError(protocol(87), CTX).reason, /^invalid_record: INVALID_RECORD: /);
  // also when kafkajs wrapped it after retrying
  const wrapped = new KafkaJSNumberOfRetriesExceeded(protocol(2), { retryCount: 5, retryTime: 1000 });
  assert.equal(classifySendError(wrapped, CTX).action, 'rejected');
});

test('kafka errors: broken idempotence state → recreate the producer', () => {
  for (const code of [45, 46, 47, 49, 59]) {
    const c = classifySendError(new KafkaJSNonRetriableError(protocol(code), { cause: protocol(code) }), CTX);
    assert.equal(c.action, 'recreate', String(code));
    assert.match(c.reason, /^producer_state: /);
  }
});

test('kafka errors: configuration problems are retried with the fix in the reason', () => {
  const auth = classifySendError(new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: Authentication failed'), CTX);
  assert.equal(auth.action, 'retry');
  assert.match(auth.reason, /^auth: SASL SCRAM SHA512 authentication failed.*logger_kafka_sasl_mechanism/);
  assert.match(classifySendError(protocol(29), CTX).reason, /^auth: TOPIC_AUTHORIZATION_FAILED: not allowed to write to topic events/);
  assert.match(classifySendError(protocol(31), CTX).reason, /IDEMPOTENT_WRITE.*logger_kafka_idempotent=false/);
  assert.match(classifySendError(protocol(3), CTX).reason, /^topic: UNKNOWN_TOPIC_OR_PARTITION: topic events does not exist/);
  assert.match(classifySendError(protocol(76), CTX).reason, /^compression: .*does not accept zstd/);
  const tls = new KafkaJSConnectionError('Connection error: unable to verify the first certificate',
    { broker: 'k1:9093', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  const t = classifySendError(new KafkaJSNonRetriableError(tls, { cause: tls }), CTX);
  assert.equal(t.action, 'retry');
  assert.equal(t.reason, 'tls: the broker\'s certificate did not verify: unable to verify the first certificate '
    + '(UNABLE_TO_VERIFY_LEAF_SIGNATURE): check logger_kafka_tls_server_certs and that the certificate names the host in logger_kafka_brokers');
  const alert = new KafkaJSConnectionError('Connection error: 807CAB3CC67F0000:error:0A000412:SSL routines:ssl3_read_bytes:'
    + 'sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42',
  { broker: 'localhost:19095', code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' });
  assert.equal(classifySendError(new KafkaJSNonRetriableError(alert, { cause: alert }), CTX).reason,
    'tls: the broker ended the handshake: sslv3 alert bad certificate (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE): '
    + 'if it requires client certificates, check logger_kafka_tls_client_cert and logger_kafka_tls_client_key');
});

test('kafka errors: anything else is retried and says what it was', () => {
  assert.deepEqual(classifySendError(new Error('boom\n at x'), CTX), { action: 'retry', reason: 'error: boom at x' });
  assert.deepEqual(classifySendError('odd', CTX), { action: 'retry', reason: 'error: odd' });
  assert.match(classifySendError(protocol(7), CTX).reason, /^kafka: REQUEST_TIMED_OUT: /);
});
