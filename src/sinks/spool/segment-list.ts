/**
 * The spool's segment files, oldest first, with the bytes they hold
 * together. The writer adds the newest, the reader walks the list and the
 * spool deletes from its front; the total changes only with the list, so
 * the bound on disk use (spool_max_bytes) is checked against what the files
 * hold. A segment is named for the id of its first record, in 20 digits so
 * that names sort as ids do, and is deleted whole: freeing disk one file at
 * a time needs no compaction and leaves no partly valid file behind.
 */
import * as fs from 'node:fs';
import { errCode } from '../../errors';
import type { SinkLogger } from '../sink';

export interface Segment {
  /** The id its first record has (or would have): also its file name. */
  readonly firstId: number;
  lastId: number;
  count: number;
  bytes: number;
  readonly path: string;
  /** Set when it leaves the list: a reader holding it moves on. */
  deleted: boolean;
}

export const SEGMENT_RE = /^(\d{20})\.seg$/;

export function segmentFileName(firstId: number): string {
  return String(firstId).padStart(20, '0') + '.seg';
}

/** A segment with no records yet; `bytes` as its file holds. */
export function newSegment(path: string, firstId: number, bytes = 0): Segment {
  return { firstId, lastId: firstId - 1, count: 0, bytes, path, deleted: false };
}

/** Unlinks a segment file; a failure is logged (the space stays used until the next start deletes it). */
export function deleteSegmentFile(path: string, log: SinkLogger): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if (errCode(err) !== 'ENOENT') log.warn({ path, err: errCode(err) }, 'spool segment could not be deleted');
  }
}

export class SegmentList {
  private list: Segment[] = [];
  private total = 0;

  constructor(private readonly log: SinkLogger) {}

  get all(): readonly Segment[] {
    return this.list;
  }

  get oldest(): Segment | undefined {
    return this.list[0];
  }

  /** Bytes of all segment files. */
  get bytes(): number {
    return this.total;
  }

  /** Adds a segment newer than every other. */
  add(seg: Segment): void {
    this.list.push(seg);
    this.total += seg.bytes;
  }

  /** Records that `events` records with ids from `firstId`, `bytes` in all, were written at the end of `seg`. */
  appended(seg: Segment, bytes: number, firstId: number, events: number): void {
    seg.bytes += bytes;
    seg.count += events;
    seg.lastId = firstId + events - 1;
    this.total += bytes;
  }

  /** Takes `seg` out of the list and deletes its file. */
  remove(seg: Segment): void {
    const i = this.list.indexOf(seg);
    if (i >= 0) this.list.splice(i, 1);
    seg.deleted = true;
    this.total -= seg.bytes;
    deleteSegmentFile(seg.path, this.log);
  }

  /** The oldest segment whose ids start after `firstId`, or null. */
  firstAfter(firstId: number): Segment | null {
    return this.list.find((x) => x.firstId > firstId) ?? null;
  }

  /** The segment after `seg` in the list, or null. */
  next(seg: Segment): Segment | null {
    return this.list[this.list.indexOf(seg) + 1] ?? null;
  }
}
