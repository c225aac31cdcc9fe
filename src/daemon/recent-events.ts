/**
 * The last events as their serialized lines, for `ancestryd events`: a ring
 * bounded by count (admin_recent_events) and by bytes, so memory stays
 * bounded whatever a line weighs (an exec line carries its whole lineage,
 * several KB).
 *
 * The lines are copied as UTF-8 (from the drain pass's buffer) into one
 * buffer outside the JavaScript heap.
 * Holding the line strings instead made every one of them survive into V8's
 * old generation: at 600 exec/s the garbage collector's threads then spent
 * 10–20 µs per exec promoting and sweeping them (measured with
 * admin_recent_events=0 beside the default).
 */

/**
 * Line bytes held at most: the soak showed 10 000 lines of 7 KB costing
 * ~450 MB of RSS as strings. Any 4 MiB of events fill it, so its pages count
 * in the daemon's RSS under load: at 16 MiB they were half of the measured
 * RSS per held process (3.0–3.3 KB with it, 1.5–1.7 KB without: 10 000
 * processes held, /proc/PID/smaps). 4 MiB holds ~600 exec lines at depth 10,
 * minutes of a typical host's execs.
 */
export const RECENT_EVENTS_MAX_BYTES = 4 * 1024 * 1024;

export class RecentEvents {
  /** Allocated on the first push; larger than maxBytes only while holding one oversized line. */
  private buf: Buffer | null = null;
  private readonly pids: Int32Array;
  private readonly starts: Int32Array;
  private readonly lens: Int32Array;
  /** Oldest held slot and how many are held. */
  private head = 0;
  private count = 0;
  /** Where the next line goes; lines lie in address order from the oldest, wrapping to 0. */
  private writeAt = 0;

  constructor(readonly capacity: number, readonly maxBytes = RECENT_EVENTS_MAX_BYTES) {
    const slots = Math.max(1, capacity);
    this.pids = new Int32Array(slots);
    this.starts = new Int32Array(slots);
    this.lens = new Int32Array(slots);
  }

  /** One line: bytes [start, end) of src (UTF-8, without its newline). */
  push(pid: number, src: Buffer, start: number, end: number): void {
    if (this.capacity === 0) return;
    const len = end - start;
    let buf = this.buf;
    // A line over maxBytes is kept alone, in a buffer of its size; the next one brings the bound back.
    if (buf === null || len > buf.length || (buf.length > this.maxBytes && len <= this.maxBytes)) {
      buf = this.buf = Buffer.allocUnsafe(Math.max(this.maxBytes, len));
      this.count = 0;
      this.head = 0;
      this.writeAt = 0;
    }
    if (this.writeAt + len > buf.length) {
      // Wrapping skips the end of the buffer: the lines there are the oldest, and go first.
      while (this.count > 0 && this.starts[this.head] >= this.writeAt) this.dropOldest();
      this.writeAt = 0;
    }
    const lo = this.writeAt;
    const hi = lo + len;
    // The oldest lines are the next ones in address order: drop those the new line overwrites.
    while (this.count > 0) {
      const s = this.starts[this.head];
      if (s + this.lens[this.head] > lo && s < hi) this.dropOldest();
      else break;
    }
    if (this.count === this.capacity) this.dropOldest();
    src.copy(buf, lo, start, end);
    const at = (this.head + this.count) % this.capacity;
    this.pids[at] = pid;
    this.starts[at] = lo;
    this.lens[at] = len;
    this.count++;
    this.writeAt = hi;
  }

  /** Up to `limit` lines, oldest first, of one pid or of all. */
  query(pid: number | undefined, limit: number): string[] {
    const out: string[] = [];
    const buf = this.buf;
    if (buf === null) return out;
    for (let k = this.count - 1; k >= 0 && out.length < limit; k--) {
      const i = (this.head + k) % this.capacity;
      if (pid === undefined || this.pids[i] === pid) out.push(buf.toString('utf8', this.starts[i], this.starts[i] + this.lens[i]));
    }
    return out.reverse();
  }

  private dropOldest(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
