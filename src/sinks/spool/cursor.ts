/**
 * The spool's ledger: the id of the last event the sink is done with,
 * persisted, so that a restart resumes after it. Nothing else is kept: the
 * next id and the segments are rebuilt from the segment files at open, and
 * what was read but not acknowledged when the process died must be
 * delivered again, so the reader's own position is deliberately forgotten.
 *
 * The file `cursor` is 16 bytes, rewritten in place after every ack:
 *   0  u64 id of the last acknowledged event
 *   8  u32 crc32 of bytes [0, 8)
 *  12  u32 magic "ACUR"
 * One 16-byte pwrite at offset 0 lies within a page, so the death of the
 * process cannot tear it; power loss can (up to the fsync policy), and a
 * cursor that does not check out reads as 0: every stored event is
 * replayed, duplicates rather than losses.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { errCode } from '../../errors';
import { O_PRIVATE } from '../../private-dir';
import { readU64, writeU64 } from '../../u64-le';
import type { FsyncPolicy } from '../fsync-policy';
import type { SinkLogger } from '../sink';
import { crc32 } from './crc32';
import { SpoolFd } from './spool-fd';

const CURSOR_MAGIC = 0x52554341; // "ACUR"
const CURSOR_BYTES = 16;

/** What open() found: no cursor yet, a valid one, or one that did not check out (read as 0). */
export type CursorLoad = 'new' | 'read' | 'unreadable';

export class AckCursor {
  /** Synced and closed by the spool. */
  readonly file = new SpoolFd();
  private acked = 0;
  private readonly buf = Buffer.alloc(CURSOR_BYTES);

  constructor(private readonly dir: string, private readonly fsync: FsyncPolicy, private readonly log: SinkLogger) {}

  /** Id of the last acknowledged event; 0 when none. */
  get ackedId(): number {
    return this.acked;
  }

  /** Opens (or creates) dir/cursor and loads the id it holds. */
  open(): CursorLoad {
    const fd = fs.openSync(join(this.dir, 'cursor'), fs.constants.O_RDWR | fs.constants.O_CREAT | O_PRIVATE, 0o600);
    this.file.fd = fd;
    const b = this.buf;
    const n = fs.readSync(fd, b, 0, CURSOR_BYTES, 0);
    if (n === CURSOR_BYTES && b.readUInt32LE(12) === CURSOR_MAGIC && b.readUInt32LE(8) === crc32(b.subarray(0, 8))) {
      this.acked = readU64(b, 0);
      return 'read';
    }
    return n === 0 ? 'new' : 'unreadable';
  }

  /**
   * Moves the cursor to `id` and writes it. A failed write is logged, not
   * thrown: the events stay on disk and a restart delivers them again.
   */
  advance(id: number): void {
    this.acked = id;
    const b = this.buf;
    writeU64(b, 0, id);
    b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
    b.writeUInt32LE(CURSOR_MAGIC, 12);
    try {
      fs.writeSync(this.file.fd, b, 0, CURSOR_BYTES, 0);
      if (this.fsync === 'batch') fs.fsyncSync(this.file.fd);
    } catch (err) {
      this.log.warn({ spool: this.dir, err: errCode(err) }, 'spool cursor write failed (duplicates possible after restart)');
    }
  }
}
