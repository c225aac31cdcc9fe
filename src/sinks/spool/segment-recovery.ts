/**
 * Rebuilds the spool's state at open from the segment files a previous run
 * left: which segments still hold unacknowledged events, how many, and the
 * next id to hand out (ids are never reused, so a restart continues after
 * the highest one found, even in a segment deleted as acknowledged). A torn
 * tail of the newest segment, a write a crash cut short, is cut off: that
 * append never returned, so nothing accepted is lost, and new appends then
 * follow whole records. Records that fail their checks elsewhere are left
 * for the reader, which counts them when it meets them.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { SinkLogger } from '../sink';
import { newParsedRecord, parseRecord, resync } from './record';
import { deleteSegmentFile, newSegment, SEGMENT_RE, type Segment, type SegmentList } from './segment-list';

export interface Recovered {
  /** The id the next appended event gets. */
  nextId: number;
  /** Events after the acknowledged id. */
  unread: number;
  /** CLOCK_BOOTTIME ns of the first of them, or null. */
  oldestUnreadKtimeNs: number | null;
}

/**
 * Adds to `segments` every segment file in `dir` that holds an event after
 * `ackedId`, and deletes the others.
 */
export function recoverSegments(dir: string, ackedId: number, segments: SegmentList, log: SinkLogger): Recovered {
  const out: Recovered = { nextId: 0, unread: 0, oldestUnreadKtimeNs: null };
  const names = fs.readdirSync(dir).filter((f) => SEGMENT_RE.test(f)).sort();
  let maxId = ackedId;
  for (let i = 0; i < names.length; i++) {
    const seg = scanSegment(dir, names[i], i === names.length - 1, ackedId, out, log);
    maxId = Math.max(maxId, seg.lastId);
    if (seg.count === 0 || seg.lastId <= ackedId) {
      deleteSegmentFile(seg.path, log);
      continue;
    }
    segments.add(seg);
  }
  out.nextId = maxId + 1;
  return out;
}

/** Counts one segment's valid records into `out`; cuts the torn tail of the newest (`last`). */
function scanSegment(dir: string, name: string, last: boolean, ackedId: number, out: Recovered, log: SinkLogger): Segment {
  const path = join(dir, name);
  const buf = fs.readFileSync(path);
  const seg = newSegment(path, Number(SEGMENT_RE.exec(name)![1]), buf.length);
  const rec = newParsedRecord();
  let off = 0;
  let validEnd = 0;
  while (off < buf.length) {
    const st = parseRecord(buf, off, buf.length, rec);
    if (st === 'record' && rec.id > seg.lastId) {
      seg.count++;
      seg.lastId = rec.id;
      if (rec.id > ackedId) {
        if (out.unread === 0) out.oldestUnreadKtimeNs = rec.ktimeNs;
        out.unread++;
      }
      off = rec.payloadEnd;
      validEnd = off;
      continue;
    }
    if (st === 'incomplete') break;
    const next = resync(buf, off + 1, buf.length);
    if (next < 0) break;
    off = next;
  }
  if (last && validEnd < buf.length) {
    fs.truncateSync(path, validEnd);
    seg.bytes = validEnd;
    log.warn({ spool: dir, segment: name, bytes: buf.length - validEnd },
      'spool segment had a torn tail (crash during a write); truncated');
  }
  return seg;
}
