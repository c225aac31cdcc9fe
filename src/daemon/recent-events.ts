/**
 * The last N events as their serialized lines, for `ancestryd events`:
 * a fixed ring, so memory stays bounded and the hot path only stores two
 * references.
 */
export class RecentEvents {
  private readonly pids: Int32Array;
  private readonly lines: (string | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.pids = new Int32Array(Math.max(1, capacity));
    this.lines = new Array(Math.max(1, capacity));
  }

  push(pid: number, line: string): void {
    if (this.capacity === 0) return;
    this.pids[this.next] = pid;
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Up to `limit` lines, oldest first, of one pid or of all. */
  query(pid: number | undefined, limit: number): string[] {
    const out: string[] = [];
    for (let k = 1; k <= this.count && out.length < limit; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      if (pid === undefined || this.pids[i] === pid) out.push(this.lines[i]!);
    }
    return out.reverse();
  }
}
