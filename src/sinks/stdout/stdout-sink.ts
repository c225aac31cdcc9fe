/**
 * Writes batches to a stream (process.stdout by default) as JSON lines.
 * Meant for `ancestryd run --stdout` and containers; pair it with a
 * MemoryQueue, since stdout cannot be replayed after a restart.
 *
 * A reader that goes away (`ancestryd run … | head`) closes the pipe: the
 * stream then fails with EPIPE, which unhandled would kill the daemon. The
 * sink keeps running and answers `rejected` from then on, so every event
 * it can no longer write is counted (issue 10), never retried forever.
 */
import type { Writable } from 'node:stream';
import type { EventBatch, SendResult, Sink } from '../sink';

export class StdoutSink implements Sink {
  readonly name: string;
  lastError: string | null = null;
  private closed = false;
  /** Set once the reader is gone (EPIPE, or the stream ended): nothing can be written again. */
  private gone: string | null = null;
  private readonly onError = (err: NodeJS.ErrnoException) => {
    this.gone = `stdout is closed (${err.code ?? err.message}): events are counted as rejected`;
  };

  constructor(private readonly out: Writable = process.stdout, name = 'stdout') {
    this.name = name;
  }

  async start(): Promise<void> {
    this.out.on('error', this.onError);
  }

  send(batch: EventBatch): Promise<SendResult> {
    if (this.closed) return Promise.resolve('retry');
    if (this.gone !== null || this.out.destroyed || this.out.writableEnded) return Promise.resolve(this.rejectGone());
    return new Promise((resolve) => {
      this.out.write(batch.data, (err) => {
        if (!err) {
          resolve('delivered');
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || this.gone !== null) {
          this.onError(err as NodeJS.ErrnoException);
          resolve(this.rejectGone());
          return;
        }
        this.lastError = `writing to stdout failed (${code ?? err.message})`;
        resolve('retry');
      });
    });
  }

  private rejectGone(): SendResult {
    this.lastError = this.gone ?? 'stdout is closed: events are counted as rejected';
    return 'rejected';
  }

  async close(): Promise<void> {
    // The error listener stays: a pipe can still fail while the process exits.
    this.closed = true;
  }
}
