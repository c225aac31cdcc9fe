/**
 * The pidfile lock that keeps a second daemon from starting. The file is
 * created exclusively and complete: the pid is written to a private temp
 * file that is then link(2)ed to the pidfile path, which fails with EEXIST
 * when it exists (O_EXCL semantics, without a window in which another
 * starter could read an empty pidfile). release() removes it only while it
 * still holds our pid.
 *
 * The file holds the pid on its first line, as every pidfile reader
 * expects, and the process's identity on the second: its start time in
 * clock ticks and the boot id. An existing pidfile names a running daemon
 * only when that pid's start time on this boot is the recorded one; anything
 * else (gone, or the pid reused by another process) is stale and replaced.
 * A name match is not identity: `tail -f …/ancestryd.results.log` once
 * counted as "already running" (issue 10). A pidfile without the second
 * line (written by an older version) falls back to the command-line check.
 *
 * Two daemons starting in the same instant over a stale pidfile could both
 * replace it; the admin socket check (a second daemon finds the first one
 * answering) catches that case.
 */
import { closeSync, constants, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { O_PRIVATE, preparePrivateDir } from '../private-dir';
import { basename, dirname } from 'node:path';
import { AncestrydError } from '../errors';

export interface PidfileLock {
  readonly path: string;
  readonly pid: number;
  /** Removes the pidfile if it still holds our pid; idempotent. Call on clean exit. */
  release(): void;
}

export interface PidfileOptions {
  /** Default process.pid. */
  pid?: number;
  /** For an older version's pidfile (no identity line): is this command line an ancestryd daemon? Default: an argument named like ancestryd, or our own script. */
  isAncestryd?: (argv: readonly string[]) => boolean;
  /** The option errors name: pidfile (default), or spool_path for a spool's lock. */
  option?: string;
}

interface PidfileContent {
  pid: number;
  /** "<start ticks> <boot id>", or null in an older version's pidfile. */
  identity: string | null;
}

function readPidfile(path: string): PidfileContent | null {
  try {
    const m = /^\s*(\d+)\s*(?:\n(\d+ [0-9a-f-]+)\s*)?$/.exec(readFileSync(path, 'utf8'));
    return m ? { pid: Number(m[1]), identity: m[2] ?? null } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function readPid(path: string): number | null {
  return readPidfile(path)?.pid ?? null;
}

/**
 * "<start ticks> <boot id>" of a live process (field 22 of /proc/<pid>/stat),
 * or null when gone. A zombie is gone: a daemon killed with SIGKILL stays one
 * until its parent reaps it, and must not block the daemon that replaces it.
 */
export function processIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    const startTicks = fields[19];
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${startTicks} ${bootId}`;
  } catch {
    return null;
  }
}

function cmdlineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return null; // gone (or /proc hides it: then it is not ours to worry about)
  }
}

export function looksLikeAncestryd(argv: readonly string[]): boolean {
  const own = process.argv[1];
  return argv.some((a) => a === own || basename(a).includes('ancestryd'));
}

function error(path: string, err: unknown, what: string, option: string): AncestrydError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  // The configured path cannot be used here: a configuration problem (exit 2), fixed by the option or by root.
  return new AncestrydError('ANC_CONFIG_INVALID',
    `${option}: cannot ${what} ${path} (${code}): run as root, or set ${option} to a path you may write`
    + (option === 'pidfile' ? ' (or "" to disable)' : ''), { cause: err });
}

/** Takes the lock or throws ANC_ALREADY_RUNNING naming the running daemon's pid. */
export function acquirePidfile(path: string, opts: PidfileOptions = {}): PidfileLock {
  const pid = opts.pid ?? process.pid;
  const isAncestryd = opts.isAncestryd ?? looksLikeAncestryd;
  const option = opts.option ?? 'pidfile';
  preparePrivateDir(dirname(path), option);
  const tmp = `${path}.${pid}.tmp`;
  const identity = processIdentity(pid);
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_PRIVATE, 0o644);
    try {
      writeSync(fd, identity === null ? `${pid}\n` : `${pid}\n${identity}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw error(tmp, err, 'write', option);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw error(path, err, 'create', option);
      }
      const other = readPidfile(path);
      if (other !== null && other.pid !== pid) {
        const argv = other.identity === null ? cmdlineOf(other.pid) : null;
        const running = other.identity !== null ? processIdentity(other.pid) === other.identity : argv !== null && isAncestryd(argv);
        if (running) {
          throw new AncestrydError('ANC_ALREADY_RUNNING', option === 'pidfile'
            ? `ancestryd is already running (pid ${other.pid}, pidfile ${path}): stop it first (systemctl stop ancestryd)`
            : `another ancestryd (pid ${other.pid}) holds ${path}: two daemons must not share a ${option}; stop it or give this one its own`);
        }
      }
      if (attempt > 0) throw error(path, Object.assign(new Error('EEXIST'), { code: 'EEXIST' }), 'replace the stale', option);
      // Stale: its process is gone, another process has the pid now, or it is us (a pid reused after a reboot).
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw error(path, err, 'remove the stale', option);
      }
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  let held = true;
  return {
    path,
    pid,
    release() {
      if (!held) return;
      held = false;
      try {
        if (readPid(path) === pid) unlinkSync(path);
      } catch {
        // gone already, or unreadable: nothing of ours to remove
      }
    },
  };
}
