/**
 * What the sink driver needs from a queue: synchronous append (the ring
 * drain never waits), ordered reads, acknowledgement by id. The durable
 * implementation is spool/disk-spool.ts; memory-queue.ts is for sinks that
 * need no durability (stdout).
 */
import { AncestrydError } from '../errors';
import type { EncodedLines } from './encoded-lines';
import type { DropReason, EventBatch } from './sink';

/** When the queue is full: drop the oldest stored events (default) or refuse the new ones. */
export type DropPolicy = 'drop_oldest' | 'drop_newest';
export const DROP_POLICIES: readonly DropPolicy[] = ['drop_oldest', 'drop_newest'];

export interface EventQueue {
  readonly kind: 'disk' | 'memory';
  /** Disk: scans what a previous run left and resumes after the acknowledged cursor. */
  open(): Promise<void>;
  /**
   * Stores src's lines [from, count) and returns how many were accepted.
   * Copies what it keeps: src is the caller's to reuse. Synchronous, never
   * throws, never waits for the sink.
   */
  appendEncoded(src: EncodedLines, from: number): number;
  /** The next events after the last read, up to the limits (at least one event); null when none. One read at a time. */
  read(maxLines: number, maxBytes: number): Promise<EventBatch | null>;
  /** Every event with id ≤ lastId is done (delivered or dead-lettered) and may be freed. */
  ack(lastId: number): void;
  /** Syncs and releases; what is not acknowledged stays (disk). Idempotent. */
  close(): Promise<void>;
  readonly unreadEvents: number;
  readonly unreadBytes: number;
  /** CLOCK_BOOTTIME ns of the oldest unread event (approximate after partial reads), or null. */
  readonly oldestUnreadKtimeNs: number | null;
  /** Bytes held (disk: spool size on disk). */
  readonly storedBytes: number;
  /** Where the driver writes rejected batches, or null (count only). */
  readonly deadLetterPath: string | null;
  /** Set by the driver: called for every loss, with the number of events. */
  onDrop: (events: number, reason: DropReason) => void;
}

export function checkPositiveInt(option: string, value: number, min = 1, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AncestrydError('ANC_CONFIG_INVALID', `${option}=${value} is out of range [${min}, ${max}]`);
  }
}
