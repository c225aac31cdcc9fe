/**
 * The pidfile lock that keeps a second daemon from starting. The file is
 * created exclusively and complete: the pid is written to a private temp
 * file that is then link(2)ed to the pidfile path, which fails with EEXIST
 * when it exists (O_EXCL semantics, without a window in which another
 * starter could read an empty pidfile). An existing pidfile is stale when
 * its process is gone or is not ancestryd (/proc/<pid>/cmdline): it is
 * replaced. release() removes it only while it still holds our pid.
 *
 * Two daemons starting in the same instant over a stale pidfile could both
 * replace it; the admin socket check (a second daemon finds the first one
 * answering) catches that case.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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
  /** Is this command line (argv) an ancestryd daemon? Default: an argument named like ancestryd, or our own script. */
  isAncestryd?: (argv: readonly string[]) => boolean;
}

function readPid(path: string): number | null {
  try {
    const m = /^\s*(\d+)\s*$/.exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
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

function error(path: string, err: unknown, what: string): AncestrydError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  // The configured path cannot be used here: a configuration problem (exit 2), fixed by the option or by root.
  return new AncestrydError('ANC_CONFIG_INVALID',
    `pidfile: cannot ${what} ${path} (${code}): run as root, or set pidfile to a path you may write (or "" to disable)`, { cause: err });
}

/** Takes the lock or throws ANC_ALREADY_RUNNING naming the running daemon's pid. */
export function acquirePidfile(path: string, opts: PidfileOptions = {}): PidfileLock {
  const pid = opts.pid ?? process.pid;
  const isAncestryd = opts.isAncestryd ?? looksLikeAncestryd;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw error(dirname(path), err, 'create directory');
  }
  const tmp = `${path}.${pid}.tmp`;
  try {
    writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw error(tmp, err, 'write');
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw error(path, err, 'create');
      }
      const other = readPid(path);
      if (other !== null && other !== pid) {
        const argv = cmdlineOf(other);
        if (argv !== null && isAncestryd(argv)) {
          throw new AncestrydError('ANC_ALREADY_RUNNING',
            `ancestryd is already running (pid ${other}, pidfile ${path}): stop it first (systemctl stop ancestryd)`);
        }
      }
      if (attempt > 0) throw error(path, Object.assign(new Error('EEXIST'), { code: 'EEXIST' }), 'replace the stale');
      // Stale: its process is gone, is not ancestryd, or is us (a pid reused after a reboot).
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw error(path, err, 'remove the stale');
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
