/**
 * The serialized events of one drain pass: formats write each event as
 * UTF-8 JSON straight into one reused buffer, ending each line with "\n"
 * (it satisfies src/sinks/encoded-lines.ts's EncodedLines).
 *
 * Why bytes, not strings: an exec line is 4–8 KB. Built as a string it was
 * a tree of ~70 pieces that V8 flattened into a new string and then encoded
 * again, ~3 µs and ~10 KB of garbage per exec (tools/bench/bench-sinks.ts);
 * written here, the cached ancestor texts are copied as bytes and the short
 * values are written in place.
 */
import { jsonContent } from './json-text';

const NEWLINE = 0x0a;
/** Below this length a JS loop beats a call into the buffer's native write. */
const SHORT = 32;

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

export class LineBuffer {
  data: Buffer;
  /** Where the next byte goes. */
  pos = 0;
  /** End (after its "\n") and CLOCK_BOOTTIME of each finished line. */
  readonly ends: number[] = [];
  readonly ktimes: number[] = [];
  count = 0;

  constructor(initialBytes = 256 * 1024) {
    this.data = Buffer.allocUnsafe(initialBytes);
  }

  /**
   * Forgets every line; the buffer is kept (the pipeline hands a pass's
   * lines over every MiB, so it stays near that size).
   */
  reset(): void {
    this.pos = 0;
    this.count = 0;
  }

  /** Drops what was written since the last finished line (a format that threw midway). */
  abandon(): void {
    this.pos = this.count === 0 ? 0 : this.ends[this.count - 1];
  }

  /** Bytes of the line being written so far. */
  get lineBytes(): number {
    return this.pos - (this.count === 0 ? 0 : this.ends[this.count - 1]);
  }

  /** Finishes the line being written. */
  end(ktimeNs: number): void {
    this.room(1);
    this.data[this.pos++] = NEWLINE;
    this.ends[this.count] = this.pos;
    this.ktimes[this.count] = ktimeNs;
    this.count++;
  }

  /** Line i as a string, without its "\n". */
  text(i: number): string {
    return this.data.toString('utf8', i === 0 ? 0 : this.ends[i - 1], this.ends[i] - 1);
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    this.data.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string known to be ASCII with nothing JSON escapes (ids, names, numbers as text). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const d = this.data;
    let p = this.pos;
    if (n < SHORT) for (let i = 0; i < n; i++) d[p++] = s.charCodeAt(i);
    else p += d.write(s, p, n, 'latin1');
    this.pos = p;
  }

  /** A non-negative integer below 2^53, or any other number as JavaScript prints it. */
  int(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) {
      this.ascii(String(n));
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(digits);
    const d = this.data;
    let p = this.pos + digits;
    this.pos = p;
    let x = n;
    do {
      const q = Math.floor(x / 10);
      d[--p] = 0x30 + (x - q * 10);
      x = q;
    } while (x > 0);
  }

  /** A non-negative bigint (a u64 the kernel gave) without making its string when it is below 2^53. */
  u64(n: bigint): void {
    if (n <= MAX_SAFE_BIGINT) this.int(Number(n));
    else this.ascii(n.toString());
  }

  /**
   * Any string as the content of a JSON string (escaped, without quotes),
   * UTF-8. Returns the string's own UTF-8 length (osquery's *_size columns).
   */
  json(s: string): number {
    const n = s.length;
    this.room(n);
    const d = this.data;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c >= 0x80 || c === 0x22 || c === 0x5c) {
        // Rare: escapes or non-ASCII. Rewrite the whole value the slow way.
        this.pos = start;
        this.utf8(jsonContent(s));
        return Buffer.byteLength(s, 'utf8');
      }
      d[p++] = c;
    }
    this.pos = p;
    return n;
  }

  /** Text that is already valid JSON where it goes (escaped), any characters. */
  utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.data.write(s, this.pos, 'utf8');
  }

  private room(n: number): void {
    if (this.pos + n <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.data.copy(next, 0, 0, this.pos);
    this.data = next;
  }
}
