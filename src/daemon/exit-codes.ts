/**
 * The exit codes of every `ancestryd` subcommand, in one table that the CLI
 * uses and docs/options.md prints. Scripts and systemd (RestartPreventExitStatus)
 * rely on them: never renumber, only add.
 */
import { isAncestrydError } from '../errors';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  ALREADY_RUNNING: 3,
  PREFLIGHT_FAILED: 4,
  UNREACHABLE: 5,
  NOT_PERMITTED: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_TABLE: readonly { code: ExitCode; name: keyof typeof EXIT; meaning: string }[] = [
  { code: EXIT.OK, name: 'OK', meaning: 'success; `run`: the daemon stopped cleanly (SIGTERM/SIGINT)' },
  { code: EXIT.FAILURE, name: 'FAILURE', meaning: 'runtime failure: the daemon stopped on an error, or the daemon answered a request with an error (e.g. unknown pid)' },
  { code: EXIT.USAGE, name: 'USAGE', meaning: 'usage or configuration error: bad subcommand or argument, invalid option, unreadable config file' },
  { code: EXIT.ALREADY_RUNNING, name: 'ALREADY_RUNNING', meaning: 'another ancestryd holds the pidfile or answers on the admin socket' },
  { code: EXIT.PREFLIGHT_FAILED, name: 'PREFLIGHT_FAILED', meaning: '`check` found a problem, or `run` stopped at its preflight (kernel, BTF, libbpf, privileges, tracefs)' },
  { code: EXIT.UNREACHABLE, name: 'UNREACHABLE', meaning: 'the daemon is not running: the admin socket is missing, refuses connections or does not answer' },
  { code: EXIT.NOT_PERMITTED, name: 'NOT_PERMITTED', meaning: 'permission denied: the admin socket (and the daemon) are root only' },
];

const UNREACHABLE_ERRNOS = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
const NOT_PERMITTED_ERRNOS = new Set(['EACCES', 'EPERM']);

function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const c = e?.cause?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The exit code for an error that ended a subcommand. */
export function exitCodeFor(err: unknown): ExitCode {
  if (!isAncestrydError(err)) return EXIT.FAILURE;
  switch (err.code) {
    case 'ANC_CONFIG_INVALID': return EXIT.USAGE;
    case 'ANC_ALREADY_RUNNING': return EXIT.ALREADY_RUNNING;
    case 'ANC_PREFLIGHT': return EXIT.PREFLIGHT_FAILED;
    case 'ANC_ADMIN': {
      const errno = errnoOf(err);
      if (errno && NOT_PERMITTED_ERRNOS.has(errno)) return EXIT.NOT_PERMITTED;
      if (errno && UNREACHABLE_ERRNOS.has(errno)) return EXIT.UNREACHABLE;
      return EXIT.FAILURE;
    }
    default: return EXIT.FAILURE;
  }
}
