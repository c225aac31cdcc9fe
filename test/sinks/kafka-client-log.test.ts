/** src/sinks/kafka/client-log.ts: kafkajs log lines into the sink logger, rate-limited, redacted, leveled. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLevel, type LogEntry } from 'kafkajs';
import { kafkaLogCreator } from '../../src/sinks/kafka/client-log';
import { collectingLogger } from '../support/kafka/test-broker';

function entry(level: logLevel, message: string, extra: Record<string, unknown> = {}): LogEntry {
  return { namespace: 'Connection', level, label: 'ERROR', log: { timestamp: 't', message, ...extra } };
}

test('kafka client log: the same line at most once per window, then with the count it suppressed', () => {
  let now = 0;
  const log = collectingLogger();
  const put = kafkaLogCreator({ sink: 'kafka', log, windowMs: 60_000, now: () => now })(logLevel.WARN);
  for (let i = 0; i < 50; i++) {
    put(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092', { broker: '127.0.0.1:19092', stack: 'long' }));
    now += 1000;
  }
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0], /^warn kafka client: Connection error: connect ECONNREFUSED/);
  assert.match(log.lines[0], /"broker":"127.0.0.1:19092"/);
  assert.doesNotMatch(log.lines[0], /stack/);
  now += 60_000;
  put(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092'));
  assert.equal(log.lines.length, 2);
  assert.match(log.lines[1], /"repeated":49/);
});

test('kafka client log: transient coordinator/leader lines → info; the expected idempotence warning → nothing; debug → nothing', () => {
  const log = collectingLogger();
  const put = kafkaLogCreator({ sink: 'kafka', log })(logLevel.WARN);
  put(entry(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', { error: 'The coordinator is loading and hence can\'t process requests' }));
  put(entry(logLevel.ERROR, 'The coordinator is loading and hence can\'t process requests'));
  put(entry(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees'));
  put(entry(logLevel.DEBUG, 'Request Produce'));
  put(entry(logLevel.ERROR, 'Failed to send messages: This server is not the leader for that topic-partition'));
  put(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092'));
  assert.equal(log.lines.length, 4);
  assert.match(log.lines[0], /^info kafka client: Response InitProducerId/, 'transient by its error field');
  assert.match(log.lines[1], /^info kafka client: The coordinator is loading/);
  assert.match(log.lines[2], /^info kafka client: Failed to send messages: This server is not the leader/);
  assert.match(log.lines[3], /^warn kafka client: Connection error/);
});

test('kafka client log: a secret never reaches the logger', () => {
  const log = collectingLogger();
  const put = kafkaLogCreator({ sink: 'kafka', log, secrets: ['s3cr3t-pw'] })(logLevel.WARN);
  put(entry(logLevel.ERROR, 'auth failed for alice:s3cr3t-pw', { error: 'password s3cr3t-pw rejected' }));
  assert.equal(log.lines.length, 1);
  assert.doesNotMatch(log.lines[0], /s3cr3t-pw/);
  assert.match(log.lines[0], /\[redacted\]/);
});
