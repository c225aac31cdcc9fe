/**
 * The admin API server: a UNIX socket only root can use (socket 0600 in a
 * directory only root can write; 0700 when we create it), serving
 * newline-delimited JSON requests (admin-protocol.ts) to handlers the
 * daemon registers. Refuses to start when another daemon answers on the
 * socket; replaces a stale socket file left by a crash.
 */
import { chmodSync, lstatSync, unlinkSync, type Stats } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { AncestrydError } from '../../errors';
import { preparePrivateDir } from '../../private-dir';
import {
  ADMIN_MAX_REQUEST_BYTES, AdminRequestError, encodeLine, LineSplitter, validateParams,
  type AdminErrorCode, type AdminMethod, type AdminMethods, type AdminResponse,
} from './admin-protocol';
import { packageInfo } from '../package-info';

type AnyHandler = (params: Record<string, unknown>) => unknown;
export type AdminHandler<M extends AdminMethod> =
  (params: AdminMethods[M]['params']) => AdminMethods[M]['result'] | Promise<AdminMethods[M]['result']>;

/** The methods the daemon answers; register before or after the server starts. */
export class AdminHandlers {
  private readonly map = new Map<string, AnyHandler>();

  /** A method of the AdminMethods contract (typed params and result). */
  register<M extends AdminMethod>(method: M, handler: AdminHandler<M>): this;
  /** Any other method: params unchecked, result any JSON value. */
  register(method: string, handler: (params: Record<string, unknown>) => unknown): this;
  register(method: string, handler: AnyHandler): this {
    if (method === 'ping') throw new Error('admin method ping is built in');
    if (this.map.has(method)) throw new Error(`admin method ${method} is registered twice`);
    this.map.set(method, handler);
    return this;
  }

  get(method: string): AnyHandler | undefined {
    return this.map.get(method);
  }

  methods(): string[] {
    return [...this.map.keys()].sort();
  }
}

/** The subset of a logger the server uses (pino's Logger fits). */
export interface AdminLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AdminServerOptions {
  path: string;
  handlers: AdminHandlers;
  log?: AdminLog;
  /** Default 16. */
  maxConnections?: number;
  /** A connection idle this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
}

const noLog: AdminLog = { info() {}, warn() {} };

/** The configured admin_socket cannot be used here: a configuration problem (exit 2), fixed by the option or by root. */
function adminError(message: string, cause?: unknown): AncestrydError {
  return new AncestrydError('ANC_CONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw adminError(`admin_socket: cannot inspect ${path} (${(err as NodeJS.ErrnoException).code})`, err);
  }
}

/** True when something accepts connections on `path`. */
function answers(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const timer = setTimeout(() => { s.destroy(); resolve(true); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true); });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

export class AdminServer {
  private closed = false;
  private readonly sockets = new Set<Socket>();
  private readonly startedMs = Date.now();

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly handlers: AdminHandlers,
    private readonly log: AdminLog,
    private readonly idleTimeoutMs: number,
  ) {
    server.on('connection', (s) => this.serve(s));
  }

  /** Binds the socket; throws ANC_ALREADY_RUNNING if a daemon answers there, ANC_ADMIN on other problems. */
  static async start(opts: AdminServerOptions): Promise<AdminServer> {
    const { path } = opts;
    const log = opts.log ?? noLog;
    preparePrivateDir(dirname(path), 'admin_socket');
    const existing = lstatOrNull(path);
    if (existing !== null) {
      if (!existing.isSocket()) throw adminError(`admin_socket: ${path} exists and is not a socket: remove it or choose another path`);
      let live: boolean;
      try {
        live = await answers(path, 1000);
      } catch (err) {
        throw adminError(`admin_socket: cannot probe ${path} (${(err as NodeJS.ErrnoException).code})`, err);
      }
      if (live) {
        throw new AncestrydError('ANC_ALREADY_RUNNING',
          `another ancestryd answers on ${path}: stop it first (systemctl stop ancestryd), or give this one another admin_socket and pidfile`);
      }
      unlinkSync(path);
      log.info({ path }, 'removed a stale admin socket');
    }
    const server = createServer({ allowHalfOpen: false });
    server.maxConnections = opts.maxConnections ?? 16;
    // The socket is created 0600 atomically: no window where others could connect.
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => { server.off('error', reject); resolve(); });
      });
    } catch (err) {
      throw adminError(`admin_socket: cannot listen on ${path} (${(err as NodeJS.ErrnoException).code})`, err);
    } finally {
      process.umask(oldMask);
    }
    chmodSync(path, 0o600);
    return new AdminServer(path, server, opts.handlers, log, opts.idleTimeoutMs ?? 60_000);
  }

  /** Client connections open now. The daemon does not read it; tests check that close() leaves none. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Stops accepting, closes every connection, removes the socket file; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const gone = [...this.sockets].map((s) => new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    }));
    await Promise.all([done, ...gone]);
    // libuv unlinks the path on close; make sure, in case it did not.
    try {
      if (lstatSync(this.path).isSocket()) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const splitter = new LineSplitter(ADMIN_MAX_REQUEST_BYTES);
    let chain = Promise.resolve();
    socket.on('data', (chunk: string) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch {
        socket.end(encodeLine(errorResponse(null, 'bad_request', `request longer than ${ADMIN_MAX_REQUEST_BYTES} bytes`)));
        return;
      }
      for (const line of lines) {
        if (line.trim() === '') continue;
        // One request at a time per connection: responses keep request order.
        chain = chain.then(() => this.answer(line)).then((res) => {
          let out: string;
          try {
            out = encodeLine(res);
          } catch (err) {
            out = encodeLine(errorResponse(res.id, 'internal', `the result cannot be sent as JSON: ${(err as Error).message}`));
          }
          if (!socket.destroyed) socket.write(out);
        }).catch(() => { socket.destroy(); });
      }
    });
  }

  private async answer(line: string): Promise<AdminResponse> {
    let id: number | null = null;
    try {
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        return errorResponse(null, 'bad_request', 'request is not valid JSON');
      }
      if (req === null || typeof req !== 'object' || Array.isArray(req)) return errorResponse(null, 'bad_request', 'request must be a JSON object');
      const r = req as { id?: unknown; method?: unknown; params?: unknown };
      id = typeof r.id === 'number' && Number.isSafeInteger(r.id) ? r.id : null;
      if (typeof r.method !== 'string') return errorResponse(id, 'bad_request', 'request has no "method"');
      const params = r.params ?? {};
      if (params === null || typeof params !== 'object' || Array.isArray(params)) return errorResponse(id, 'bad_request', '"params" must be an object');
      const method = r.method;
      if (method === 'ping') {
        return {
          id, ok: true,
          result: {
            version: packageInfo().version, pid: process.pid,
            uptime_seconds: Math.round((Date.now() - this.startedMs) / 1000),
            methods: ['ping', ...this.handlers.methods()],
          },
        };
      }
      const handler = this.handlers.get(method);
      if (!handler) {
        return errorResponse(id, 'unknown_method', `unknown method ${JSON.stringify(method)}; this daemon answers ${['ping', ...this.handlers.methods()].join(', ')}`);
      }
      const result = await handler(validateParams(method, params as Record<string, unknown>));
      return { id, ok: true, result: result ?? null };
    } catch (err) {
      if (err instanceof AdminRequestError) return errorResponse(id, err.code, err.message);
      this.log.warn({ err }, 'admin request failed');
      return errorResponse(id, 'internal', (err as Error)?.message ?? String(err));
    }
  }
}

function errorResponse(id: number | null, code: AdminErrorCode, message: string): AdminResponse {
  return { id, ok: false, error: { code, message } };
}

/** AdminServer.start, as a function. */
export function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  return AdminServer.start(opts);
}
