/**
 * A bounded, crash-safe, disk-backed FIFO of serialized events for one sink.
 *
 * Write-ahead policy (issue 4): append() writes the whole group of records
 * to the active segment with one write(2) before it returns, so an accepted
 * event is in the kernel's page cache and survives the death of the process
 * (kill -9, OOM kill). Power loss is covered only up to the fsync policy.
 * The reader keeps one position (segment, offset); recent groups also stay
 * in memory (memoryBytes) and are served from there when the position is
 * inside them, else the segment file is read (after a restart, or when the
 * sink fell behind), with checksums verified.
 *
 * Layout of `dir` (0700, files 0600):
 *   <20-digit first id>.seg   records (record.ts); the newest is the active one
 *   cursor                    id of the last acknowledged event + crc; pwritten
 *                             after every ack (16 bytes, one page: never torn
 *                             by process death; a crc mismatch reads as 0)
 *   dead-letter.log           rejected batches (sink-driver.ts)
 *   identity                  what the events are for (output, format,
 *                             destination); another one's spool is set aside
 *   lock                      the daemon holding the spool (pidfile.ts's lock)
 *
 * After a restart, events with id > cursor are delivered again: duplicates
 * are the events acknowledged after the last cursor write that the crash
 * interrupted (at most the batches in flight), never losses. A segment is
 * deleted only when all its records are acknowledged, or when it is dropped
 * (full, drop_oldest) and its unread events are counted.
 *
 * Corruption: a record whose magic, length or crc does not check out is
 * skipped by scanning to the next magic; the events lost are counted from
 * the gap in ids. A torn tail of the last segment (a write cut by a crash)
 * is truncated at start: those events were never accepted.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { AncestrydError, errCode } from '../../errors';
import { O_PRIVATE } from '../../private-dir';
import type { EventQueue } from '../queue';
import type { DropReason, EventBatch, SinkLogger } from '../sink';
import { LineEncoder, type EncodedLines } from '../encoded-lines';
import { resolveSpoolOptions, type DiskSpoolOptions, type ResolvedSpoolOptions } from './config';
import { AckCursor } from './cursor';
import { claimSpoolDir, type SpoolLock } from './spool-dir';
import { SegmentList, type Segment } from './segment-list';
import { recoverSegments } from './segment-recovery';
import { MemoryTail } from './memory-tail';
import { SegmentWriter } from './segment-writer';
import {
  HEADER_BYTES, newParsedRecord, parseRecord, resync,
} from './record';

/** Payload spans of the batch being read, copied into one buffer at the end. */
class BatchAccumulator {
  private bufs: Buffer[] = [];
  private spans: number[] = [];
  lines = 0;
  bytes = 0;
  firstId = 0;
  lastId = 0;
  firstK = 0;
  lastK = 0;

  reset(): void {
    this.bufs.length = 0;
    this.spans.length = 0;
    this.lines = 0;
    this.bytes = 0;
  }

  add(buf: Buffer, start: number, end: number, id: number, ktimeNs: number): void {
    if (this.lines === 0) {
      this.firstId = id;
      this.firstK = ktimeNs;
    }
    this.bufs.push(buf);
    this.spans.push(start, end);
    this.lines++;
    this.bytes += end - start;
    this.lastId = id;
    this.lastK = ktimeNs;
  }

  build(): EventBatch {
    const data = Buffer.allocUnsafe(this.bytes);
    let w = 0;
    const sp = this.spans;
    for (let i = 0; i < this.bufs.length; i++) w += this.bufs[i].copy(data, w, sp[2 * i], sp[2 * i + 1]);
    const b: EventBatch = {
      firstId: this.firstId, lastId: this.lastId, count: this.lines, data,
      firstKtimeNs: this.firstK, lastKtimeNs: this.lastK,
    };
    this.reset();
    return b;
  }
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}


export class DiskSpool implements EventQueue {
  readonly kind = 'disk' as const;
  readonly dir: string;
  readonly deadLetterPath: string;
  onDrop: (events: number, reason: DropReason) => void = () => {};

  private readonly o: ResolvedSpoolOptions;
  private readonly log: SinkLogger;
  private readonly lineEncoder = new LineEncoder();
  private readonly rec = newParsedRecord();
  private readonly cursor: AckCursor;

  private readonly segments: SegmentList;
  private readonly writer: SegmentWriter;
  private unread = 0;
  private oldestUnread: number | null = null;
  private fsyncTimer: NodeJS.Timeout | null = null;
  private readonly background = new Set<Promise<void>>();
  private opened = false;
  private closed = false;

  // Reader state: position of the next unread record.
  private readSeg: Segment | null = null;
  private readOffset = 0;
  private readFd = -1;
  private readFdSeg: Segment | null = null;
  private lastReadId = 0;
  private expectId = 1;
  private readBuf = Buffer.allocUnsafe(64 * 1024);
  private readonly acc = new BatchAccumulator();
  private readonly tail: MemoryTail;
  private reading: Promise<EventBatch | null> | null = null;

  private tornTailBytes = 0;
  private corruptEvents = 0;
  private cursorResets = 0;

  private lockHeld: SpoolLock | null = null;

  constructor(opts: DiskSpoolOptions) {
    this.o = resolveSpoolOptions(opts);
    this.dir = this.o.dir;
    this.log = this.o.log;
    this.deadLetterPath = join(this.dir, 'dead-letter.log');
    this.cursor = new AckCursor(this.dir, this.o.fsync, this.log);
    this.segments = new SegmentList(this.log);
    this.tail = new MemoryTail(this.o.memoryBytes);
    this.writer = new SegmentWriter({
      dir: this.dir, segmentBytes: this.o.segmentBytes, fsync: this.o.fsync, log: this.log,
      segments: this.segments, tail: this.tail, track: (p) => this.track(p),
    });
  }

  /** Figures for tests and logs. */
  get counters(): { tornTailBytes: number; corruptEvents: number; cursorResets: number; segmentsDeleted: number } {
    return {
      tornTailBytes: this.tornTailBytes, corruptEvents: this.corruptEvents,
      cursorResets: this.cursorResets, segmentsDeleted: this.segments.deletedCount,
    };
  }

  get unreadEvents(): number {
    return this.unread;
  }

  get unreadBytes(): number {
    if (this.readSeg === null) return 0;
    let n = 0;
    let seen = false;
    for (const s of this.segments.all) {
      if (s === this.readSeg) {
        seen = true;
        n += s.bytes - this.readOffset;
      } else if (seen || s.firstId > this.readSeg.firstId) {
        n += s.bytes;
      }
    }
    return Math.max(0, n);
  }

  get oldestUnreadKtimeNs(): number | null {
    return this.unread > 0 ? this.oldestUnread : null;
  }

  get storedBytes(): number {
    return this.segments.bytes;
  }

  /** Id of the last acknowledged event (the cursor). */
  get ackedThrough(): number {
    return this.cursor.ackedId;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    try {
      this.openSync();
    } catch (err) {
      this.releaseFds();
      this.lockHeld?.release();
      this.lockHeld = null;
      if (err instanceof AncestrydError) throw err;
      throw new AncestrydError('ANC_SPOOL',
        `opening spool ${this.dir} failed (${errCode(err)}): check that the directory is writable by the daemon and the disk is not full`,
        { cause: err });
    }
    this.opened = true;
    if (typeof this.o.fsync === 'number') {
      this.fsyncTimer = setInterval(() => this.syncAsync(), this.o.fsync);
      this.fsyncTimer.unref();
    }
  }

  private openSync(): void {
    this.lockHeld = claimSpoolDir(this.dir, this.o.identity, this.o.lock, this.log);
    if (this.cursor.open() === 'unreadable') {
      // Replaying from the oldest segment: duplicates, not losses.
      this.cursorResets++;
      this.log.warn({ spool: this.dir }, 'spool cursor unreadable; replaying every stored event (duplicates possible)');
    }

    const found = recoverSegments(this.dir, this.cursor.ackedId, this.segments, this.log);
    this.tornTailBytes += found.tornTailBytes;
    this.unread = found.unread;
    this.oldestUnread = found.oldestUnreadKtimeNs;
    this.writer.start(found.nextId);
    const first = this.segments.oldest!;
    this.readSeg = first;
    this.readOffset = 0;
    this.lastReadId = this.cursor.ackedId;
    this.expectId = Math.max(this.cursor.ackedId + 1, first.firstId);
  }

  /** Background fd work (fsync, close) that close() must wait for. */
  private track(p: Promise<void>): void {
    this.background.add(p);
    void p.then(() => this.background.delete(p));
  }

  /** Strings (no trailing newline): appendEncoded() for callers that hold them. */
  append(lines: readonly string[], ktimeNs: number | readonly number[]): number {
    return this.appendEncoded(this.lineEncoder.encode(lines, ktimeNs), 0);
  }

  appendEncoded(src: EncodedLines, from: number): number {
    const n = src.count - from;
    if (n <= 0) return 0;
    if (!this.opened || this.closed) {
      this.onDrop(n, 'closed');
      return 0;
    }
    const len = this.writer.measure(src, from);
    if (len > this.o.maxBytes - this.o.segmentBytes) {
      this.onDrop(n, 'too_large');
      return 0;
    }
    try {
      if (this.segments.bytes + len > this.o.maxBytes && !this.makeRoom(len)) {
        this.onDrop(n, 'queue_full');
        return 0;
      }
      this.writer.rollIfFull(len);
    } catch (err) {
      this.log.error({ spool: this.dir, err: errCode(err) }, 'spool segment could not be created; events dropped');
      this.onDrop(n, 'write_error');
      return 0;
    }
    const active = this.writer.active!;
    const fresh = active.count === 0;
    if (!this.writer.write(src, from, len)) {
      this.onDrop(n, 'write_error');
      return 0;
    }
    if (fresh && this.readSeg === null) this.readSeg = active;
    if (this.unread === 0) this.oldestUnread = src.ktimes[from];
    this.unread += n;
    return n;
  }

  /** Frees space for `len` more bytes per the drop policy; false if the new events must go. */
  private makeRoom(len: number): boolean {
    if (this.o.dropPolicy === 'drop_newest') return false;
    while (this.segments.bytes + len > this.o.maxBytes) {
      let oldest = this.segments.oldest!;
      if (oldest === this.writer.active) {
        if (oldest.bytes === 0) return false;
        this.writer.roll();
        oldest = this.segments.oldest!;
      }
      this.dropSegment(oldest);
    }
    return true;
  }

  /** Deletes the oldest segment (full): its events never read are lost and counted. */
  private dropSegment(seg: Segment): void {
    const from = Math.max(seg.firstId - 1, this.cursor.ackedId, this.lastReadId);
    const lost = Math.max(0, seg.lastId - from);
    this.segments.remove(seg);
    if (lost > 0) {
      this.unread = Math.max(0, this.unread - lost);
      this.onDrop(lost, 'queue_full');
    }
    const next = this.segments.oldest;
    if (next !== undefined) this.expectId = Math.max(this.expectId, next.firstId);
    this.log.warn({ spool: this.dir, events: lost }, 'spool full; dropped its oldest segment');
  }

  read(maxLines: number, maxBytes: number): Promise<EventBatch | null> {
    if (this.reading !== null) throw new AncestrydError('ANC_SPOOL', 'spool read while a read is pending (driver bug)');
    if (!this.opened || this.closed) return Promise.resolve(null);
    const p = this.readNext(maxLines, maxBytes).finally(() => {
      this.reading = null;
    });
    this.reading = p;
    return p;
  }

  /** The segment the reader is in, moving past deleted ones. */
  private currentReadSegment(): Segment | null {
    const s = this.readSeg;
    if (s !== null && !s.deleted) return s;
    const after = s === null ? -1 : s.firstId;
    const next = this.segments.firstAfter(after);
    this.readSeg = next;
    this.readOffset = 0;
    return next;
  }

  private async readNext(maxLines: number, maxBytes: number): Promise<EventBatch | null> {
    const rec = this.rec;
    const acc = this.acc;
    let minWant = 0;
    for (;;) {
      const seg = this.currentReadSegment();
      if (seg === null) return this.nothingUnread();
      if (this.readOffset >= seg.bytes) {
        if (seg === this.writer.active) return this.nothingUnread();
        this.readSeg = this.segments.next(seg);
        this.readOffset = 0;
        continue;
      }
      acc.reset();
      if (this.readFromTail(seg, maxLines, maxBytes)) {
        if (acc.lines > 0) return this.finishBatch();
        continue;
      }
      if (this.readFdSeg !== seg) {
        if (this.readFd >= 0) fs.closeSync(this.readFd);
        this.readFd = -1;
        this.readFdSeg = null;
        try {
          this.readFd = fs.openSync(seg.path, fs.constants.O_RDONLY | O_PRIVATE);
        } catch (err) {
          this.log.error({ spool: this.dir, segment: seg.path, err: errCode(err) }, 'spool segment unreadable; skipped');
          this.segments.remove(seg);
          continue;
        }
        this.readFdSeg = seg;
      }
      const avail = seg.bytes - this.readOffset;
      const want = Math.min(avail, Math.max(minWant, maxBytes + (maxLines + 1) * HEADER_BYTES));
      if (want > this.readBuf.length) this.readBuf = Buffer.allocUnsafe(Math.max(want, this.readBuf.length * 2));
      const buf = this.readBuf;
      const offset = this.readOffset;
      let n: number;
      try {
        n = await readAt(this.readFd, buf, want, offset);
      } catch (err) {
        this.log.error({ spool: this.dir, err: errCode(err) }, 'spool read failed; retrying');
        throw new AncestrydError('ANC_SPOOL', `reading ${seg.path} failed (${errCode(err)})`, { cause: err });
      }
      if (seg.deleted || this.readSeg !== seg || this.readOffset !== offset || this.closed) {
        if (this.closed) return null;
        continue; // dropped while we read
      }
      let pos = 0;
      while (pos < n && acc.lines < maxLines) {
        const st = parseRecord(buf, pos, n, rec);
        if (st === 'record') {
          if (!this.take(buf, maxBytes)) break;
          pos = rec.payloadEnd;
          continue;
        }
        if (st === 'incomplete') {
          if (n < avail) {
            // More of the segment to read: fetch the whole record next time.
            if (pos === 0) minWant = Math.max(rec.need, HEADER_BYTES);
            break;
          }
          // The segment ends inside a record: garbage, skip to its end.
          pos = n;
          break;
        }
        const next = resync(buf, pos + 1, n);
        // No magic left in what we read: skip all but a possibly split magic.
        pos = next >= 0 ? next : n < avail ? Math.max(pos + 1, n - 3) : n;
        if (next < 0) break;
      }
      this.readOffset = offset + pos;
      if (acc.lines === 0) continue;
      minWant = 0;
      return this.finishBatch();
    }
  }

  /**
   * Adds the record just parsed into `this.rec` (from `buf`) to the batch
   * being built, unless it was already delivered; false when it does not
   * fit the byte limit (the batch is complete).
   */
  private take(buf: Buffer, maxBytes: number): boolean {
    const rec = this.rec;
    const acc = this.acc;
    const plen = rec.payloadEnd - rec.payloadStart;
    if (acc.lines > 0 && acc.bytes + plen > maxBytes) return false;
    if (rec.id > this.lastReadId && rec.id > this.cursor.ackedId) {
      if (rec.id > this.expectId) this.countCorrupt(rec.id - this.expectId);
      acc.add(buf, rec.payloadStart, rec.payloadEnd, rec.id, rec.ktimeNs);
      this.lastReadId = rec.id;
      this.expectId = rec.id + 1;
    }
    return true;
  }

  /**
   * Serves the read from the groups this process appended and still holds
   * in memory, when the reader's position is inside them: no read(2), no
   * checksum (we computed it), one copy. Returns false when the position is
   * not in memory (the caller reads the segment file). Stops at the end of
   * a segment.
   */
  private readFromTail(seg: Segment, maxLines: number, maxBytes: number): boolean {
    const tail = this.tail;
    tail.forgetBefore(seg, this.readOffset);
    if (tail.length === 0) return false;
    const first = tail.at(0);
    if (first.seg !== seg || first.fileOffset > this.readOffset) return false;
    const rec = this.rec;
    let pos = this.readOffset;
    // Nothing below forgets groups: the indexes stay put.
    for (let i = 0; i < tail.length && this.acc.lines < maxLines; i++) {
      const g = tail.at(i);
      if (g.seg !== seg || pos < g.fileOffset || pos >= g.fileOffset + g.buf.length) break;
      let off = pos - g.fileOffset;
      let full = false;
      while (off < g.buf.length && this.acc.lines < maxLines) {
        if (parseRecord(g.buf, off, g.buf.length, rec, false) !== 'record') {
          off = g.buf.length; // cannot happen for what we encoded; the disk copy is authoritative
          break;
        }
        if (!this.take(g.buf, maxBytes)) {
          full = true;
          break;
        }
        off = rec.payloadEnd;
      }
      pos = g.fileOffset + off;
      if (full || off < g.buf.length) break;
    }
    if (pos === this.readOffset) return false; // no progress from memory: read the file
    this.readOffset = pos;
    return true;
  }

  private finishBatch(): EventBatch {
    const b = this.acc.build();
    this.unread = Math.max(0, this.unread - b.count);
    if (this.unread > 0) this.oldestUnread = b.lastKtimeNs;
    return b;
  }

  private nothingUnread(): null {
    this.unread = 0;
    this.oldestUnread = null;
    return null;
  }

  private countCorrupt(events: number): void {
    this.corruptEvents += events;
    this.unread = Math.max(0, this.unread - events);
    this.onDrop(events, 'corrupt');
    this.log.warn({ spool: this.dir, events }, 'spool records failed their checksum; skipped');
  }

  ack(lastId: number): void {
    if (lastId <= this.cursor.ackedId || this.closed || !this.opened) return;
    this.cursor.advance(lastId);
    for (let s = this.segments.oldest; s !== undefined; s = this.segments.oldest) {
      if (s === this.writer.active || s.lastId > this.cursor.ackedId) break;
      this.segments.remove(s);
    }
  }

  private syncAsync(): void {
    if (this.closed || !this.writer.takeDirty()) return;
    this.track(this.writer.syncInBackground());
    this.track(this.cursor.syncInBackground());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fsyncTimer !== null) clearInterval(this.fsyncTimer);
    this.fsyncTimer = null;
    if (this.reading !== null) await this.reading.catch(() => null);
    await Promise.all([...this.background]);
    this.tail.clear();
    if (this.o.fsync !== 'never') {
      try {
        this.writer.syncNow();
        this.cursor.syncNow();
      } catch (err) {
        this.log.warn({ spool: this.dir, err: errCode(err) }, 'spool fsync at close failed');
      }
    }
    this.releaseFds();
    this.lockHeld?.release();
    this.lockHeld = null;
  }

  private releaseFds(): void {
    this.writer.close();
    this.cursor.close();
    for (const fd of [this.readFd]) {
      if (fd >= 0) {
        try {
          fs.closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
    this.readFd = -1;
    this.readFdSeg = null;
  }
}
