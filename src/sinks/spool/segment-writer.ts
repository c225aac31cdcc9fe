/**
 * Appends groups of records to size-bounded segment files, each group with
 * one write(2); a group that would take the active segment past
 * spool_segment_bytes starts a new one. One write per group is the spool's
 * write-ahead promise (issue 4): when the append returns, the whole group
 * is in the page cache and outlives the process. A write that fails part
 * way is cut back to where the group began, so a later group never follows
 * half of one. The size bound is what lets acknowledged events free disk:
 * a segment is deleted whole, once every record in it is done.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { errCode } from '../../errors';
import { O_PRIVATE } from '../../private-dir';
import type { EncodedLines } from '../encoded-lines';
import type { FsyncPolicy } from '../fsync-policy';
import type { SinkLogger } from '../sink';
import type { MemoryTail } from './memory-tail';
import { RecordEncoder } from './record';
import { newSegment, segmentFileName, type Segment, type SegmentList } from './segment-list';
import { SpoolFd } from './spool-fd';

export interface SegmentWriterOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly log: SinkLogger;
  /** Where new segments are added and appends are counted. */
  readonly segments: SegmentList;
  /** Where a group that fits is encoded, so the reader can take it from memory. */
  readonly tail: MemoryTail;
  /** Takes background work (a finished segment's fsync and close) that the spool's close() must wait for. */
  readonly track: (p: Promise<void>) => void;
}

export class SegmentWriter {
  /** The active segment's; synced and closed by the spool. */
  readonly file = new SpoolFd();
  private seg: Segment | null = null;
  private next = 1;
  private dirty = false;
  private readonly encoder = new RecordEncoder();

  constructor(private readonly o: SegmentWriterOptions) {}

  /** The segment being written; null before start(). */
  get active(): Segment | null {
    return this.seg;
  }

  /** Starts a new segment whose first event gets `nextId` (ids below it are the recovered segments'). */
  start(nextId: number): void {
    this.next = nextId;
    this.roll();
  }

  /** Starts a new segment named for the next id; the finished one is synced and closed in the background. */
  roll(): void {
    const seg = newSegment(join(this.o.dir, segmentFileName(this.next)), this.next);
    const fd = fs.openSync(seg.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT
      | fs.constants.O_TRUNC | O_PRIVATE, 0o600);
    if (this.file.fd >= 0) this.retire(this.file.fd);
    this.file.fd = fd;
    this.seg = seg;
    this.o.segments.add(seg);
  }

  /**
   * Rolls when `len` more bytes would take the active segment past the
   * limit. An empty segment takes any group: a group larger than the limit
   * gets a segment of its own rather than never being stored.
   */
  rollIfFull(len: number): void {
    const seg = this.seg!;
    if (seg.bytes > 0 && seg.bytes + len > this.o.segmentBytes) this.roll();
  }

  /** Bytes the records of src's lines [from, count) take. */
  measure(src: EncodedLines, from: number): number {
    return this.encoder.measure(src, from);
  }

  /**
   * Writes the records of src's lines [from, count), `len` bytes as
   * measure() gave, at the end of the active segment. False when the write
   * failed (logged; the segment is left ending on a whole record).
   */
  write(src: EncodedLines, from: number, len: number): boolean {
    const seg = this.seg!;
    const n = src.count - from;
    // Encode straight into the memory tail when the group fits it (the
    // reader then serves it without reading it back), else into scratch.
    const kept = this.o.tail.fits(len);
    const buf = kept ? this.o.tail.reserve(seg, len) : this.encoder.encode(src, from, this.next);
    if (kept) this.encoder.encodeAt(buf, 0, src, from, this.next);
    let written = 0;
    try {
      while (written < len) written += fs.writeSync(this.file.fd, buf, written, len - written);
    } catch (err) {
      try {
        if (written > 0) fs.ftruncateSync(this.file.fd, seg.bytes);
      } catch {
        // the torn tail is found and cut at the next start
      }
      if (kept) this.o.tail.unreserve();
      this.o.log.error({ spool: this.o.dir, err: errCode(err) }, 'spool write failed; events dropped');
      return false;
    }
    if (this.o.fsync === 'batch') fs.fsyncSync(this.file.fd);
    else this.dirty = true;
    this.o.segments.appended(seg, len, this.next, n);
    this.next += n;
    return true;
  }

  /** Whether anything was written since the last call: the interval fsync skips a quiet spool. */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  /** Closes a finished segment's fd after forcing its data out when the policy asks for it. */
  private retire(fd: number): void {
    this.o.track(new Promise<void>((resolve) => {
      if (this.o.fsync === 'never') fs.close(fd, () => resolve());
      else fs.fsync(fd, () => fs.close(fd, () => resolve()));
    }));
  }
}
