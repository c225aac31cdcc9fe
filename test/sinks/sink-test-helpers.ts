/** Shared helpers for sink tests: temp dirs, numbered events, fd counting, a scriptable sink. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBatch, SendResult, Sink } from '../../src/sinks/sink';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `anc-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Events {"n":k,...} for k in [from, from + count), padded to about `size` bytes. */
export function numbered(from: number, count: number, size = 100): string[] {
  const out: string[] = [];
  const pad = 'x'.repeat(Math.max(0, size - 30));
  for (let k = from; k < from + count; k++) out.push(`{"n":${k},"pad":"${pad}"}`);
  return out;
}

/** The batch's lines as strings. */
export function batchLines(batch: EventBatch): string[] {
  return batch.data.toString('utf8').split('\n').slice(0, batch.count);
}

export function numbersOf(batchOrLines: EventBatch | readonly string[]): number[] {
  const lines = Array.isArray(batchOrLines) ? batchOrLines : batchLines(batchOrLines as EventBatch);
  return lines.map((l) => JSON.parse(l).n as number);
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = from; k <= to; k++) out.push(k);
  return out;
}

/** A sink that answers from a script (default delivered) and records what it delivered. */
export class ScriptedSink implements Sink {
  readonly name: string;
  lastError: string | null = null;
  delivered: number[] = [];
  batches: EventBatch[] = [];
  sends = 0;
  started = false;
  closed = false;
  /** Called per send; return the answer. */
  answer: (batch: EventBatch, sendNo: number) => SendResult | Promise<SendResult> = () => 'delivered';

  constructor(name = 'scripted') {
    this.name = name;
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async send(batch: EventBatch): Promise<SendResult> {
    this.sends++;
    const r = await this.answer(batch, this.sends);
    if (r === 'delivered') {
      this.delivered.push(...numbersOf(batch));
      this.batches.push(batch);
    } else {
      this.lastError = `scripted ${r}`;
    }
    return r;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}
