/**
 * The CLI's side of the admin API: one request over the daemon's UNIX
 * socket, one response; every failure becomes an AncestrydError('ANC_ADMIN')
 * that says what to do, with the errno as `cause.code` so exitCodeFor()
 * can tell "not running" (5) from "not root" (6).
 */
import { createConnection } from 'node:net';
import { AncestrydError } from '../../errors';
import { encodeLine, LineSplitter, type AdminMethod, type AdminMethods, type AdminResponse } from './admin-protocol';

export interface AdminRequestOptions {
  /** Whole request, connect to response. Default 10 s. */
  timeoutMs?: number;
}

function errno(code: string): { code: string } {
  return { code };
}

/** The error for a failed connect, by errno (exported for tests: EACCES cannot be provoked as root). */
export function describeConnectError(path: string, code: string): AncestrydError {
  if (code === 'EACCES' || code === 'EPERM') {
    return new AncestrydError('ANC_ADMIN',
      `permission denied on ${path} (${code}): the admin socket is root only: run this as root (sudo)`, { cause: errno(code) });
  }
  return new AncestrydError('ANC_ADMIN', `cannot reach ancestryd at ${path}: is the daemon running? (${code})`, { cause: errno(code) });
}

/** Sends one request and returns its result; throws AncestrydError('ANC_ADMIN'). */
export function adminRequest<M extends AdminMethod>(path: string, method: M, params: AdminMethods[M]['params'],
  opts?: AdminRequestOptions): Promise<AdminMethods[M]['result']>;
export function adminRequest(path: string, method: string, params: Record<string, unknown>, opts?: AdminRequestOptions): Promise<unknown>;
export function adminRequest(path: string, method: string, params: Record<string, unknown>, opts: AdminRequestOptions = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const splitter = new LineSplitter(Number.MAX_SAFE_INTEGER);
    let settled = false;
    const finish = (err: Error | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new AncestrydError('ANC_ADMIN',
      `ancestryd at ${path} did not answer within ${timeoutMs} ms (ETIMEDOUT): it may be overloaded or stuck; see its log`,
      { cause: errno('ETIMEDOUT') })), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(encodeLine({ id: 1, method, params })));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(describeConnectError(path, err.code ?? 'EIO')));
    socket.on('close', () => finish(new AncestrydError('ANC_ADMIN',
      `ancestryd at ${path} closed the connection without answering (ECONNRESET): see its log`, { cause: errno('ECONNRESET') })));
    socket.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) {
        let res: AdminResponse;
        try {
          res = JSON.parse(line) as AdminResponse;
        } catch {
          finish(new AncestrydError('ANC_ADMIN', `ancestryd at ${path} sent a response that is not JSON`));
          return;
        }
        if (res.ok) finish(null, res.result);
        else finish(new AncestrydError('ANC_ADMIN', res.error.message, { cause: { code: res.error.code } }));
        return;
      }
    });
  });
}
