/**
 * The one error type ancestryd throws on purpose. Callers match on `code`,
 * never on the message; the message names the option, file or step and says
 * what to do about it.
 */
export type ErrorCode =
  | 'ANC_CONFIG_INVALID'
  | 'ANC_PREFLIGHT'
  | 'ANC_LIBBPF'
  | 'ANC_BPF_LOAD'
  | 'ANC_BPF_ATTACH'
  | 'ANC_BPF_PIN'
  | 'ANC_RING'
  | 'ANC_DECODE'
  | 'ANC_PROCFS'
  | 'ANC_SINK_REJECTED'
  | 'ANC_SINK_UNAVAILABLE'
  | 'ANC_SPOOL'
  | 'ANC_ALREADY_RUNNING'
  | 'ANC_ADMIN';

export class AncestrydError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AncestrydError';
  }
}

export function isAncestrydError(err: unknown, code?: ErrorCode): err is AncestrydError {
  return err instanceof AncestrydError && (code === undefined || err.code === code);
}

/** The errno code of a Node.js system error (ENOENT, EACCES, …), or the error as text. */
export function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? String(err);
}
