/**
 * Claims a spool directory for this daemon and this output configuration
 * before anything in it is read. Two daemons on one spool would hand out
 * the same ids and truncate each other's segments, hence the lock; events
 * spooled for another output, format or destination must never be replayed
 * into this one (a format change would send ECS lines to an osquery
 * consumer), hence the identity file: a spool that holds another's events
 * is renamed aside, kept for whoever wants them, and this one starts empty.
 * A spool without an identity file (older versions) is adopted.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { errCode } from '../../errors';
import { O_PRIVATE, preparePrivateDir } from '../../private-dir';
import type { SinkLogger } from '../sink';
import type { DiskSpoolOptions } from './config';

export interface SpoolLock {
  release(): void;
}

/**
 * Prepares `dir` (0700, ours), takes its lock and checks its identity.
 * Returns the lock held, or null without a lock taker; on failure nothing
 * stays held.
 */
export function claimSpoolDir(dir: string, identity: string | null, takeLock: DiskSpoolOptions['lock'],
  log: SinkLogger): SpoolLock | null {
  preparePrivateDir(dir, 'spool_path');
  let held = takeLock?.(dir) ?? null;
  try {
    if (identity === null) return held;
    const path = join(dir, 'identity');
    let stored: string | null = null;
    try {
      stored = fs.readFileSync(path, 'utf8');
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
    if (stored !== null && stored !== identity) {
      const aside = `${dir}.set-aside-${new Date().toISOString().replace(/[:.]/g, '')}`;
      held?.release();
      held = null;
      fs.renameSync(dir, aside);
      log.warn({ spool: dir, set_aside: aside, was: stored, now: identity },
        'the spool holds events of another output configuration: set aside, not replayed into this one');
      preparePrivateDir(dir, 'spool_path');
      held = takeLock?.(dir) ?? null;
      stored = null;
    }
    if (stored === null) {
      const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | O_PRIVATE, 0o600);
      try {
        fs.writeSync(fd, identity);
      } finally {
        fs.closeSync(fd);
      }
    }
    return held;
  } catch (err) {
    held?.release();
    throw err;
  }
}
