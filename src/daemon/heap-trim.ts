/**
 * Gives the C heap's free memory back to the kernel, now and then.
 *
 * Why: much of what the daemon allocates outside V8's heap (the GC threads'
 * work lists, Node's buffers, koffi's call frames) goes through glibc
 * malloc, which keeps freed chunks in its arenas instead of returning them.
 * Measured with 10 000 processes held: RSS grew 21 MB in malloc arenas
 * (the main one by 12 MB, the threads' by 9 MB) while the V8 heap grew 7 MB;
 * malloc_trim(0) returns the free pages inside the arenas too, and RSS per
 * held process fell from 2.4 to 1.4 KB (docs/benchmarks.md). A trim costs
 * 0.15–1.5 ms of CPU, so it runs at most every TRIM_INTERVAL_MS, only while
 * records flow and once after they stop: an idle daemon frees nothing and
 * pays nothing.
 */
import { loadNative } from '../collector/libbpf';

export const TRIM_INTERVAL_MS = 5000;

export class HeapTrim {
  private lastRecords = -1;
  private lastAt = -Infinity;
  /** Trims still owed: one more after records stop, for what their last GC frees. */
  private owed = 0;

  /** `trim`: glibc's malloc_trim(0) unless a test passes its own. */
  constructor(private readonly trim: () => void = () => loadNative().c.malloc_trim(0)) {}

  /** Called on the housekeeping tick with the records drained so far. */
  tick(records: number, nowMs: number): void {
    if (records !== this.lastRecords) {
      this.lastRecords = records;
      this.owed = 2;
    }
    if (this.owed === 0 || nowMs - this.lastAt < TRIM_INTERVAL_MS) return;
    this.owed--;
    this.lastAt = nowMs;
    this.trim();
  }
}
