/**
 * Options of the disk spool (spool_* in the schema), their defaults and
 * their validation: checked whole when the spool is built, so a bad value
 * stops the daemon at start with the option's name instead of surfacing as
 * a full disk or a refused append later.
 */
import { AncestrydError } from '../../errors';
import type { FsyncPolicy } from '../fsync-policy';
import { checkPositiveInt, type DropPolicy } from '../queue';
import { noopLogger, type SinkLogger } from '../sink';

export interface DiskSpoolOptions {
  dir: string;
  /** Bound on the bytes on disk (segments). Default 256 MiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. Default 8 MiB; at most maxBytes / 2. */
  segmentBytes?: number;
  /** Default drop_oldest. */
  dropPolicy?: DropPolicy;
  /** Default 1000 (ms). */
  fsync?: FsyncPolicy;
  /** Recently appended events kept in memory so the sender need not read them back. Default 32 MiB. */
  memoryBytes?: number;
  log?: SinkLogger;
  /**
   * What the stored events are for (output, format, destination). A spool
   * left by another configuration is set aside at open, never replayed into
   * this output.
   */
  identity?: string;
  /** Takes the spool's lock at open (one daemon per spool directory); released at close. */
  lock?: (dir: string) => { release(): void };
}

/** The range of spool_max_bytes: the spool's own check and the option schema read it here. */
export const SPOOL_RANGES = {
  maxBytes: [64 * 1024, 1024 ** 4],
} as const;

export const SPOOL_DEFAULTS = {
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: 8 * 1024 * 1024,
  dropPolicy: 'drop_oldest' as DropPolicy,
  fsync: 1000 as FsyncPolicy,
  memoryBytes: 32 * 1024 * 1024,
};

export interface ResolvedSpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly dropPolicy: DropPolicy;
  readonly fsync: FsyncPolicy;
  readonly memoryBytes: number;
  readonly log: SinkLogger;
  readonly identity: string | null;
  readonly lock: DiskSpoolOptions['lock'];
}

export function resolveSpoolOptions(opts: DiskSpoolOptions): ResolvedSpoolOptions {
  const maxBytes = opts.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
  const r: ResolvedSpoolOptions = {
    dir: opts.dir,
    maxBytes,
    segmentBytes: opts.segmentBytes ?? Math.min(SPOOL_DEFAULTS.segmentBytes, Math.floor(maxBytes / 2)),
    dropPolicy: opts.dropPolicy ?? SPOOL_DEFAULTS.dropPolicy,
    fsync: opts.fsync ?? SPOOL_DEFAULTS.fsync,
    memoryBytes: opts.memoryBytes ?? SPOOL_DEFAULTS.memoryBytes,
    log: opts.log ?? noopLogger,
    identity: opts.identity ?? null,
    lock: opts.lock,
  };
  checkPositiveInt('spool_max_bytes', r.maxBytes, ...SPOOL_RANGES.maxBytes);
  checkPositiveInt('spool_segment_bytes', r.segmentBytes, 4096, Math.floor(r.maxBytes / 2));
  checkPositiveInt('spool_memory_bytes', r.memoryBytes, 0);
  if (r.dropPolicy !== 'drop_oldest' && r.dropPolicy !== 'drop_newest') {
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `spool_drop_policy: expected "drop_oldest" or "drop_newest", got ${JSON.stringify(r.dropPolicy)}`);
  }
  return r;
}
