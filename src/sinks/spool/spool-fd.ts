/**
 * A descriptor a spool part holds (the active segment, the cursor, the
 * segment being read). The part opens it and writes or reads through `fd`;
 * the spool forces it to disk and closes it on its own schedule (the fsync
 * timer, close()), which is why these calls do not throw where nobody can
 * act on an error: an interval fsync runs on the thread pool with nobody to
 * catch it (the close-time fsync reports), and a close runs when the work
 * is done or something else has already failed.
 */
import * as fs from 'node:fs';

export class SpoolFd {
  /** -1 when not open. */
  fd = -1;

  /** The interval fsync; resolves when done, whatever its outcome. */
  syncInBackground(): Promise<void> {
    const fd = this.fd;
    return fd >= 0 ? new Promise<void>((resolve) => fs.fsync(fd, () => resolve())) : Promise.resolve();
  }

  /** The close-time fsync; throws what fsync throws. */
  syncNow(): void {
    if (this.fd >= 0) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = -1;
  }
}
