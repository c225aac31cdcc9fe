/** Segment files built byte by byte for the spool's role tests, as a previous run would have left them. */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { LineEncoder } from '../../support/string-lines';
import { RecordEncoder } from '../../../src/sinks/spool/record';
import { segmentFileName } from '../../../src/sinks/spool/segment-list';
import { numbered } from '../sink-test-helpers';

/** Records of events {"n":from}…{"n":from+count-1} with ids firstId…, ktime 1000 + n. */
export function recordBytes(firstId: number, from: number, count: number): Buffer {
  const lines = numbered(from, count);
  const ktimes = lines.map((_, i) => 1000 + from + i);
  return Buffer.from(new RecordEncoder().encode(new LineEncoder().encode(lines, ktimes), 0, firstId));
}

/** Writes `bytes` as the segment named for firstId; returns its path. */
export function writeSegmentFile(dir: string, firstId: number, bytes: Buffer): string {
  const path = join(dir, segmentFileName(firstId));
  fs.writeFileSync(path, bytes, { mode: 0o600 });
  return path;
}

/** Length of the first record in `bytes`. */
export function firstRecordLength(bytes: Buffer): number {
  return 32 + bytes.readUInt32LE(4);
}
