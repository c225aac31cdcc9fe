/**
 * Runs a CheckSession in a worker thread, so that parsing the results log
 * neither delays the soak's admin queries (their latency is measured) nor is
 * delayed by them (arrival stamps are taken here).
 *
 *   main → {type:'tick'}    worker → {type:'tick', figures: TickFigures}
 *   main → {type:'pending'} worker → {type:'pending', pending: number}
 *   main → {type:'finish'}  worker → {type:'result', result: SessionResult}
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CheckSession, type CheckSessionOptions } from '../../test/support/check/check-session';

export type WorkerRequest = { type: 'tick' } | { type: 'pending' } | { type: 'finish' };

if (parentPort !== null) {
  const port = parentPort;
  const opts = workerData as Omit<CheckSessionOptions, 'monoMinusBootNs'> & { monoMinusBootNs: string };
  const session = new CheckSession({ ...opts, monoMinusBootNs: BigInt(opts.monoMinusBootNs), follow: true });
  session.start();
  port.on('message', (m: WorkerRequest) => {
    try {
      if (m.type === 'tick') port.postMessage({ type: 'tick', figures: session.tick() });
      else if (m.type === 'pending') port.postMessage({ type: 'pending', pending: session.pending() });
      else if (m.type === 'finish') {
        port.postMessage({ type: 'result', result: session.finish() });
        port.close();
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
  });
}
