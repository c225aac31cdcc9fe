import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OsqueryResultFormat } from '../../../src/events/osquery-result';
import type { EventBatch } from '../../../src/sinks/sink';
import { SinkDriver } from '../../../src/sinks/sink-driver';
import { DiskSpool } from '../../../src/sinks/spool/disk-spool';
import { tlsDriverOptions, type TlsSinkOptions } from '../../../src/sinks/tls/config';
import { collectHostDetails } from '../../../src/sinks/tls/host-details';
import { TlsSink } from '../../../src/sinks/tls/tls-sink';
import { clock, host, makeLineage } from '../../events/lineage-fixture';
import { openFdCount, removeDir, tempDir, waitFor } from '../sink-test-helpers';
import { FakeFleet } from './fake-fleet';
import { makeTestCerts, type TestCerts } from './test-certs';
import { enqueueStrings } from '../../support/string-lines';

const SECRET = 'fleet-enroll-secret-0123';
let dir: string;
let certs: TestCerts;
let secretPath: string;
let fleet: FakeFleet; // requires client certificates (mTLS)
const details = collectHostDetails(host.hostname, host.machineId, '0.1.0');
const format = new OsqueryResultFormat({ host, clock });

function lines(n: number, from = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(format.exec(makeLineage(3, 1_000_000_000 + (from + i) * 1000)));
  return out;
}

function batch(ls: string[], firstId = 1): EventBatch {
  const data = Buffer.from(ls.map((l) => l + '\n').join(''));
  return { firstId, lastId: firstId + ls.length - 1, count: ls.length, data, firstKtimeNs: 0, lastKtimeNs: 0 };
}

function options(over: Partial<TlsSinkOptions> = {}): TlsSinkOptions {
  return {
    tlsHostname: `127.0.0.1:${fleet.port}`,
    enrollSecretPath: secretPath,
    hostIdentifier: host.hostIdentifier,
    tlsServerCerts: certs.caPath,
    tlsClientCert: certs.clientCertPath,
    tlsClientKey: certs.clientKeyPath,
    requestTimeoutMs: 5000,
    ...over,
  };
}

before(async () => {
  dir = tempDir('tls');
  certs = makeTestCerts(dir);
  secretPath = join(dir, 'enroll_secret');
  writeFileSync(secretPath, `${SECRET}\n`, { mode: 0o600 });
  fleet = new FakeFleet({ certs, enrollSecret: SECRET, requireClientCert: true });
  await fleet.start();
});

after(async () => {
  await fleet.stop();
  removeDir(dir);
});

test('enrolls, then logs osquery result objects with the node key (body and Authorization header)', async () => {
  const before = fleet.results.length;
  const s = new TlsSink(options(), details);
  await s.start();
  const ls = lines(3);
  assert.equal(await s.send(batch(ls)), 'delivered');
  await s.close();
  assert.deepEqual(fleet.results.slice(before), ls.map((l) => JSON.parse(l)));
  const enroll = fleet.enrollBodies[fleet.enrollBodies.length - 1];
  assert.equal(enroll.enroll_secret, SECRET); // trimmed
  assert.equal(enroll.host_identifier, host.hostIdentifier);
  const hd = enroll.host_details as Record<string, Record<string, unknown>>;
  for (const section of ['os_version', 'osquery_info', 'system_info', 'platform_info']) {
    assert.ok(hd[section], `host_details.${section}`);
    for (const [k, v] of Object.entries(hd[section])) assert.equal(typeof v, 'string', `${section}.${k}`);
  }
  assert.equal(hd.system_info.hostname, host.hostname);
  const req = fleet.logRequests[fleet.logRequests.length - 1];
  assert.equal(req.logType, 'result');
  assert.equal(req.authorization, `NodeKey ${req.nodeKey}`);
  assert.equal(req.gzip, false);
});

test('node_invalid (401): enrolls again and resends the same batch', async () => {
  const s = new TlsSink(options(), details);
  const enrolled = fleet.enrollments;
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'delivered');
  fleet.invalidateNodeKeys();
  const before = fleet.results.length;
  const reqs = fleet.logRequests.length;
  const ls = lines(2, 100);
  assert.equal(await s.send(batch(ls)), 'delivered');
  assert.equal(fleet.enrollments, enrolled + 2);
  assert.deepEqual(fleet.logRequests.slice(reqs).map((r) => r.status), [401, 200]);
  assert.deepEqual(fleet.results.slice(before), ls.map((l) => JSON.parse(l)));
  await s.close();
});

test('gzip bodies with Content-Encoding: gzip when logger_tls_compress is on', async () => {
  const s = new TlsSink(options({ loggerTlsCompress: true }), details);
  await s.start();
  const before = fleet.results.length;
  const ls = lines(20, 200);
  assert.equal(await s.send(batch(ls)), 'delivered');
  await s.close();
  assert.equal(fleet.logRequests[fleet.logRequests.length - 1].gzip, true);
  assert.deepEqual(fleet.results.slice(before), ls.map((l) => JSON.parse(l)));
});

test('5xx answers are retried with backoff by the driver; nothing lost, order kept', async () => {
  const spoolDir = tempDir('tls-spool');
  try {
    const sink = new TlsSink(options(), details);
    const d = new SinkDriver(sink, new DiskSpool({ dir: spoolDir, fsync: 'never' }), {
      ...tlsDriverOptions({ ...options(), loggerTlsPeriodS: 0.01, loggerTlsMaxLines: 10 }),
      retryInitialMs: 10, retryMaxMs: 50,
    });
    await d.start();
    fleet.failNext = 3;
    const before = fleet.results.length;
    const ls = lines(50, 300);
    enqueueStrings(d, ls, 1);
    await waitFor(() => fleet.results.length - before === 50, '50 results');
    assert.ok(d.stats().retriedBatches >= 3);
    await d.close();
    assert.deepEqual(fleet.results.slice(before).map((r) => (r.columns as { eid: string }).eid),
      ls.map((l) => JSON.parse(l).columns.eid));
  } finally {
    removeDir(spoolDir);
  }
});

test('other 4xx answers reject the batch (dead letter), with the status in the reason', async () => {
  const s = new TlsSink(options(), details);
  await s.start();
  fleet.alwaysStatus = 400;
  try {
    assert.equal(await s.send(batch(lines(1))), 'rejected');
    assert.match(s.lastError!, /HTTP 400/);
  } finally {
    fleet.alwaysStatus = null;
    await s.close();
  }
});

test('413: the batch goes again in halves until the server takes it; one event too large alone is rejected', async () => {
  const before = fleet.results.length;
  const requestsBefore = fleet.logRequests.length;
  fleet.maxResults = 3;
  const s = new TlsSink(options(), details);
  try {
    await s.start();
    const ls = lines(10, 500);
    assert.equal(await s.send(batch(ls)), 'delivered');
    assert.deepEqual(fleet.results.slice(before), ls.map((l) => JSON.parse(l)), 'every event, in order, once');
    const reqs = fleet.logRequests.slice(requestsBefore);
    const taken = reqs.filter((r) => r.status === 200);
    assert.ok(reqs.some((r) => r.status === 413));
    assert.ok(taken.every((r) => r.count <= 3));
    assert.equal(taken.reduce((a, r) => a + r.count, 0), 10);
    fleet.maxResults = 0;
    assert.equal(await s.send(batch(lines(1, 600))), 'rejected');
    assert.match(s.lastError!, /HTTP 413: one event of \d+ bytes is more than the server accepts/);
  } finally {
    fleet.maxResults = null;
    await s.close();
  }
});

test('403 and 404 are retried with backoff and reported as a configuration problem, not dead-lettered', async () => {
  for (const status of [403, 404]) {
    fleet.alwaysStatus = status;
    const s = new TlsSink(options(), details);
    try {
      await s.start();
      assert.equal(await s.send(batch(lines(2, 700))), 'retry');
      assert.match(s.configProblem!, new RegExp(`answered HTTP ${status}: check tls_hostname, logger_tls_endpoint`));
      fleet.alwaysStatus = null;
      assert.equal(await s.send(batch(lines(2, 710))), 'delivered');
      assert.equal(s.configProblem, null, 'cleared once the server takes events');
    } finally {
      fleet.alwaysStatus = null;
      await s.close();
    }
  }
});

test('tls_request_timeout_ms is a deadline for the whole answer: a server trickling bytes cannot hold a send', async () => {
  fleet.trickleMs = 100;
  const s = new TlsSink(options({ requestTimeoutMs: 600 }), details);
  try {
    await s.start();
    const t0 = Date.now();
    assert.equal(await s.send(batch(lines(1, 800))), 'retry');
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `gave up after ${ms} ms (an idle timeout alone never fires: a byte comes every 100 ms)`);
    assert.match(s.lastError!, /no complete answer within 600 ms/);
  } finally {
    fleet.trickleMs = null;
    await s.close();
  }
});

test('mTLS: a sink without a client certificate is refused by the server', async () => {
  const enrollments = fleet.enrollments;
  const s = new TlsSink(options({ tlsClientCert: null, tlsClientKey: null }), details);
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'retry');
  assert.match(s.lastError!, /enroll .* failed/);
  assert.equal(fleet.enrollments, enrollments);
  await s.close();
});

test('CA pinning: a sink pinned to another CA refuses the server', async () => {
  const enrollments = fleet.enrollments;
  const s = new TlsSink(options({ tlsServerCerts: certs.otherCaPath }), details);
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'retry');
  assert.match(s.lastError!, /certificate|self[- ]signed|verify/i);
  assert.equal(fleet.enrollments, enrollments);
  await s.close();
});

test('without tls_server_certs the system CAs do not trust the test CA', async () => {
  const s = new TlsSink(options({ tlsServerCerts: null }), details);
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'retry');
  assert.match(s.lastError!, /certificate|verify/i);
  await s.close();
});

test('hostname check: a server whose certificate does not name tls_hostname is refused', async () => {
  const other = new FakeFleet({ certs, enrollSecret: SECRET, host: '127.0.0.2' });
  await other.start();
  try {
    const s = new TlsSink(options({ tlsHostname: `127.0.0.2:${other.port}` }), details);
    await s.start();
    assert.equal(await s.send(batch(lines(1))), 'retry');
    assert.match(s.lastError!, /ERR_TLS_CERT_ALTNAME_INVALID|altname|does not match/i);
    assert.equal(other.enrollments, 0);
    await s.close();
  } finally {
    await other.stop();
  }
});

test('a wrong enroll secret is retried and the reason names enroll_secret_path', async () => {
  const bad = join(dir, 'bad_secret');
  writeFileSync(bad, 'nope');
  const s = new TlsSink(options({ enrollSecretPath: bad }), details);
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'retry');
  assert.match(s.lastError!, /enroll refused: HTTP 401.*enroll_secret_path/);
  await s.close();
});

test('configuration problems fail start() and name the option', async () => {
  await assert.rejects(new TlsSink(options({ enrollSecretPath: join(dir, 'missing') }), details).start(),
    { code: 'ANC_CONFIG_INVALID', message: /enroll_secret_path: cannot read/ });
  await assert.rejects(new TlsSink(options({ tlsClientKey: null }), details).start(),
    /tls_client_cert and tls_client_key: set both/);
  await assert.rejects(new TlsSink(options({ tlsServerCerts: secretPath }), details).start(),
    /tls_server_certs: .* holds no PEM/);
  await assert.rejects(new TlsSink(options({ tlsHostname: 'https://fleet' }), details).start(),
    /tls_hostname: expected "host" or "host:port"/);
});

test('close() aborts requests in flight and leaves no socket open', async () => {
  const fds = openFdCount();
  const s = new TlsSink(options(), details);
  await s.start();
  assert.equal(await s.send(batch(lines(1))), 'delivered'); // a keep-alive socket now exists
  fleet.failNext = 0;
  const pending = s.send(batch(lines(1)));
  await s.close();
  assert.ok(['delivered', 'retry'].includes(await pending));
  await waitFor(() => openFdCount() <= fds, 'sockets closed');
});

test('the enroll secret and the node key are registered for the logs\' censor as soon as read or received', async () => {
  const secrets: string[] = [];
  const s = new TlsSink(options(), details, undefined, 'tls', (v) => secrets.push(v));
  await s.start();
  assert.deepEqual(secrets, [SECRET], 'read at start');
  assert.equal(await s.send(batch(lines(1))), 'delivered');
  await s.close();
  const key = fleet.logRequests[fleet.logRequests.length - 1].nodeKey;
  assert.ok(typeof key === 'string' && key.length > 0);
  assert.ok(secrets.includes(key), 'the node key Fleet gave');
});
