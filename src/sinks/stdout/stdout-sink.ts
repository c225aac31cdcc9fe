/**
 * Writes batches to a stream (process.stdout by default) as JSON lines.
 * Meant for `ancestryd run --stdout` and containers; pair it with a
 * MemoryQueue, since stdout cannot be replayed after a restart.
 */
import type { Writable } from 'node:stream';
import type { EventBatch, SendResult, Sink } from '../sink';

export class StdoutSink implements Sink {
  readonly name: string;
  lastError: string | null = null;
  private closed = false;

  constructor(private readonly out: Writable = process.stdout, name = 'stdout') {
    this.name = name;
  }

  async start(): Promise<void> {}

  send(batch: EventBatch): Promise<SendResult> {
    if (this.closed) return Promise.resolve('retry');
    return new Promise((resolve) => {
      this.out.write(batch.data, (err) => {
        if (err) {
          this.lastError = `writing to stdout failed (${(err as NodeJS.ErrnoException).code ?? err.message})`;
          resolve('retry');
        } else {
          resolve('delivered');
        }
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
