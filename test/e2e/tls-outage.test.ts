/**
 * Issue 4: with the TLS server gone for 30 s while events keep flowing at
 * 200/s, nothing is lost: the spool holds them and the driver replays them
 * in order once the server listens again. A real HTTPS server (own CA,
 * mTLS) stands in for Fleet. Takes about 40 s.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import { SinkDriver } from '../../src/sinks/sink-driver';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import { tlsDriverOptions, type TlsSinkOptions } from '../../src/sinks/tls/config';
import { collectHostDetails } from '../../src/sinks/tls/host-details';
import { TlsSink } from '../../src/sinks/tls/tls-sink';
import { clock, host, makeLineage } from '../events/lineage-fixture';
import { removeDir, tempDir, waitFor } from '../sinks/sink-test-helpers';
import { FakeFleet } from '../sinks/tls/fake-fleet';
import { makeTestCerts } from '../sinks/tls/test-certs';
import { enqueueStrings } from '../support/string-lines';

const RATE_PER_S = 200;
const BEFORE_MS = 2000;
const OUTAGE_MS = 30_000;
const AFTER_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test('TLS server down for 30 s at 200 events/s: every event arrives after it returns (by id)', { timeout: 120_000 }, async () => {
  const dir = tempDir('tls-outage');
  const certs = makeTestCerts(dir);
  const secretPath = join(dir, 'secret');
  writeFileSync(secretPath, 'outage-secret');
  const fleet = new FakeFleet({ certs, enrollSecret: 'outage-secret', requireClientCert: true });
  await fleet.start();
  const opts: TlsSinkOptions = {
    tlsHostname: `127.0.0.1:${fleet.port}`,
    enrollSecretPath: secretPath,
    hostIdentifier: host.hostIdentifier,
    tlsServerCerts: certs.caPath,
    tlsClientCert: certs.clientCertPath,
    tlsClientKey: certs.clientKeyPath,
    loggerTlsCompress: true,
    loggerTlsPeriodS: 1,
    requestTimeoutMs: 5000,
  };
  const sink = new TlsSink(opts, collectHostDetails(host.hostname, host.machineId, '0.1.0'));
  const driver = new SinkDriver(sink, new DiskSpool({ dir: join(dir, 'spool'), fsync: 'never' }), {
    ...tlsDriverOptions(opts), retryInitialMs: 200, retryMaxMs: 2000,
  });
  const format = new OsqueryResultFormat({ host, clock });
  await driver.start();

  const sent: string[] = [];
  let maxLag = 0;
  let accepted = 0;
  const t0 = Date.now();
  const produce = setInterval(() => {
    // Paced by elapsed time, not by tick count: timer drift does not change the total.
    const due = Math.floor(((Date.now() - t0) * RATE_PER_S) / 1000) - sent.length;
    const batch: string[] = [];
    for (let i = 0; i < due; i++) {
      const line = format.exec(makeLineage(10, 1_000_000_000 + sent.length * 1000));
      sent.push(JSON.parse(line).columns.eid);
      batch.push(line);
    }
    accepted += enqueueStrings(driver, batch, Number(process.hrtime.bigint()));
    maxLag = Math.max(maxLag, driver.lagSeconds());
  }, 50);
  try {
    await sleep(BEFORE_MS);
    await fleet.stop();
    const downAt = fleet.results.length;
    await sleep(OUTAGE_MS);
    assert.equal(fleet.results.length, downAt, 'nothing can arrive while the server is down');
    await fleet.start(); // same port
    await sleep(AFTER_MS);
  } finally {
    clearInterval(produce);
  }
  const total = sent.length;
  await waitFor(() => new Set(fleet.results.map((r) => (r.columns as { eid: string }).eid)).size >= total,
    'every event at the server', 60_000);
  const stats = driver.stats();
  await driver.close();
  await fleet.stop();

  const got = fleet.results.map((r) => (r.columns as { eid: string }).eid);
  const unique = new Set(got);
  const missing = sent.filter((id) => !unique.has(id));
  console.log(`# outage: ${total} events sent, ${got.length} received, ${missing.length} lost, `
    + `${got.length - unique.size} duplicates, ${stats.retriedBatches} retried batches, max lag ${maxLag.toFixed(1)} s`);
  assert.equal(accepted, total);
  assert.ok(total >= RATE_PER_S * (BEFORE_MS + OUTAGE_MS) / 1000, `only ${total} events produced`);
  assert.equal(missing.length, 0);
  assert.ok(stats.retriedBatches > 0);
  assert.equal(Object.values(stats.droppedEvents).reduce((a, b) => a + b, 0), 0);
  // Order preserved: first occurrences appear in production order.
  const firstSeen = [...unique];
  assert.deepEqual(firstSeen, sent);
  removeDir(dir);
});
