/**
 * The last events as their serialized lines, for `ancestryd events`: a ring
 * bounded by count (admin_recent_events) and by bytes, so memory stays
 * bounded whatever a line weighs (an exec line carries its whole lineage,
 * several KB).
 *
 * The lines are copied as UTF-8 with their newlines (from the drain pass's
 * buffer) into one buffer outside the JavaScript heap.
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
  /** Allocated on the first line; larger than maxBytes only while holding one oversized line. */
  private buf: Buffer | null = null;
  private readonly pids: Int32Array;
  private readonly starts: Int32Array;
  /** Bytes of each held line, its newline included. */
  private readonly sizes: Int32Array;
  /** Oldest held slot and how many are held. */
  private head = 0;
  private count = 0;
  /** Where the next line goes; lines lie in address order from the oldest, wrapping to 0. */
  private writeAt = 0;

  constructor(readonly capacity: number, readonly maxBytes = RECENT_EVENTS_MAX_BYTES) {
    const slots = Math.max(1, capacity);
    this.pids = new Int32Array(slots);
    this.starts = new Int32Array(slots);
    this.sizes = new Int32Array(slots);
  }

  /**
   * A drain pass's lines: line i is src[ends[i - 1] (0 for the first), ends[i]),
   * newline included, of process pids[i]. Lines that land next to each
   * other are copied in one piece: a pass is one or two copies, not one per
   * line (each Buffer copy made a view object; at flat out the copies were
   * 3 % of the daemon's main thread).
   */
  pushLines(pids: ArrayLike<number>, src: Buffer, ends: ArrayLike<number>, n: number): void {
    if (this.capacity === 0 || n === 0) return;
    // Lines before the last `capacity` would only be dropped again.
    const first = Math.max(0, n - this.capacity);
    let buf = this.buf;
    let runSrc = 0;
    let runDst = 0;
    let runLen = 0;
    for (let i = first; i < n; i++) {
      const start = i === 0 ? 0 : ends[i - 1];
      const size = ends[i] - start;
      const at = this.place(pids[i], size);
      if (this.buf !== buf) {
        // A new buffer holds nothing of the run so far: its lines were dropped with the old one.
        buf = this.buf;
        runLen = 0;
      }
      if (runLen > 0 && at === runDst + runLen) {
        runLen += size;
        continue;
      }
      if (runLen > 0) src.copy(buf!, runDst, runSrc, runSrc + runLen);
      runSrc = start;
      runDst = at;
      runLen = size;
    }
    if (runLen > 0) src.copy(buf!, runDst, runSrc, runSrc + runLen);
  }

  /** Up to `limit` lines, oldest first, of one pid or of all, without their newlines. */
  query(pid: number | undefined, limit: number): string[] {
    const out: string[] = [];
    const buf = this.buf;
    if (buf === null) return out;
    for (let k = this.count - 1; k >= 0 && out.length < limit; k--) {
      const i = (this.head + k) % this.capacity;
      if (pid === undefined || this.pids[i] === pid) out.push(buf.toString('utf8', this.starts[i], this.starts[i] + this.sizes[i] - 1));
    }
    return out.reverse();
  }

  /** Makes room for one line of `size` bytes and files it; returns where its bytes go. */
  private place(pid: number, size: number): number {
    let buf = this.buf;
    // A line over maxBytes is kept alone, in a buffer of its size; the next one brings the bound back.
    if (buf === null || size > buf.length || (buf.length > this.maxBytes && size <= this.maxBytes)) {
      buf = this.buf = Buffer.allocUnsafe(Math.max(this.maxBytes, size));
      this.count = 0;
      this.head = 0;
      this.writeAt = 0;
    }
    if (this.writeAt + size > buf.length) {
      // Wrapping skips the end of the buffer: the lines there are the oldest, and go first.
      while (this.count > 0 && this.starts[this.head] >= this.writeAt) this.dropOldest();
      this.writeAt = 0;
    }
    const lo = this.writeAt;
    const hi = lo + size;
    // The oldest lines are the next ones in address order: drop those the new line overwrites.
    while (this.count > 0) {
      const s = this.starts[this.head];
      if (s + this.sizes[this.head] > lo && s < hi) this.dropOldest();
      else break;
    }
    if (this.count === this.capacity) this.dropOldest();
    const at = (this.head + this.count) % this.capacity;
    this.pids[at] = pid;
    this.starts[at] = lo;
    this.sizes[at] = size;
    this.count++;
    this.writeAt = hi;
    return lo;
  }

  private dropOldest(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
