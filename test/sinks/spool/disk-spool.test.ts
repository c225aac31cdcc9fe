import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { acquirePidfile, processIdentity } from '../../../src/daemon/pidfile';
import { isAncestrydError } from '../../../src/errors';
import { noopLogger, type DropReason, type EventBatch } from '../../../src/sinks/sink';
import type { DiskSpoolOptions } from '../../../src/sinks/spool/config';
import { DiskSpool } from '../../../src/sinks/spool/disk-spool';
import { HEADER_BYTES } from '../../../src/sinks/spool/record';
import { numbered, numbersOf, openFdCount, range, removeDir, tempDir } from '../sink-test-helpers';
import { appendStrings } from '../../support/string-lines';

interface Opened {
  spool: DiskSpool;
  drops: Record<string, number>;
}

async function open(dir: string, opts: Partial<DiskSpoolOptions> = {}): Promise<Opened> {
  const spool = new DiskSpool({ dir, fsync: 'never', ...opts });
  const drops: Record<string, number> = {};
  spool.onDrop = (n: number, reason: DropReason) => {
    drops[reason] = (drops[reason] ?? 0) + n;
  };
  await spool.open();
  return { spool, drops };
}

async function readAll(spool: DiskSpool, maxLines = 1000, maxBytes = 1 << 20): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for (let b = await spool.read(maxLines, maxBytes); b !== null; b = await spool.read(maxLines, maxBytes)) out.push(b);
  return out;
}

function segments(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
}

test('appends come back in order, in batches bounded by lines and bytes, with consecutive ids', async () => {
  const dir = tempDir('spool');
  try {
    const { spool } = await open(dir);
    assert.equal(appendStrings(spool, numbered(0, 5), 100), 5);
    assert.equal(appendStrings(spool, numbered(5, 5), [1, 2, 3, 4, 5]), 5);
    assert.equal(spool.unreadEvents, 10);
    const a = await spool.read(4, 1 << 20);
    assert.deepEqual(numbersOf(a!), [0, 1, 2, 3]);
    assert.equal(a!.firstId, 1);
    assert.equal(a!.lastId, 4);
    assert.equal(a!.firstKtimeNs, 100);
    const b = await spool.read(100, 250);
    assert.deepEqual(numbersOf(b!), [4, 5]); // 2 × ~101 bytes fit in 250
    assert.equal(b!.lastKtimeNs, 1);
    const c = await spool.read(100, 10); // one event always fits, however large
    assert.deepEqual(numbersOf(c!), [6]);
    const rest = await readAll(spool);
    assert.deepEqual(rest.flatMap((x) => numbersOf(x)), [7, 8, 9]);
    assert.equal(await spool.read(10, 1000), null);
    assert.equal(spool.unreadEvents, 0);
    assert.ok(a!.data.toString().endsWith('\n'));
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

for (const memoryBytes of [3000, 10_000, 50_000]) {
  test(`memory tail of ${memoryBytes} B: readers behind it read the files; both paths give the same batches`, async () => {
  const dirA = tempDir('spool');
  const dirB = tempDir('spool');
  try {
    const mem = (await open(dirA, { segmentBytes: 16 * 1024, maxBytes: 1 << 20 })).spool;
    const disk = (await open(dirB, { segmentBytes: 16 * 1024, maxBytes: 1 << 20, memoryBytes })).spool;
    for (let i = 0; i < 500; i += 25) {
      appendStrings(mem, numbered(i, 25, 150), i);
      appendStrings(disk, numbered(i, 25, 150), i);
    }
    const a = await readAll(mem, 40, 5000);
    const b = await readAll(disk, 40, 5000);
    assert.deepEqual(a.flatMap((x) => numbersOf(x)), range(0, 499));
    assert.deepEqual(b.map((x) => [x.firstId, x.lastId, x.firstKtimeNs, x.data.toString()]),
      a.map((x) => [x.firstId, x.lastId, x.firstKtimeNs, x.data.toString()]));
    // Interleaved appends and reads switch between memory and files.
    for (let i = 500; i < 1000; i += 25) {
      appendStrings(disk, numbered(i, 25, 150), i);
      const r = await disk.read(30, 1 << 20);
      disk.ack(r!.lastId);
      b.push(r!);
    }
    b.push(...await readAll(disk, 30));
    assert.deepEqual(b.flatMap((x) => numbersOf(x)), range(0, 999));
    await mem.close();
    await disk.close();
  } finally {
    removeDir(dirA);
    removeDir(dirB);
  }
});
}

test('restart replays exactly the events after the acknowledged cursor', async () => {
  const dir = tempDir('spool');
  try {
    let { spool } = await open(dir);
    appendStrings(spool, numbered(0, 10), 1);
    const b = await spool.read(6, 1 << 20);
    spool.ack(b!.lastId);
    await spool.read(100, 1 << 20); // read but never acknowledged: must come back
    await spool.close();
    ({ spool } = await open(dir));
    assert.equal(spool.ackedThrough, 6);
    assert.equal(spool.unreadEvents, 4);
    const again = await readAll(spool);
    assert.deepEqual(again.flatMap((x) => numbersOf(x)), [6, 7, 8, 9]);
    assert.equal(again[0].firstId, 7);
    // New appends continue the id sequence.
    appendStrings(spool, numbered(10, 1), 1);
    const next = await spool.read(10, 1 << 20);
    assert.equal(next!.firstId, 11);
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('a restart without close (crash) replays from the cursor: duplicates possible, no loss', async () => {
  const dir = tempDir('spool');
  try {
    const first = await open(dir);
    appendStrings(first.spool, numbered(0, 100), 1);
    const b = await first.spool.read(30, 1 << 20);
    first.spool.ack(b!.lastId);
    // No close: a second instance over the same files sees what the page cache holds.
    const second = await open(dir);
    const got = (await readAll(second.spool)).flatMap((x) => numbersOf(x));
    assert.deepEqual(got, range(30, 99));
    await first.spool.close();
    await second.spool.close();
  } finally {
    removeDir(dir);
  }
});

test('a segment is deleted only once all its records are acknowledged', async () => {
  const dir = tempDir('spool');
  try {
    const { spool } = await open(dir, { segmentBytes: 4096, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) appendStrings(spool, numbered(i * 10, 10, 200), 1); // ~2.3 KB per group
    const segs = segments(dir);
    assert.ok(segs.length >= 5, `expected several segments, got ${segs.length}`);
    const batches = await readAll(spool, 15);
    // Acknowledge into the middle of the second segment: only the first goes.
    const secondFirstId = Number(segs[1].slice(0, 20));
    spool.ack(secondFirstId + 2);
    assert.equal(segments(dir).length, segs.length - 1);
    assert.ok(!fs.existsSync(join(dir, segs[0])));
    spool.ack(batches[batches.length - 1].lastId);
    assert.deepEqual(segments(dir), [segs[segs.length - 1]]); // the active one stays
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('full with drop_oldest: the oldest segments go, every lost event is counted, order is kept', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    const total = 1000;
    for (let i = 0; i < total; i += 10) assert.equal(appendStrings(spool, numbered(i, 10, 300), i), 10);
    assert.ok(spool.storedBytes <= 64 * 1024);
    const got = (await readAll(spool)).flatMap((x) => numbersOf(x));
    assert.ok(drops.queue_full > 0);
    assert.equal(got.length + drops.queue_full, total);
    assert.deepEqual(got, range(total - got.length, total - 1)); // the newest, contiguous
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('full with drop_newest: new events are refused and counted, stored ones kept', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024, dropPolicy: 'drop_newest' });
    let accepted = 0;
    for (let i = 0; i < 1000; i += 10) accepted += appendStrings(spool, numbered(i, 10, 300), i);
    assert.equal(accepted + drops.queue_full, 1000);
    const got = (await readAll(spool)).flatMap((x) => numbersOf(x));
    assert.deepEqual(got, range(0, accepted - 1));
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('events read while their segment is dropped are still delivered, not counted lost', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    appendStrings(spool, numbered(0, 20, 300), 0);
    const inFlight = await spool.read(20, 1 << 20);
    for (let i = 20; i < 400; i += 10) appendStrings(spool, numbered(i, 10, 300), 0);
    const got = (await readAll(spool)).flatMap((x) => numbersOf(x));
    assert.equal(numbersOf(inFlight!).length + got.length + drops.queue_full, 400);
    spool.ack(inFlight!.lastId);
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('a corrupt record (bad checksum) is skipped and counted; the rest is delivered', async () => {
  const dir = tempDir('spool');
  try {
    let { spool } = await open(dir);
    appendStrings(spool, numbered(0, 10, 100), 1);
    await spool.close();
    const seg = join(dir, segments(dir)[0]);
    const buf = fs.readFileSync(seg);
    const recLen = buf.readUInt32LE(4) + HEADER_BYTES;
    buf[recLen * 4 + HEADER_BYTES + 10] ^= 0xff; // payload byte of the 5th record
    fs.writeFileSync(seg, buf);
    let drops: Record<string, number>;
    ({ spool, drops } = await open(dir));
    const got = (await readAll(spool)).flatMap((x) => numbersOf(x));
    assert.deepEqual(got, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
    assert.equal(drops.corrupt, 1);
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('a corrupt header (bad magic and length) is resynchronised past', async () => {
  const dir = tempDir('spool');
  try {
    let { spool } = await open(dir);
    appendStrings(spool, numbered(0, 10, 100), 1);
    await spool.close();
    const seg = join(dir, segments(dir)[0]);
    const buf = fs.readFileSync(seg);
    const recLen = buf.readUInt32LE(4) + HEADER_BYTES;
    buf.fill(0xee, recLen * 2, recLen * 2 + 8); // magic and length of the 3rd
    fs.writeFileSync(seg, buf);
    let drops: Record<string, number>;
    ({ spool, drops } = await open(dir));
    appendStrings(spool, numbered(10, 2, 100), 1);
    const got = (await readAll(spool, 3)).flatMap((x) => numbersOf(x));
    assert.deepEqual(got, [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(drops.corrupt, 1);
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('a torn tail (write cut by a crash) is truncated at start and appends continue cleanly', async () => {
  const dir = tempDir('spool');
  try {
    let { spool } = await open(dir);
    appendStrings(spool, numbered(0, 5, 100), 1);
    await spool.close();
    const seg = join(dir, segments(dir)[segments(dir).length - 1]);
    const whole = fs.readFileSync(seg);
    const recLen = whole.readUInt32LE(4) + HEADER_BYTES;
    // Half of a sixth record, as a kill -9 mid-write leaves it.
    fs.appendFileSync(seg, whole.subarray(0, Math.floor(recLen / 2)));
    let drops: Record<string, number>;
    const cut: number[] = [];
    const log = { ...noopLogger, warn: (o: object, msg: string) => { if (msg.includes('torn tail')) cut.push((o as { bytes: number }).bytes); } };
    ({ spool, drops } = await open(dir, { log }));
    assert.deepEqual(cut, [Math.floor(recLen / 2)]);
    assert.equal(fs.statSync(seg).size, whole.length);
    appendStrings(spool, numbered(5, 3, 100), 1);
    const got = (await readAll(spool)).flatMap((x) => numbersOf(x));
    assert.deepEqual(got, range(0, 7));
    assert.equal(drops.corrupt, undefined);
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('an unreadable cursor replays everything stored (duplicates, not losses)', async () => {
  const dir = tempDir('spool');
  try {
    let { spool } = await open(dir);
    appendStrings(spool, numbered(0, 10), 1);
    const b = await spool.read(5, 1 << 20);
    spool.ack(b!.lastId);
    await spool.close();
    const cur = join(dir, 'cursor');
    const c = fs.readFileSync(cur);
    c[0] ^= 0x01;
    fs.writeFileSync(cur, c);
    const warnings: string[] = [];
    const log = { ...noopLogger, warn: (_o: object, msg: string) => { warnings.push(msg); } };
    ({ spool } = await open(dir, { log }));
    assert.equal(warnings.filter((m) => m.startsWith('spool cursor unreadable')).length, 1);
    assert.deepEqual((await readAll(spool)).flatMap((x) => numbersOf(x)), range(0, 9));
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('spool files are private (dir 0700, files 0600) and close() leaves no descriptor open', async () => {
  const base = tempDir('spool');
  const dir = join(base, 'sub', 'spool');
  try {
    const fds = openFdCount();
    const { spool } = await open(dir, { fsync: 50 });
    appendStrings(spool, numbered(0, 10), 1);
    await spool.read(3, 1 << 20);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    for (const f of fs.readdirSync(dir)) assert.equal(fs.statSync(join(dir, f)).mode & 0o777, 0o600, f);
    await spool.close();
    await spool.close(); // idempotent
    assert.equal(openFdCount(), fds);
    assert.equal(appendStrings(spool, numbered(0, 1), 1), 0); // closed: counted, not thrown
  } finally {
    removeDir(base);
  }
});

test('append never throws: a write error drops and counts the group', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir);
    // Simulate a dead device by closing the active descriptor underneath.
    const file = (spool as unknown as { writer: { file: { fd: number } } }).writer.file;
    fs.closeSync(file.fd);
    assert.equal(appendStrings(spool, numbered(0, 3), 1), 0);
    assert.equal(drops.write_error, 3);
    file.fd = -1;
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('append after a group that filled the memory tail to its last byte stores the group (it threw ERR_BUFFER_OUT_OF_BOUNDS)', async () => {
  const dir = tempDir('spool');
  try {
    const line = numbered(0, 1)[0];
    const recordBytes = HEADER_BYTES + Buffer.byteLength(line) + 1;
    const { spool, drops } = await open(dir, { memoryBytes: 2 * recordBytes });
    for (let i = 0; i < 5; i++) assert.equal(appendStrings(spool, numbered(i, 1), 1), 1);
    assert.deepEqual((await readAll(spool)).flatMap((x) => numbersOf(x)), range(0, 4));
    assert.deepEqual(drops, {});
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('bad options name the option', () => {
  assert.throws(() => new DiskSpool({ dir: '/tmp/x', maxBytes: 100 }), /spool_max_bytes=100 is out of range/);
  assert.throws(() => new DiskSpool({ dir: '/tmp/x', maxBytes: 1 << 20, segmentBytes: 1 << 20 }), /spool_segment_bytes/);
  assert.throws(() => new DiskSpool({ dir: '/tmp/x', dropPolicy: 'drop_random' as never }), /spool_drop_policy/);
});

test('a spool left by another output configuration is set aside, not replayed into this one; the same one is', async () => {
  const base = tempDir('spool');
  const dir = join(base, 'kafka');
  try {
    const warnings: string[] = [];
    const log = { ...noopLogger, warn: (_o: object, msg: string) => { warnings.push(msg); } };
    const a = await open(dir, { identity: 'output=kafka format=ecs destination=kafka://k:9092/t\n' });
    appendStrings(a.spool, numbered(0, 5), 1);
    await a.spool.close();
    // Same identity: replayed.
    const again = await open(dir, { identity: 'output=kafka format=ecs destination=kafka://k:9092/t\n' });
    assert.equal(again.spool.unreadEvents, 5);
    await again.spool.close();
    // Another format: nothing replayed, the old events kept aside.
    const b = await open(dir, { identity: 'output=kafka format=osquery destination=kafka://k:9092/t\n', log });
    assert.equal(b.spool.unreadEvents, 0);
    assert.equal(await b.spool.read(10, 1 << 20), null);
    await b.spool.close();
    const aside = fs.readdirSync(base).filter((f) => f.startsWith('kafka.set-aside-'));
    assert.equal(aside.length, 1);
    assert.equal(fs.readFileSync(join(base, aside[0], 'identity'), 'utf8'), 'output=kafka format=ecs destination=kafka://k:9092/t\n');
    assert.ok(segments(join(base, aside[0])).length > 0, 'the old events are kept');
    assert.match(warnings.join('\n'), /another output configuration: set aside/);
    assert.equal(fs.readFileSync(join(dir, 'identity'), 'utf8'), 'output=kafka format=osquery destination=kafka://k:9092/t\n');
  } finally {
    removeDir(base);
  }
});

test('one daemon per spool: a lock held by a live process refuses the open; released at close', async () => {
  const dir = tempDir('spool');
  const holder = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 50));
    const lock = (d: string) => acquirePidfile(join(d, 'lock'), { option: 'spool_path' });
    fs.writeFileSync(join(dir, 'lock'), `${holder.pid}\n${processIdentity(holder.pid!)}\n`);
    await assert.rejects(open(dir, { lock }), (err) => isAncestrydError(err, 'ANC_ALREADY_RUNNING')
      && new RegExp(`another ancestryd \\(pid ${holder.pid}\\) holds .*lock: two daemons must not share a spool_path`).test(err.message));
    holder.kill();
    await new Promise((r) => holder.once('exit', r));
    const { spool } = await open(dir, { lock });
    assert.equal(Number(fs.readFileSync(join(dir, 'lock'), 'utf8').split('\n')[0]), process.pid, 'a stale lock is taken over');
    await spool.close();
    assert.ok(!fs.existsSync(join(dir, 'lock')), 'released at close');
  } finally {
    holder.kill();
    removeDir(dir);
  }
});

test('a group over what the spool can hold is split, never dropped whole: the innocent event beside 70 huge ones is kept (issue 10 item 2)', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir, { maxBytes: 64 * 1024, segmentBytes: 16 * 1024 });
    const lines = [...numbered(0, 70, 4 * 1024), ...numbered(70, 1, 100)];
    const accepted = appendStrings(spool, lines, 1);
    assert.ok(accepted >= 1, `accepted ${accepted} of 71`);
    const got = (await readAll(spool)).flatMap((b) => numbersOf(b));
    // drop_oldest: later halves push earlier ones out, and those are counted too.
    assert.equal(got.length + (drops.queue_full ?? 0) + (drops.too_large ?? 0), 71, 'every event spooled or counted');
    assert.ok(got.includes(70), 'the innocent last event is spooled');
    assert.deepEqual(got, [...got].sort((a, b) => a - b), 'in order');
    await spool.close();
  } finally {
    removeDir(dir);
  }
});

test('drop_newest keeps the part of a group that fits instead of refusing it whole', async () => {
  const dir = tempDir('spool');
  try {
    const { spool, drops } = await open(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024, dropPolicy: 'drop_newest' });
    const accepted = appendStrings(spool, numbered(0, 100, 1024), 1);
    assert.ok(accepted > 40 && accepted < 100, `accepted ${accepted} of 100`);
    assert.equal(accepted + drops.queue_full, 100);
    assert.deepEqual((await readAll(spool)).flatMap((b) => numbersOf(b)), range(0, accepted - 1), 'the oldest part, in order');
    await spool.close();
  } finally {
    removeDir(dir);
  }
});
