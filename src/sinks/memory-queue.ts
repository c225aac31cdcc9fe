/**
 * A bounded in-memory FIFO of serialized events: same contract as the disk
 * spool, but nothing survives the process. For stdout (nothing durable to
 * resume from) and for the file output while its writes fail (its events
 * then keep their records in the kernel's ring: src/daemon/pipeline.ts).
 * Bounded by bytes; when full, drops per policy and counts.
 */
import { lineStart, type EncodedLines } from './encoded-lines';
import { checkPositiveInt, type DropPolicy, type EventQueue } from './queue';
import type { DropReason, EventBatch } from './sink';

export interface MemoryQueueOptions {
  /** Default 64 MiB. */
  maxBytes?: number;
  /** Default drop_oldest. */
  dropPolicy?: DropPolicy;
}

export class MemoryQueue implements EventQueue {
  readonly kind = 'memory' as const;
  readonly deadLetterPath = null;
  onDrop: (events: number, reason: DropReason) => void = () => {};

  private readonly maxBytes: number;
  private readonly dropPolicy: DropPolicy;
  // Stored events (each line with its "\n"): [head, lines.length) are held; [head, readPos) are read, not yet acked.
  private lines: Buffer[] = [];
  private sizes: number[] = [];
  private ktimes: number[] = [];
  private ids: number[] = [];
  private head = 0;
  private readPos = 0;
  private nextId = 1;
  private bytes = 0;
  private unreadByteCount = 0;
  private closed = false;

  constructor(opts: MemoryQueueOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.dropPolicy = opts.dropPolicy ?? 'drop_oldest';
    checkPositiveInt('queue_max_bytes', this.maxBytes, 1024);
  }

  get unreadEvents(): number {
    return this.lines.length - this.readPos;
  }

  get unreadBytes(): number {
    return this.unreadByteCount;
  }

  get oldestUnreadKtimeNs(): number | null {
    return this.readPos < this.lines.length ? this.ktimes[this.readPos] : null;
  }

  get storedBytes(): number {
    return this.bytes;
  }

  async open(): Promise<void> {}

  appendEncoded(src: EncodedLines, from: number): number {
    const n = src.count - from;
    if (n <= 0) return 0;
    if (this.closed) {
      this.onDrop(n, 'closed');
      return 0;
    }
    const size = src.ends[src.count - 1] - lineStart(src, from);
    if (size > this.maxBytes) {
      this.onDrop(n, 'too_large');
      return 0;
    }
    if (this.bytes + size > this.maxBytes) {
      if (this.dropPolicy === 'drop_newest') {
        this.onDrop(n, 'queue_full');
        return 0;
      }
      this.dropOldest(this.bytes + size - this.maxBytes);
    }
    for (let i = from; i < src.count; i++) {
      const line = Buffer.from(src.data.subarray(lineStart(src, i), src.ends[i]));
      this.lines.push(line);
      this.sizes.push(line.length);
      this.ktimes.push(src.ktimes[i]);
      this.ids.push(this.nextId++);
    }
    this.bytes += size;
    this.unreadByteCount += size;
    return n;
  }

  /** Drops unread events from the front until `need` bytes are free (read ones stay until acked). */
  private dropOldest(need: number): void {
    let freed = 0;
    let k = this.readPos;
    while (freed < need && k < this.lines.length) freed += this.sizes[k++];
    const dropped = k - this.readPos;
    if (dropped === 0) return;
    this.lines.splice(this.readPos, dropped);
    this.sizes.splice(this.readPos, dropped);
    this.ktimes.splice(this.readPos, dropped);
    this.ids.splice(this.readPos, dropped);
    this.bytes -= freed;
    this.unreadByteCount -= freed;
    this.onDrop(dropped, 'queue_full');
  }

  async read(maxLines: number, maxBytes: number): Promise<EventBatch | null> {
    const start = this.readPos;
    const end = this.lines.length;
    if (start >= end || this.closed) return null;
    let k = start;
    let bytes = 0;
    while (k < end && k - start < maxLines && (k === start || bytes + this.sizes[k] <= maxBytes)) bytes += this.sizes[k++];
    const data = Buffer.concat(this.lines.slice(start, k), bytes);
    this.readPos = k;
    this.unreadByteCount -= bytes;
    return {
      firstId: this.ids[start],
      lastId: this.ids[k - 1],
      count: k - start,
      data,
      firstKtimeNs: this.ktimes[start],
      lastKtimeNs: this.ktimes[k - 1],
    };
  }

  ack(lastId: number): void {
    let h = this.head;
    while (h < this.readPos && this.ids[h] <= lastId) this.bytes -= this.sizes[h++];
    this.head = h;
    if (h > 1024 && h * 2 > this.lines.length) this.compact();
  }

  private compact(): void {
    this.lines = this.lines.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.ktimes = this.ktimes.slice(this.head);
    this.ids = this.ids.slice(this.head);
    this.readPos -= this.head;
    this.head = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
