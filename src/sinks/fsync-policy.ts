/**
 * When written data is forced to the device. Process death (kill -9) loses
 * nothing the kernel already has in its page cache; fsync only matters for
 * power loss and kernel crashes, and costs a device flush.
 *   'never'  leave it to the kernel's writeback (~30 s)
 *   'batch'  after every write (spool: every append; file sink: every batch)
 *   number   at most this many ms after a write, from a timer
 */
import { AncestrydError } from '../errors';

export type FsyncPolicy = 'never' | 'batch' | number;

/** Parses "never" | "batch" | "<ms>" (as written in config) and names the option on error. */
export function parseFsyncPolicy(option: string, value: string | number): FsyncPolicy {
  if (value === 'never' || value === 'batch') return value;
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(ms) || ms < 1 || ms > 3_600_000) {
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `${option}: expected "never", "batch" or an interval in ms (1..3600000), got ${JSON.stringify(value)}`);
  }
  return ms;
}
