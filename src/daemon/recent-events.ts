/**
 * The last events as their serialized lines, for `ancestryd events`: a ring
 * bounded by count (admin_recent_events) and by bytes, so memory stays
 * bounded whatever a line weighs (an exec line carries its whole lineage,
 * several KB), and the hot path only stores two references.
 */

/** Line bytes held at most: the soak showed 10 000 lines of 7 KB costing ~450 MB of RSS. */
export const RECENT_EVENTS_MAX_BYTES = 16 * 1024 * 1024;

export class RecentEvents {
  private readonly pids: Int32Array;
  private readonly lines: (string | undefined)[];
  /** Oldest held slot and how many are held. */
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(readonly capacity: number, readonly maxBytes = RECENT_EVENTS_MAX_BYTES) {
    this.pids = new Int32Array(Math.max(1, capacity));
    this.lines = new Array(Math.max(1, capacity));
  }

  push(pid: number, line: string): void {
    if (this.capacity === 0) return;
    if (this.count === this.capacity) this.dropOldest();
    const at = (this.head + this.count) % this.capacity;
    this.pids[at] = pid;
    this.lines[at] = line;
    this.count++;
    // UTF-16 length: a cheap upper bound of the UTF-8 size for ASCII-heavy lines.
    this.bytes += line.length;
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  /** Up to `limit` lines, oldest first, of one pid or of all. */
  query(pid: number | undefined, limit: number): string[] {
    const out: string[] = [];
    for (let k = this.count - 1; k >= 0 && out.length < limit; k--) {
      const i = (this.head + k) % this.capacity;
      if (pid === undefined || this.pids[i] === pid) out.push(this.lines[i]!);
    }
    return out.reverse();
  }

  get size(): number {
    return this.count;
  }

  private dropOldest(): void {
    this.bytes -= this.lines[this.head]!.length;
    this.lines[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
