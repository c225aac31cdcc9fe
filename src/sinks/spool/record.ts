/**
 * The spool's on-disk record: a 32-byte header and one serialized event.
 *
 *   0  u32 magic "ASPL"      lets a reader resynchronise after a bad record
 *   4  u32 payload length    bytes, including the event's trailing "\n"
 *   8  u32 crc32             over bytes [12, 32 + length)
 *  12  u32 reserved (0)
 *  16  u64 id                increasing by one per event, never reused
 *  24  u64 ktime ns          CLOCK_BOOTTIME of the event (lag, latency)
 *  32  payload
 *
 * Little-endian. Ids and ktimes stay below 2^53 and are Numbers in memory.
 */
import { readU64, writeU64 } from '../../u64-le';
import { lineStart, type EncodedLines } from '../encoded-lines';
import { crc32 } from './crc32';

export const RECORD_MAGIC = 0x4c505341;
export const MAGIC_BYTES = Buffer.from([0x41, 0x53, 0x50, 0x4c]);
export const HEADER_BYTES = 32;
/** A longer payload is taken for corruption: the longest event (argv and a 64-deep lineage) is far below. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * Encodes a run of encoded lines as consecutive records, so a group is one
 * write(2): measure() sizes it exactly, encodeAt() writes it where the
 * caller wants it (the spool's in-memory arena), encode() into a reused
 * scratch buffer.
 */
export class RecordEncoder {
  private scratch = Buffer.allocUnsafe(256 * 1024);

  /** Bytes the records of src's lines [from, count) take. */
  measure(src: EncodedLines, from: number): number {
    return (src.count - from) * HEADER_BYTES + src.ends[src.count - 1] - lineStart(src, from);
  }

  /**
   * Writes the records of src's lines [from, count) at `off` of `b` (which
   * must hold them) with ids firstId, firstId+1, …. Returns the bytes written.
   */
  encodeAt(b: Buffer, off: number, src: EncodedLines, from: number, firstId: number): number {
    const start = off;
    for (let i = from; i < src.count; i++) {
      const p = off + HEADER_BYTES;
      const lo = lineStart(src, i);
      const len = src.ends[i] - lo;
      src.data.copy(b, p, lo, lo + len);
      b.writeUInt32LE(RECORD_MAGIC, off);
      b.writeUInt32LE(len, off + 4);
      b.writeUInt32LE(0, off + 12);
      writeU64(b, off + 16, firstId + i - from);
      writeU64(b, off + 24, src.ktimes[i]);
      b.writeUInt32LE(crc32(b.subarray(off + 12, p + len)), off + 8);
      off = p + len;
    }
    return off - start;
  }

  /** measure() + encodeAt() into the reused scratch buffer; valid until the next call. */
  encode(src: EncodedLines, from: number, firstId: number): Buffer {
    const total = this.measure(src, from);
    if (total > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
    return this.scratch.subarray(0, this.encodeAt(this.scratch, 0, src, from, firstId));
  }
}

export type ParseStatus = 'record' | 'incomplete' | 'corrupt';

/** Parser output, reused across calls (no per-record objects). */
export interface ParsedRecord {
  id: number;
  ktimeNs: number;
  payloadStart: number;
  payloadEnd: number;
  /** Incomplete: bytes needed from `off` to hold the whole record (0 if the header itself is cut). */
  need: number;
}

/**
 * Parses the record at `off` of buf[0, end). `verify` = false skips the
 * checksum, for records this process encoded itself and kept in memory.
 */
export function parseRecord(buf: Buffer, off: number, end: number, out: ParsedRecord, verify = true): ParseStatus {
  if (end - off < HEADER_BYTES) {
    out.need = 0;
    return 'incomplete';
  }
  if (buf.readUInt32LE(off) !== RECORD_MAGIC) return 'corrupt';
  const len = buf.readUInt32LE(off + 4);
  if (len === 0 || len > MAX_PAYLOAD_BYTES) return 'corrupt';
  if (end - off < HEADER_BYTES + len) {
    out.need = HEADER_BYTES + len;
    return 'incomplete';
  }
  const pEnd = off + HEADER_BYTES + len;
  if (verify && buf.readUInt32LE(off + 8) !== crc32(buf.subarray(off + 12, pEnd))) return 'corrupt';
  if (buf[pEnd - 1] !== 0x0a) return 'corrupt';
  out.id = readU64(buf, off + 16);
  out.ktimeNs = readU64(buf, off + 24);
  out.payloadStart = off + HEADER_BYTES;
  out.payloadEnd = pEnd;
  return 'record';
}

/** Offset of the next possible record start after a corrupt one, or -1. */
export function resync(buf: Buffer, from: number, end: number): number {
  const i = buf.indexOf(MAGIC_BYTES, from);
  return i < 0 || i >= end ? -1 : i;
}

export function newParsedRecord(): ParsedRecord {
  return { id: 0, ktimeNs: 0, payloadStart: 0, payloadEnd: 0, need: 0 };
}
