/**
 * The admin API's wire format, shared by the server (admin-socket.ts) and
 * the CLI (admin-client.ts): newline-delimited JSON over a UNIX socket, one
 * request per line, one response line per request, in order.
 *
 *   → {"id":1,"method":"ancestry","params":{"pid":4242}}
 *   ← {"id":1,"ok":true,"result":{...}}
 *   ← {"id":1,"ok":false,"error":{"code":"not_found","message":"pid 4242 is not in the process table"}}
 *
 * The method table below is the contract between the handlers the daemon
 * registers and what the CLI renders. BigInt values (proc_time_hr,
 * start_boottime) are sent as decimal strings: they exceed 2^53.
 */

/** Longest request line the server reads; responses are not limited. */
export const ADMIN_MAX_REQUEST_BYTES = 64 * 1024;
export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 100_000;

export type AdminErrorCode = 'bad_request' | 'unknown_method' | 'not_found' | 'unavailable' | 'internal';

/** Thrown by handlers for an answer that is not a bug: sent as {ok:false,error:{code,message}}. */
export class AdminRequestError extends Error {
  constructor(readonly code: AdminErrorCode, message: string) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

export interface AdminRequest {
  id: number;
  method: string;
  params?: Record<string, unknown>;
}

export type AdminResponse =
  | { id: number | null; ok: true; result: unknown }
  | { id: number | null; ok: false; error: { code: AdminErrorCode; message: string } };

/** One process of a lineage, as the "ancestry" column carries it (osquery names plus ours). */
export interface LineageElement {
  exe_name: string;
  pid: number;
  ppid: number;
  path: string;
  cmdline: string;
  /** Start, epoch seconds. */
  proc_time: number;
  /** Start, epoch ns (decimal string). */
  proc_time_hr: string | number;
  entity_id: string;
  uid: number;
  /** CLOCK_BOOTTIME ns of the start (decimal string). */
  start_boottime: string | number;
  exited?: boolean;
}

export interface AncestryResponse {
  pid: number;
  entity_id: string;
  process: LineageElement;
  /** Nearest (fork-time) parent first. */
  ancestry: LineageElement[];
  complete: boolean;
  incomplete_reason: string | null;
  /** The parent now, when it differs from ancestry[0] (reparented). */
  current_parent: LineageElement | null;
}

export interface TreeNode {
  pid: number;
  entity_id: string;
  comm: string;
  path: string;
  children: TreeNode[];
}

export interface PingResponse {
  version: string;
  pid: number;
  uptime_seconds: number;
  methods: string[];
}

/** Method → params → result. Params reach handlers validated. */
export interface AdminMethods {
  /** Built in: answers while the server runs. */
  ping: { params: Record<string, never>; result: PingResponse };
  /** The live lineage of a pid now; not_found when the table does not know it. */
  ancestry: { params: { pid: number }; result: AncestryResponse };
  /** Cache and pipeline figures: any JSON object (Metrics.snapshot() fits). */
  stats: { params: Record<string, never>; result: Record<string, unknown> };
  /** The live process tree, rooted at pid (default 1). */
  tree: { params: { pid?: number }; result: TreeNode };
  /** Recent events from the in-memory ring, oldest first, optionally of one pid. */
  events: { params: { pid?: number; limit: number }; result: Record<string, unknown>[] };
  /** The configuration running now: every option with its source (remote: config_plugin=tls), and what waits for a restart. */
  config: { params: Record<string, never>; result: { config_file: string | null; options: { name: string; value: unknown; source: string }[]; pending: string[] } };
}

export type AdminMethod = keyof AdminMethods;

function pidParam(method: string, v: unknown, required: boolean): number | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4_194_304) {
    throw new AdminRequestError('bad_request', `${method}: pid must be an integer in [1, 4194304], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Checks and normalizes the params of a known method; unknown methods pass their params through. */
export function validateParams(method: string, params: Record<string, unknown>): Record<string, unknown> {
  switch (method) {
    case 'ancestry':
      return { pid: pidParam(method, params.pid, true) };
    case 'tree': {
      const pid = pidParam(method, params.pid, false);
      return pid === undefined ? {} : { pid };
    }
    case 'events': {
      const pid = pidParam(method, params.pid, false);
      const limit = params.limit ?? EVENTS_DEFAULT_LIMIT;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > EVENTS_MAX_LIMIT) {
        throw new AdminRequestError('bad_request', `events: limit must be an integer in [1, ${EVENTS_MAX_LIMIT}], got ${JSON.stringify(limit)}`);
      }
      return pid === undefined ? { limit } : { pid, limit };
    }
    default:
      return params;
  }
}

/** JSON with BigInt as decimal strings, one line. */
export function encodeLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
}

/** Splits a byte stream into lines; lines longer than maxBytes are reported, not buffered. */
export class LineSplitter {
  private buf = '';

  constructor(private readonly maxBytes: number) {}

  /** Complete lines in `chunk` (plus what was buffered); throws RangeError when a line exceeds maxBytes. */
  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    if (Buffer.byteLength(this.buf) > this.maxBytes || lines.some((l) => Buffer.byteLength(l) > this.maxBytes)) {
      throw new RangeError(`line longer than ${this.maxBytes} bytes`);
    }
    return lines;
  }
}
