import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryQueue } from '../../src/sinks/memory-queue';
import type { DropReason, SendResult, SinkMetrics } from '../../src/sinks/sink';
import { SinkDriver, type SinkDriverOptions } from '../../src/sinks/sink-driver';
import { DiskSpool } from '../../src/sinks/spool/disk-spool';
import {
  ScriptedSink, numbered, openFdCount, range, removeDir, tempDir, waitFor,
} from './sink-test-helpers';
import { enqueueStrings } from '../support/string-lines';

class RecordingMetrics implements SinkMetrics {
  delivered_ = { events: 0, batches: 0, bytes: 0, latencies: [] as number[] };
  retried_ = 0;
  rejected_ = 0;
  dropped_: Partial<Record<DropReason, number>> = {};
  delivered(events: number, bytes: number, latencySeconds: number): void {
    this.delivered_.events += events;
    this.delivered_.batches++;
    this.delivered_.bytes += bytes;
    this.delivered_.latencies.push(latencySeconds);
  }
  retried(events: number): void {
    this.retried_ += events;
  }
  rejected(events: number): void {
    this.rejected_ += events;
  }
  dropped(events: number, reason: DropReason): void {
    this.dropped_[reason] = (this.dropped_[reason] ?? 0) + events;
  }
}

const fast: SinkDriverOptions = { lingerMs: 5, retryInitialMs: 2, retryMaxMs: 20, closeTimeoutMs: 2000 };

test('delivers everything in order, in batches of at most maxBatchLines, and reports metrics', async () => {
  const dir = tempDir('drv');
  try {
    const sink = new ScriptedSink();
    const metrics = new RecordingMetrics();
    let now = 5_000_000_000;
    const d = new SinkDriver(sink, new DiskSpool({ dir, fsync: 'never' }), {
      ...fast, maxBatchLines: 50, metrics, nowBootNs: () => now,
    });
    await d.start();
    for (let i = 0; i < 1000; i += 10) enqueueStrings(d, numbered(i, 10), 4_000_000_000);
    await waitFor(() => sink.delivered.length === 1000, 'delivery');
    assert.deepEqual(sink.delivered, range(0, 999));
    assert.ok(sink.batches.every((b) => b.count <= 50));
    assert.equal(metrics.delivered_.events, 1000);
    assert.ok(metrics.delivered_.latencies.every((s) => s === 1));
    const st = d.stats();
    assert.equal(st.deliveredEvents, 1000);
    assert.equal(st.enqueuedEvents, 1000);
    now += 1;
    assert.equal(st.unreadEvents, 0);
    assert.equal(d.lagSeconds(), 0);
    await d.close();
    assert.ok(sink.closed);
  } finally {
    removeDir(dir);
  }
});

test('retry keeps the batch and resends it after backoff; order holds across failures', async () => {
  const dir = tempDir('drv');
  try {
    const sink = new ScriptedSink();
    const metrics = new RecordingMetrics();
    sink.answer = (_b, n) => (n % 3 === 0 ? 'delivered' : 'retry');
    const d = new SinkDriver(sink, new DiskSpool({ dir, fsync: 'never' }), { ...fast, maxBatchLines: 7, metrics });
    await d.start();
    for (let i = 0; i < 100; i++) enqueueStrings(d, [JSON.stringify({ n: i })], 1);
    await waitFor(() => sink.delivered.length === 100, 'delivery');
    assert.deepEqual(sink.delivered, range(0, 99));
    assert.ok(d.stats().retriedBatches > 0);
    assert.equal(d.stats().failedSends, d.stats().retriedBatches);
    assert.ok(metrics.retried_ > 0);
    await d.close();
  } finally {
    removeDir(dir);
  }
});

test('a throwing send counts as retry', async () => {
  const sink = new ScriptedSink();
  let first = true;
  sink.answer = () => {
    if (first) {
      first = false;
      throw new Error('boom');
    }
    return 'delivered';
  };
  const d = new SinkDriver(sink, new MemoryQueue(), fast);
  await d.start();
  enqueueStrings(d, numbered(0, 3), 1);
  await waitFor(() => sink.delivered.length === 3, 'delivery');
  assert.equal(d.stats().retriedBatches, 1);
  await d.close();
});

test('rejected batches go to the dead-letter file with their reason and are counted', async () => {
  const dir = tempDir('drv');
  try {
    const sink = new ScriptedSink();
    const metrics = new RecordingMetrics();
    sink.answer = (b) => (b.firstId === 1 ? 'rejected' : 'delivered');
    const d = new SinkDriver(sink, new DiskSpool({ dir, fsync: 'never' }), { ...fast, maxBatchLines: 5, metrics });
    await d.start();
    enqueueStrings(d, numbered(0, 10), 1);
    await waitFor(() => sink.delivered.length === 5, 'delivery');
    await d.close();
    assert.deepEqual(sink.delivered, range(5, 9));
    assert.equal(metrics.rejected_, 5);
    assert.equal(d.stats().rejectedEvents, 5);
    const dl = fs.readFileSync(join(dir, 'dead-letter.log'), 'utf8').trim().split('\n');
    assert.equal(dl.length, 1);
    const rec = JSON.parse(dl[0]);
    assert.equal(rec.reason, 'scripted rejected');
    assert.equal(rec.sink, 'scripted');
    assert.equal(rec.first_id, 1);
    assert.equal(rec.count, 5);
    assert.deepEqual(rec.events.map((e: { n: number }) => e.n), [0, 1, 2, 3, 4]);
    assert.equal(fs.statSync(join(dir, 'dead-letter.log')).mode & 0o777, 0o600);
    // A rejected batch is done: not replayed after restart.
    const again = new ScriptedSink();
    const d2 = new SinkDriver(again, new DiskSpool({ dir, fsync: 'never' }), fast);
    await d2.start();
    await d2.close();
    assert.deepEqual(again.delivered, []);
  } finally {
    removeDir(dir);
  }
});

test('enqueue never blocks: a sink that never answers does not slow the caller; overflow is dropped and counted', async () => {
  const sink = new ScriptedSink();
  sink.answer = () => new Promise<SendResult>(() => {}); // hangs forever
  const metrics = new RecordingMetrics();
  const d = new SinkDriver(sink, new MemoryQueue({ maxBytes: 64 * 1024 }), { ...fast, metrics, closeTimeoutMs: 10 });
  await d.start();
  let accepted = 0;
  for (let i = 0; i < 5000; i += 10) accepted += enqueueStrings(d, numbered(i, 10, 200), 1);
  assert.equal(accepted, 5000); // drop_oldest: new events always get in
  assert.ok((metrics.dropped_.queue_full ?? 0) > 0);
  assert.ok(d.stats().droppedEvents.queue_full > 0);
  // close() returns although this sink violates the contract (its close does not abort the send).
  await d.close();
  assert.ok(sink.closed);
});

test('close() drains what it can; past the timeout the rest stays in the spool and is replayed on start', async () => {
  const dir = tempDir('drv');
  try {
    const fds = openFdCount();
    const down = new ScriptedSink();
    down.answer = () => 'retry';
    const d = new SinkDriver(down, new DiskSpool({ dir, fsync: 'never' }), { ...fast, closeTimeoutMs: 50 });
    await d.start();
    enqueueStrings(d, numbered(0, 500), 1);
    await waitFor(() => down.sends > 2, 'a few attempts');
    await d.close();
    assert.equal(openFdCount(), fds);
    assert.deepEqual(down.delivered, []);

    const up = new ScriptedSink();
    const d2 = new SinkDriver(up, new DiskSpool({ dir, fsync: 'never' }), { ...fast, maxBatchLines: 100 });
    await d2.start();
    await waitFor(() => up.delivered.length === 500, 'replay');
    enqueueStrings(d2, numbered(500, 10), 1);
    await d2.close(); // drains the 10 new ones
    assert.deepEqual(up.delivered, range(0, 509));
    assert.equal(openFdCount(), fds);
  } finally {
    removeDir(dir);
  }
});

test('linger: a partial batch waits for more events, a full one goes at once', async () => {
  const sink = new ScriptedSink();
  const d = new SinkDriver(sink, new MemoryQueue(), { lingerMs: 60_000, maxBatchLines: 10, closeTimeoutMs: 1000 });
  await d.start();
  enqueueStrings(d, numbered(0, 3), 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sink.sends, 0); // waiting for linger (60 s) or a full batch
  enqueueStrings(d, numbered(3, 7), 1);
  await waitFor(() => sink.delivered.length === 10, 'full batch');
  enqueueStrings(d, numbered(10, 2), 1);
  await d.close(); // close flushes the partial batch without waiting for linger
  assert.deepEqual(sink.delivered, range(0, 11));
});

test('lag is the age of the oldest unacknowledged event', async () => {
  const sink = new ScriptedSink();
  sink.answer = () => 'retry';
  let now = 10_000_000_000;
  const d = new SinkDriver(sink, new MemoryQueue(), { ...fast, retryInitialMs: 1000, retryMaxMs: 1000, nowBootNs: () => now });
  await d.start();
  assert.equal(d.lagSeconds(), 0);
  enqueueStrings(d, numbered(0, 2), 7_000_000_000);
  await waitFor(() => sink.sends > 0, 'first send');
  assert.equal(d.lagSeconds(), 3);
  now += 2_000_000_000;
  assert.equal(d.stats().lagSeconds, 5);
  await d.close(10);
  assert.equal(d.stats().droppedEvents.closed, 2); // memory queue: undelivered at close are lost and counted
});

test('maxInFlight > 1 acknowledges only the delivered prefix', async () => {
  const dir = tempDir('drv');
  try {
    const sink = new ScriptedSink();
    const gates: Array<(r: SendResult) => void> = [];
    sink.answer = () => new Promise<SendResult>((resolve) => gates.push(resolve));
    const spool = new DiskSpool({ dir, fsync: 'never' });
    const d = new SinkDriver(sink, spool, { ...fast, maxBatchLines: 5, maxInFlight: 3 });
    await d.start();
    enqueueStrings(d, numbered(0, 15), 1);
    await waitFor(() => gates.length === 3, 'three sends in flight');
    gates[1]('delivered');
    gates[2]('delivered');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(spool.ackedThrough, 0);
    gates[0]('delivered');
    await waitFor(() => spool.ackedThrough === 15, 'cursor at 15');
    await d.close();
  } finally {
    removeDir(dir);
  }
});

test('start() undoes itself when the sink fails to start', async () => {
  const dir = tempDir('drv');
  try {
    const fds = openFdCount();
    const sink = new ScriptedSink();
    sink.start = async () => {
      throw new Error('bad config');
    };
    const d = new SinkDriver(sink, new DiskSpool({ dir, fsync: 'never' }), fast);
    await assert.rejects(d.start(), /bad config/);
    assert.equal(openFdCount(), fds);
    await d.close();
  } finally {
    removeDir(dir);
  }
});

test('setBatching applies a new linger and batch size to what is queued (SIGHUP)', async () => {
  const sink = new ScriptedSink();
  const d = new SinkDriver(sink, new MemoryQueue(), { ...fast, lingerMs: 3_600_000, maxBatchLines: 1000 });
  await d.start();
  enqueueStrings(d, numbered(0, 10), 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sink.delivered.length, 0, 'a partial batch waits out the hour-long linger');
  d.setBatching({ lingerMs: 0, maxBatchLines: 4 });
  await waitFor(() => sink.delivered.length === 10, 'delivery after setBatching');
  assert.deepEqual(sink.batches.map((b) => b.count), [4, 4, 2]);
  assert.throws(() => d.setBatching({ maxBatchLines: 0 }), /max batch lines/);
  await d.close();
});

/** A sink that also delivers synchronously (as the file sink does). */
class DirectSink extends ScriptedSink {
  direct = 0;
  nowAnswer: () => SendResult = () => 'delivered';
  deliverNow(batch: Parameters<ScriptedSink['send']>[0]): SendResult {
    this.direct++;
    const r = this.nowAnswer();
    if (r === 'delivered') this.delivered.push(...batch.data.toString().split('\n').slice(0, batch.count).map((l) => JSON.parse(l).n as number));
    else this.lastError = `scripted direct ${r}`;
    return r;
  }
}

test('a sink with deliverNow gets the events before enqueue returns, with no queue in between', async () => {
  const sink = new DirectSink();
  const metrics = new RecordingMetrics();
  const d = new SinkDriver(sink, new MemoryQueue(), { ...fast, maxBatchBytes: 4096, metrics });
  await d.start();
  assert.equal(enqueueStrings(d, numbered(0, 100, 100), 1), 100);
  assert.deepEqual(sink.delivered, range(0, 99), 'delivered synchronously, in order');
  assert.ok(sink.direct >= 3, `split by maxBatchBytes into ${sink.direct} writes`);
  assert.equal(sink.sends, 0);
  assert.equal(d.stats().unreadEvents, 0);
  assert.equal(d.stats().deliveredEvents, 100);
  assert.equal(metrics.delivered_.events, 100);
  await d.close();
});

test('a failed direct delivery queues the rest, retries them through send, and keeps order', async () => {
  const sink = new DirectSink();
  let failing = true;
  sink.nowAnswer = () => (failing ? 'retry' : 'delivered');
  sink.answer = () => (failing ? 'retry' : 'delivered');
  const d = new SinkDriver(sink, new MemoryQueue(), fast);
  await d.start();
  assert.equal(enqueueStrings(d, numbered(0, 10), 1), 10);
  assert.deepEqual(sink.delivered, []);
  assert.equal(d.stats().unreadEvents + d.stats().inFlightBatches * 10, 10, 'queued, not lost');
  // While events wait, new ones queue behind them instead of overtaking.
  assert.equal(enqueueStrings(d, numbered(10, 5), 1), 5);
  assert.equal(sink.direct, 1);
  failing = false;
  await waitFor(() => sink.delivered.length === 15, 'retried delivery');
  assert.deepEqual(sink.delivered, range(0, 14));
  // Caught up: direct again.
  enqueueStrings(d, numbered(15, 1), 1);
  assert.deepEqual(sink.delivered, range(0, 15));
  assert.equal(sink.direct, 2);
  await d.close();
});

test('issue 10: a sink that rejects everything logs the first rejection, then stays quiet; every event is counted', async () => {
  const sink = new ScriptedSink();
  sink.answer = () => 'rejected';
  const metrics = new RecordingMetrics();
  const lines: { msg: string; fields: object }[] = [];
  const log = {
    info() {},
    warn(fields: object, msg: string) { lines.push({ msg, fields }); },
    error(fields: object, msg: string) { lines.push({ msg, fields }); },
  };
  const d = new SinkDriver(sink, new MemoryQueue(), { ...fast, maxBatchLines: 1, metrics, log });
  await d.start();
  for (let i = 0; i < 20; i++) enqueueStrings(d, numbered(i, 1), 1);
  await waitFor(() => d.stats().rejectedEvents === 20, 'rejections');
  await d.close();
  assert.equal(metrics.rejected_, 20);
  assert.equal(lines.filter((l) => l.msg.startsWith('sink rejected a batch')).length, 1, JSON.stringify(lines));
});
