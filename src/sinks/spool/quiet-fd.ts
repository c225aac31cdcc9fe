/**
 * Descriptor calls on the spool's shutdown and background paths, which must
 * not throw: an interval fsync runs on the thread pool with nobody to catch
 * its error (the close-time fsync reports one), and a close runs while
 * something else is already failing or finished, with nothing left to undo.
 */
import * as fs from 'node:fs';

/** Resolves when the fsync is done, whatever its outcome. */
export function fsyncInBackground(fd: number): Promise<void> {
  return new Promise<void>((resolve) => fs.fsync(fd, () => resolve()));
}

/** Closes fd unless it is -1 (never opened, or already released). */
export function closeQuietly(fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
