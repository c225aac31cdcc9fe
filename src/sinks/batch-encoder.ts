/**
 * Encodes serialized events as newline-terminated UTF-8 lines into one
 * reused buffer, for sinks that write synchronously (Sink.deliverNow): no
 * joined copy of the lines and no new Buffer per drain pass.
 *
 * A batch stops before `maxBytes` (it always holds at least one line), so
 * the buffer stays near that size whatever a drain pass hands over.
 */
const NEWLINE = 0x0a;
/** UTF-8 bytes per UTF-16 code unit at most: a bound that needs no byteLength() pass. */
const MAX_UTF8_PER_UNIT = 3;

export class BatchEncoder {
  private buf: Buffer;
  private used = 0;

  constructor(private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.min(maxBytes, 64 * 1024));
  }

  /**
   * Encodes lines[from …] until the next line would pass maxBytes; returns
   * the index after the last line encoded. The bytes are `view()` until the
   * next call.
   */
  encode(lines: readonly string[], from: number): number {
    let off = 0;
    let i = from;
    for (; i < lines.length; i++) {
      const line = lines[i];
      let need = line.length * MAX_UTF8_PER_UNIT + 1;
      if (off + need > this.maxBytes || off + need > this.buf.length) {
        need = Buffer.byteLength(line) + 1;
        if (off > 0 && off + need > this.maxBytes) break;
        if (off + need > this.buf.length) this.grow(off + need, off);
      }
      off += this.buf.write(line, off, 'utf8');
      this.buf[off++] = NEWLINE;
    }
    this.used = off;
    return i;
  }

  /** The bytes of the last encode(). */
  view(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  private grow(min: number, keep: number): void {
    let size = this.buf.length;
    while (size < min) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, keep);
    this.buf = next;
  }
}
