/**
 * Gathers the events one spool read takes into one EventBatch. The payloads
 * sit in buffers that are reused (the reader's read buffer, the memory
 * tail's arena) while the sink holds a batch until it is acknowledged, so
 * the batch needs its own copy: spans are collected while records are
 * parsed and copied once at the end, into one allocation per batch rather
 * than one per event.
 */
import type { EventBatch } from '../sink';

export class BatchAccumulator {
  private bufs: Buffer[] = [];
  private spans: number[] = [];
  lines = 0;
  bytes = 0;
  firstId = 0;
  lastId = 0;
  firstK = 0;
  lastK = 0;

  reset(): void {
    this.bufs.length = 0;
    this.spans.length = 0;
    this.lines = 0;
    this.bytes = 0;
  }

  /** Adds the payload buf[start, end) of the event `id`; buf must stay unchanged until build(). */
  add(buf: Buffer, start: number, end: number, id: number, ktimeNs: number): void {
    if (this.lines === 0) {
      this.firstId = id;
      this.firstK = ktimeNs;
    }
    this.bufs.push(buf);
    this.spans.push(start, end);
    this.lines++;
    this.bytes += end - start;
    this.lastId = id;
    this.lastK = ktimeNs;
  }

  /** Copies what was added into a batch of its own, and starts over. */
  build(): EventBatch {
    const data = Buffer.allocUnsafe(this.bytes);
    let w = 0;
    const sp = this.spans;
    for (let i = 0; i < this.bufs.length; i++) w += this.bufs[i].copy(data, w, sp[2 * i], sp[2 * i + 1]);
    const b: EventBatch = {
      firstId: this.firstId, lastId: this.lastId, count: this.lines, data,
      firstKtimeNs: this.firstK, lastKtimeNs: this.lastK,
    };
    this.reset();
    return b;
  }
}
