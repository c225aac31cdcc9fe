/**
 * Serialized events as the sinks take them: UTF-8 lines, each ending in
 * "\n", back to back in one buffer, with one kernel timestamp per line.
 *
 * The pipeline's formats write events straight into such a buffer
 * (src/events/line-buffer.ts), once per drain pass: the file output writes
 * it as it is and the spool copies it, so an event is never held as a
 * JavaScript string nor encoded twice.
 */
export interface EncodedLines {
  /** Line i spans [i === 0 ? 0 : ends[i - 1], ends[i]); bytes past ends[count - 1] mean nothing. */
  readonly data: Buffer;
  readonly ends: ArrayLike<number>;
  /** CLOCK_BOOTTIME ns of each line's event. */
  readonly ktimes: ArrayLike<number>;
  readonly count: number;
}

export function lineStart(src: EncodedLines, i: number): number {
  return i === 0 ? 0 : src.ends[i - 1];
}

const NEWLINE = 0x0a;
/** UTF-8 bytes per UTF-16 code unit at most: a bound that needs no byteLength() pass. */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Strings to EncodedLines, into buffers reused from call to call: for
 * callers that hold events as strings (tests, tools). The result is valid
 * until the next encode().
 */
export class LineEncoder implements EncodedLines {
  data: Buffer = Buffer.allocUnsafe(64 * 1024);
  readonly ends: number[] = [];
  readonly ktimes: number[] = [];
  count = 0;

  /** JSON lines without their "\n"; one CLOCK_BOOTTIME for all or one per line. */
  encode(lines: readonly string[], ktimeNs: number | readonly number[]): EncodedLines {
    let off = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (off + line.length * MAX_UTF8_PER_UNIT + 1 > this.data.length) {
        const need = off + Buffer.byteLength(line) + 1;
        if (need > this.data.length) {
          let size = this.data.length * 2;
          while (size < need) size *= 2;
          const next = Buffer.allocUnsafe(size);
          this.data.copy(next, 0, 0, off);
          this.data = next;
        }
      }
      off += this.data.write(line, off, 'utf8');
      this.data[off++] = NEWLINE;
      this.ends[i] = off;
      this.ktimes[i] = typeof ktimeNs === 'number' ? ktimeNs : ktimeNs[i];
    }
    this.count = lines.length;
    return this;
  }
}
