import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogging, REDACTED, SecretScrubber, type Logging } from '../../src/daemon/log';
import { RateLimitedLog } from '../../src/daemon/rate-limited-log';

const ENROLL_SECRET = 'enroll-Secret-4f9a2c"quote';
const NODE_KEY = 'nodekey-8c1e77aa41';
const SASL_PASSWORD = 'sasl-pass-Zq81x!';
const BEARER = 'tok-ABCDEF1234567890';
const BASIC = 'dXNlcjpzdXBlcnNlY3JldA==';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END PRIVATE KEY-----\n`;
const CERT_BODY = 'MIIDdzCCAl+gAwIBAgIUQpublicbutstillpem';
const CERT = `-----BEGIN CERTIFICATE-----\n${CERT_BODY}\n-----END CERTIFICATE-----`;

/** Every secret, and the pieces of them that must not survive either. */
const SECRETS = [ENROLL_SECRET, 'enroll-Secret-4f9a2c', NODE_KEY, SASL_PASSWORD, BEARER, BASIC, PEM_BODY, CERT_BODY, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'];

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Logs secrets through every path the logging module offers. */
function logEverything(logging: Logging): void {
  logging.addSecret(ENROLL_SECRET);
  const log = logging.logger;
  // Structured fields the redact paths know, at several depths.
  log.info({ enroll_secret: ENROLL_SECRET, enroll_secret_path: '/etc/ancestryd/enroll_secret' }, 'enrolling');
  log.info({ tls: { node_key: NODE_KEY, key: Buffer.from(PEM), cert: CERT } }, 'tls options');
  log.info({ kafka: { sasl: { mechanism: 'scram-sha-512', username: 'ancestryd', password: SASL_PASSWORD } } }, 'kafka client');
  log.info({ a: { b: { c: { d: { password: SASL_PASSWORD, nodeKey: NODE_KEY } } } } }, 'deeper than any path');
  log.info({ req: { headers: { Authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' } } }, 'request');
  log.info({ headers: { authorization: `Basic ${BASIC}` } }, 'proxy');
  // Secrets in free text: messages, format arguments, error messages and stacks.
  log.warn(`enroll failed: server said {"node_key":"${NODE_KEY}","node_invalid":false}`);
  log.warn('retrying with token=%s and password: %s', BEARER, SASL_PASSWORD);
  log.error(`cannot use key ${PEM}`);
  log.error({ body: `response ${CERT} trailing` }, 'certificate in a field');
  log.error({ err: new Error(`the secret ${ENROLL_SECRET} was rejected`) }, 'enroll rejected');
  log.error({ err: Object.assign(new Error('request failed'), { config: { headers: { Authorization: `Bearer ${BEARER}` } } }) }, 'http');
  log.info({ whatever: `prefix-${ENROLL_SECRET}-suffix` }, 'registered value under an unknown name');
  log.info(`Authorization: Bearer ${BEARER}`);
  log.info({ pem: PEM.slice(0, 60) }, 'truncated PEM');
  // Child loggers and their bindings.
  logging.child('tls', { authorization: `Bearer ${BEARER}` }).info({ nodeKey: NODE_KEY }, 'child');
  logging.child('kafka').child({ password: SASL_PASSWORD }).warn('grandchild');
  // The rate-limited helper writes through the same logger.
  const rl = new RateLimitedLog(logging.child('pipeline'), { burst: 1, now: () => 0 });
  rl.warn('k', { secret: ENROLL_SECRET }, `bad record ${ENROLL_SECRET}`);
  rl.warn('k', { secret: ENROLL_SECRET }, `bad record ${ENROLL_SECRET}`);
  rl.flush();
  logging.flush();
}

function assertClean(output: string): void {
  for (const s of SECRETS) assert.ok(!output.includes(s), `secret ${JSON.stringify(s)} leaked into the log:\n${output}`);
  assert.ok(!output.includes('-----BEGIN PRIVATE KEY-----\\n' + PEM_BODY));
}

describe('daemon log', () => {
  it('writes JSON lines without any secret, keeping what is not secret', () => {
    const sink = new Sink();
    const logging = createLogging({ level: 'info', format: 'json', destination: sink, isTty: false });
    logEverything(logging);
    const lines = sink.text.trim().split('\n');
    for (const l of lines) JSON.parse(l); // still valid JSON after scrubbing
    assertClean(sink.text);
    const first = JSON.parse(lines[0]);
    assert.equal(first.level, 'info');
    assert.equal(first.msg, 'enrolling');
    assert.equal(first.enroll_secret, REDACTED);
    assert.equal(first.enroll_secret_path, '/etc/ancestryd/enroll_secret');
    assert.ok(sink.text.includes('"username":"ancestryd"'));
    assert.ok(sink.text.includes('"content-type":"application/json"'));
    assert.ok(sink.text.includes('node_invalid'));
    assert.ok(sink.text.includes('"component":"tls"'));
    assert.ok(sink.text.includes('"suppressed":1') || sink.text.includes('1 more'), 'the rate limiter reported its suppressed line');
  });

  it('writes pretty output for people without any secret', () => {
    const sink = new Sink();
    const logging = createLogging({ level: 'info', format: 'pretty', destination: sink, isTty: false });
    logEverything(logging);
    assert.match(sink.text, /INFO.*enrolling/);
    assert.ok(!sink.text.trimStart().startsWith('{'));
    assertClean(sink.text);
  });

  it('chooses pretty on a terminal and JSON otherwise (log_format=auto)', () => {
    const tty = new Sink();
    createLogging({ level: 'info', format: 'auto', destination: tty, isTty: true }).logger.info('hello');
    assert.ok(!tty.text.startsWith('{'));
    const pipe = new Sink();
    createLogging({ level: 'info', format: 'auto', destination: pipe, isTty: false }).logger.info('hello');
    assert.equal(JSON.parse(pipe.text).msg, 'hello');
  });

  it('changes the level of the root and of every child (SIGHUP)', () => {
    const sink = new Sink();
    const logging = createLogging({ level: 'info', format: 'json', destination: sink, isTty: false });
    const child = logging.child('collector');
    child.debug('hidden');
    logging.setLevel('debug');
    child.debug('shown');
    logging.child('late').debug('also shown');
    assert.deepEqual(sink.text.trim().split('\n').map((l) => JSON.parse(l).msg), ['shown', 'also shown']);
  });

  it('ignores registered values too short to be secrets', () => {
    const s = new SecretScrubber();
    s.add('abc');
    assert.equal(s.scrub('{"msg":"abc def"}'), '{"msg":"abc def"}');
    s.add('abcdef');
    assert.equal(s.scrub('{"msg":"abcdef"}'), `{"msg":"${REDACTED}"}`);
  });
});
