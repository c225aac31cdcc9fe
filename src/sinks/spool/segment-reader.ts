/**
 * Reads the next batch of unread events, in id order, from one position
 * (segment, offset) that only moves forward. Where the memory tail still
 * holds the bytes at the position they are taken from there, with no
 * read(2) and no checksum (this process computed it); otherwise, after a
 * restart or when the sink fell behind, the segment file is read and every
 * record checked. A record that fails its checks is skipped by scanning
 * for the next magic, and the events lost are counted from the gap in ids,
 * since a damaged record's own id cannot be trusted. The position is not
 * persisted (the cursor is): events read but not acknowledged before a
 * crash must be read again, so after a restart the reader starts at the
 * oldest segment and passes over ids at or below the cursor.
 */
import * as fs from 'node:fs';
import { AncestrydError, errCode } from '../../errors';
import { O_PRIVATE } from '../../private-dir';
import type { EventBatch, SinkLogger } from '../sink';
import { BatchAccumulator } from './batch-accumulator';
import type { MemoryTail } from './memory-tail';
import { HEADER_BYTES, newParsedRecord, parseRecord, resync } from './record';
import type { Segment, SegmentList } from './segment-list';
import { SpoolFd } from './spool-fd';
import type { UnreadTally } from './unread-tally';

export interface SegmentReaderOptions {
  readonly dir: string;
  readonly log: SinkLogger;
  readonly segments: SegmentList;
  readonly tail: MemoryTail;
  readonly unread: UnreadTally;
  /** Events at or below its id are done: the reader passes over them. */
  readonly cursor: { readonly ackedId: number };
  /** At the end of the segment being written the reader waits instead of moving on. */
  readonly writer: { readonly active: Segment | null };
  /** Events lost to records that failed their checks, as the reader finds them. */
  readonly onCorrupt: (events: number) => void;
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export class SegmentReader {
  private seg: Segment | null = null;
  private offset = 0;
  private readonly file = new SpoolFd();
  private fdSeg: Segment | null = null;
  private lastId = 0;
  /** The id the next record should have; a higher one means records were lost between. */
  private expectId = 1;
  private buf = Buffer.allocUnsafe(64 * 1024);
  private readonly rec = newParsedRecord();
  private readonly acc = new BatchAccumulator();
  private stopped = false;

  constructor(private readonly o: SegmentReaderOptions) {}

  /** Positions the reader at the start of `first`, after the acknowledged id. */
  start(first: Segment, ackedId: number): void {
    this.seg = first;
    this.offset = 0;
    this.lastId = ackedId;
    this.expectId = Math.max(ackedId + 1, first.firstId);
  }

  /** Id of the last event read. */
  get lastReadId(): number {
    return this.lastId;
  }

  /** The segments before one starting at `firstId` were dropped: ids below it are not lost to corruption. */
  skipTo(firstId: number): void {
    this.expectId = Math.max(this.expectId, firstId);
  }

  /** A first group was written to `seg`: a reader with no segment left starts there. */
  writingTo(seg: Segment): void {
    if (this.seg === null) this.seg = seg;
  }

  /** Bytes of the segments from the position on. */
  get unreadBytes(): number {
    const at = this.seg;
    if (at === null) return 0;
    let n = 0;
    let seen = false;
    for (const s of this.o.segments.all) {
      if (s === at) {
        seen = true;
        n += s.bytes - this.offset;
      } else if (seen || s.firstId > at.firstId) {
        n += s.bytes;
      }
    }
    return Math.max(0, n);
  }

  /**
   * The next events after the last read, up to the limits (at least one
   * event); null when none is unread, or when stop() was called meanwhile.
   */
  async next(maxLines: number, maxBytes: number): Promise<EventBatch | null> {
    const rec = this.rec;
    const acc = this.acc;
    let minWant = 0;
    for (;;) {
      const seg = this.currentSegment();
      if (seg === null) return this.nothingUnread();
      if (this.offset >= seg.bytes) {
        if (seg === this.o.writer.active) return this.nothingUnread();
        this.seg = this.o.segments.next(seg);
        this.offset = 0;
        continue;
      }
      acc.reset();
      if (this.readFromTail(seg, maxLines, maxBytes)) {
        if (acc.lines > 0) return this.finishBatch();
        continue;
      }
      if (this.fdSeg !== seg) {
        if (this.file.fd >= 0) fs.closeSync(this.file.fd);
        this.file.fd = -1;
        this.fdSeg = null;
        try {
          this.file.fd = fs.openSync(seg.path, fs.constants.O_RDONLY | O_PRIVATE);
        } catch (err) {
          this.o.log.error({ spool: this.o.dir, segment: seg.path, err: errCode(err) }, 'spool segment unreadable; skipped');
          this.o.segments.remove(seg);
          continue;
        }
        this.fdSeg = seg;
      }
      const avail = seg.bytes - this.offset;
      const want = Math.min(avail, Math.max(minWant, maxBytes + (maxLines + 1) * HEADER_BYTES));
      if (want > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(want, this.buf.length * 2));
      const buf = this.buf;
      const offset = this.offset;
      let n: number;
      try {
        n = await readAt(this.file.fd, buf, want, offset);
      } catch (err) {
        this.o.log.error({ spool: this.o.dir, err: errCode(err) }, 'spool read failed; retrying');
        throw new AncestrydError('ANC_SPOOL', `reading ${seg.path} failed (${errCode(err)})`, { cause: err });
      }
      if (seg.deleted || this.seg !== seg || this.offset !== offset || this.stopped) {
        if (this.stopped) return null;
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
      this.offset = offset + pos;
      if (acc.lines === 0) continue;
      minWant = 0;
      return this.finishBatch();
    }
  }

  /** A read in flight returns null instead of a batch: the spool is closing. */
  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.file.close();
    this.fdSeg = null;
  }

  /** The segment the reader is in, moving past deleted ones. */
  private currentSegment(): Segment | null {
    const s = this.seg;
    if (s !== null && !s.deleted) return s;
    const next = this.o.segments.firstAfter(s === null ? -1 : s.firstId);
    this.seg = next;
    this.offset = 0;
    return next;
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
    if (rec.id > this.lastId && rec.id > this.o.cursor.ackedId) {
      if (rec.id > this.expectId) this.o.onCorrupt(rec.id - this.expectId);
      acc.add(buf, rec.payloadStart, rec.payloadEnd, rec.id, rec.ktimeNs);
      this.lastId = rec.id;
      this.expectId = rec.id + 1;
    }
    return true;
  }

  /**
   * Serves the read from the memory tail when the position is inside what
   * it holds: no read(2), no checksum (we computed it), one copy. Returns
   * false when the position is not in memory (the caller reads the segment
   * file). Stops at the end of a segment.
   */
  private readFromTail(seg: Segment, maxLines: number, maxBytes: number): boolean {
    const tail = this.o.tail;
    tail.forgetBefore(seg, this.offset);
    if (tail.length === 0) return false;
    const first = tail.at(0);
    if (first.seg !== seg || first.fileOffset > this.offset) return false;
    const rec = this.rec;
    let pos = this.offset;
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
    if (pos === this.offset) return false; // no progress from memory: read the file
    this.offset = pos;
    return true;
  }

  private finishBatch(): EventBatch {
    const b = this.acc.build();
    this.o.unread.read(b.count, b.lastKtimeNs);
    return b;
  }

  private nothingUnread(): null {
    this.o.unread.none();
    return null;
  }
}
