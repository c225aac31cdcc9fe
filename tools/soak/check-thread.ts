/** The soak's handle on check-worker.ts: a CheckSession in a worker thread. */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckSessionOptions, SessionResult, TickFigures } from '../../test/support/check/check-session';
import type { WorkerRequest } from './check-worker';

type Reply = { type: 'tick'; figures: TickFigures } | { type: 'pending'; pending: number } | { type: 'result'; result: SessionResult }
  | { type: 'error'; message: string };

export class CheckThread {
  private readonly worker: Worker;
  private readonly waiting: ((r: Reply) => void)[] = [];
  private failure: Error | null = null;

  constructor(opts: Omit<CheckSessionOptions, 'follow'>) {
    this.worker = new Worker(join(__dirname, 'check-worker.js'), {
      workerData: { ...opts, monoMinusBootNs: opts.monoMinusBootNs.toString() },
    });
    this.worker.on('message', (r: Reply) => this.waiting.shift()?.(r));
    this.worker.on('error', (err) => {
      this.failure = err;
      for (const w of this.waiting.splice(0)) w({ type: 'error', message: err.stack ?? String(err) });
    });
  }

  private ask(req: WorkerRequest): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => (r.type === 'error' ? reject(new Error(`checker thread: ${r.message}`)) : resolve(r)));
      this.worker.postMessage(req);
    });
  }

  async tick(): Promise<TickFigures> {
    return ((await this.ask({ type: 'tick' })) as { figures: TickFigures }).figures;
  }

  async pending(): Promise<number> {
    return ((await this.ask({ type: 'pending' })) as { pending: number }).pending;
  }

  async finish(): Promise<SessionResult> {
    const r = ((await this.ask({ type: 'finish' })) as { result: SessionResult }).result;
    await this.worker.terminate();
    return r;
  }

  async destroy(): Promise<void> {
    await this.worker.terminate();
  }
}
