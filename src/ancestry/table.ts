/**
 * The process table: every process the daemon knows, keyed by identity
 * (tgid + start_boottime, never the pid alone), kept current from kernel
 * records and repaired from task snapshots, bounded in entries and time.
 *
 * This class is the ancestry engine's one door for the daemon: it checks
 * the options, routes each record, snapshot and query to the part that
 * handles it, keeps any error inside (a bad record is counted, never thrown
 * into the drain) and adds the parts' counters up into stats. The parts are
 * files of their own so each can be read, and tested, without the others:
 *   entry-store.ts      the entries: index, lists, pins, tombstones, eviction
 *   record-applier.ts   fork, exec and exit records → entries
 *   snapshot-merge.ts   task snapshots → entries (bootstrap, resync)
 *   procfs-resolver.ts  a process by identity, from /proc when not held
 *   lineage-source.ts   each entry's parent for the lineage walk, or why not
 *   interner.ts         one copy of repeated strings and ids
 */
import type { Decoded, ExecRecord, ExitRecord, ForkRecord, TaskRecord } from '../collector/decode';
import { KernelChain } from '../collector/kernel-chain';
import { AncestrydError } from '../errors';
import { EntryStore } from './entry-store';
import { EntityIds } from './identity';
import { Interner } from './interner';
import { LineageResult, walkLineage } from './lineage';
import { TableLineage } from './lineage-source';
import type { EntryContext } from './process-entry';
import type { ProcfsFailureReason, ProcfsReader } from './procfs-reader';
import { ProcfsResolver } from './procfs-resolver';
import type { ExecLineage, ExitEventView, ForkEventView, IncompleteReason, ProcessView } from './process-view';
import { RecordApplier } from './record-applier';
import { SnapshotMerge } from './snapshot-merge';

/** The slice of BootClock the table needs; tests pass a fake. */
export interface TableClock {
  readonly bootId: string;
  epochNs(bootNs: bigint): bigint;
  /** CLOCK_BOOTTIME now: stamps /proc reads, which have no record time. */
  nowBootNs(): number;
}

export interface ProcessTableOptions {
  clock: TableClock;
  procfs: ProcfsReader;
  /** process_ancestry_cache_size: entries with details held. */
  cacheSize: number;
  /** process_ancestry_cache_ttl: seconds an unpinned exited process stays resolvable after its exit or last use. */
  cacheTtlSeconds: number;
  /** process_ancestry_max_depth: ancestors per exec. */
  maxDepth: number;
  /** The daemon's tgid: the kernel filters its forks, so its children legitimately have no fork record. */
  selfTgid?: number;
}

export const CACHE_SIZE_RANGE = [16, 10_000_000] as const;
export const CACHE_TTL_RANGE = [0, 86_400] as const;
export const MAX_DEPTH_RANGE = [1, 64] as const;

export type SkipReason =
  | 'invalid_record'
  | 'task_in_stream'
  | 'unknown_kind'
  | 'exit_unknown'
  | 'exit_duplicate'
  | 'internal_error';

export interface AncestryStats {
  /** Ancestor lookups answered by the table. */
  hits: number;
  /** Ancestor lookups the table could not answer itself (/proc was tried). */
  misses: number;
  evictions: number;
  evictionsExited: number;
  evictionsLive: number;
  evictionsPinned: number;
  expired: number;
  /** Entries with details: live + exited + pinned; bounded by cacheSize. */
  size: number;
  live: number;
  exited: number;
  pinned: number;
  /** Live processes evicted to tombstones, re-read from /proc on demand. */
  evictedLive: number;
  /** Removed entries still referenced by a descendant. */
  tombstones: number;
  estimatedBytes: number;
  /** Of estimatedBytes, what tombstones hold: evicted live processes, outside what the capacity bounds. */
  tombstoneBytes: number;
  procfsReads: number;
  /** /proc reads of a live process with an optional field unreadable (exe, cwd, cmdline, ns, stdio, an ssh session's connection): those may be empty or unknown. */
  procfsPartialReads: number;
  procfsFailures: Record<ProcfsFailureReason | 'pid_reused', number>;
  resyncs: number;
  lineages: number;
  incomplete: Record<IncompleteReason, number>;
  skipped: Record<SkipReason, number>;
  /** Exec of a process with no entry (fork record lost or filtered). */
  execsWithoutFork: number;
  /** Exits learned without an exit record: pid reuse or a resync snapshot. */
  exitsInferred: number;
  /** Kernel ring drops reported by the daemon, total. */
  kernelDrops: number;
}

export type ApplyResult = LineageResult | ForkEventView | ExitEventView;

/** Interned strings and cgroup ids: enough for every distinct program on a busy host. */
const INTERN_MAX = 8192;

export class ProcessTable {
  readonly maxDepth: number;
  private readonly store: EntryStore;
  private readonly resolver: ProcfsResolver;
  private readonly lineage: TableLineage;
  private readonly records: RecordApplier;
  private readonly snapshots: SnapshotMerge;

  private resyncs = 0;
  private kernelDrops = 0;
  private invalidRecords = 0;
  private tasksInStream = 0;
  private unknownKinds = 0;
  private internalErrors = 0;
  /** The last exception an apply swallowed, for the daemon's rate-limited log. */
  lastError: unknown = null;

  constructor(opts: ProcessTableOptions) {
    checkRange('process_ancestry_cache_size', opts.cacheSize, CACHE_SIZE_RANGE);
    checkRange('process_ancestry_cache_ttl', opts.cacheTtlSeconds, CACHE_TTL_RANGE);
    checkRange('process_ancestry_max_depth', opts.maxDepth, MAX_DEPTH_RANGE);
    this.maxDepth = opts.maxDepth;
    const clock = opts.clock;
    const ctx: EntryContext = { ids: new EntityIds(clock.bootId), epochNs: (bootNs) => clock.epochNs(bootNs) };
    const strings = new Interner<string>(INTERN_MAX);
    this.store = new EntryStore(opts.cacheSize, opts.cacheTtlSeconds);
    this.resolver = new ProcfsResolver(this.store, opts.procfs, ctx, strings, () => clock.nowBootNs());
    this.lineage = new TableLineage(opts.maxDepth, opts.selfTgid ?? 0, this.store, this.resolver);
    this.records = new RecordApplier(this.store, this.resolver, this.lineage, ctx, strings, new Interner<bigint>(INTERN_MAX));
    this.snapshots = new SnapshotMerge(this.store, this.resolver, this.lineage, ctx);
  }

  /**
   * Fill an empty table from a task snapshot (Collector.snapshot()) and
   * /proc. streamSinceNs: when the ring already held records older than the
   * snapshot (a pinned ring taken over), the time of the oldest: every
   * process started since then has its fork record in the stream.
   */
  bootstrap(tasks: readonly TaskRecord[], streamSinceNs: number | null = null): void {
    this.snapshots.merge(tasks, true, streamSinceNs);
  }

  /**
   * Repair the table after kernel records were lost: processes missing from
   * the snapshot have exited, new ones are read from /proc, and live images
   * are re-read in case an exec record was among the lost. Costs one /proc
   * read per live process; the daemon decides how often.
   */
  resync(tasks: readonly TaskRecord[], kernelDropsTotal: number): void {
    this.noteDrops(kernelDropsTotal);
    this.resyncs++;
    this.snapshots.merge(tasks, false);
  }

  /** The kernel's cumulative ring-drop count, as the daemon last read it. */
  noteDrops(kernelDropsTotal: number): void {
    if (kernelDropsTotal > this.kernelDrops) this.kernelDrops = kernelDropsTotal;
  }

  // The apply* methods return views that are reused and valid until the next
  // record. They never throw: an exception is counted in stats.skipped and kept
  // in lastError, and the record yields null.

  /** An exec (or failed exec) record: its lineage. */
  applyExec(r: ExecRecord): LineageResult | null {
    try {
      this.expire(r.ktimeNs);
      return this.records.exec(r);
    } catch (err) {
      return this.failed(err);
    }
  }

  applyFork(r: ForkRecord): ForkEventView | null {
    try {
      this.expire(r.ktimeNs);
      return this.records.fork(r);
    } catch (err) {
      return this.failed(err);
    }
  }

  /** Null also for the exit of a process the table does not hold, or one already applied (stats.skipped). */
  applyExit(r: ExitRecord): ExitEventView | null {
    try {
      this.expire(r.ktimeNs);
      return this.records.exit(r);
    } catch (err) {
      return this.failed(err);
    }
  }

  /** Any decoded record, for callers that have not told the kinds apart (the daemon's pipeline has). */
  apply(r: Decoded): ApplyResult | null {
    switch (r.kind) {
      case 'exec':
      case 'exec_failed':
        return this.applyExec(r);
      case 'fork':
        return this.applyFork(r);
      case 'exit':
        return this.applyExit(r);
      case 'invalid':
        this.invalidRecords++;
        return null;
      default:
        // A task record belongs to a snapshot, and decode turns an unknown
        // kind into 'invalid': neither changes an entry, but its time still
        // moves the clock.
        try {
          this.expire(r.ktimeNs);
        } catch (err) {
          return this.failed(err);
        }
        if (r.kind === 'task') this.tasksInStream++;
        else this.unknownKinds++;
        return null;
    }
  }

  private failed(err: unknown): null {
    this.internalErrors++;
    this.lastError = err;
    return null;
  }

  /**
   * Expire what is due at `nowBootNs` and enforce the size limit. Every
   * record does this first — before, not after: the previous result's views
   * must stay intact until now — and the daemon's timer for idle periods.
   */
  expire(nowBootNs: number): void {
    this.store.advance(nowBootNs);
    this.store.maintain();
  }

  /** The process with this identity, if held (no side effects). The daemon goes through apply(); tests inspect the table with this. */
  lookup(pid: number, startNs: bigint): ProcessView | null {
    return this.store.find(pid, startNs);
  }

  /** process_ancestry_cache_size in effect. */
  get cacheSize(): number {
    return this.store.cacheSize;
  }

  /**
   * SIGHUP: new cache size and TTL. A smaller size takes effect at the next
   * record or expire(): exited entries go first, as always.
   */
  reconfigure(cacheSize: number, cacheTtlSeconds: number): void {
    checkRange('process_ancestry_cache_size', cacheSize, CACHE_SIZE_RANGE);
    checkRange('process_ancestry_cache_ttl', cacheTtlSeconds, CACHE_TTL_RANGE);
    this.store.setBounds(cacheSize, cacheTtlSeconds);
  }

  /**
   * The live process with this pid and its lineage now, for admin queries:
   * a fresh result (not the reused one apply() returns), with no kernel
   * chain, so it follows the table's links. Null when no live process has
   * this pid.
   */
  liveLineage(pid: number): ExecLineage | null {
    let e = this.store.liveByPid(pid);
    if (e === null) {
      const t = this.store.evictedLive.get(pid);
      if (t === undefined) return null;
      e = this.resolver.refill(t);
      if (e === null) return null;
    }
    const out = new LineageResult();
    out.process = e;
    walkLineage(this.lineage, e, KernelChain.EMPTY, out);
    if (e.currentPpid !== 0 && !out.firstAncestorIs(e.currentPpid, e.currentParentStartNs)) {
      out.currentParent = this.store.find(e.currentPpid, e.currentParentStartNs);
    }
    return out;
  }

  /** Every live process the table holds with details (admin: the process tree). */
  liveProcesses(): IterableIterator<ProcessView> {
    return this.store.liveEntries();
  }

  get stats(): AncestryStats {
    const s = this.store;
    const p = this.resolver;
    const rec = this.records;
    return {
      hits: p.hits,
      misses: p.misses,
      evictions: s.evictions,
      evictionsExited: s.evictionsExited,
      evictionsLive: s.evictionsLive,
      evictionsPinned: s.evictionsPinned,
      expired: s.expired,
      size: s.size,
      live: s.live,
      exited: s.exited.length,
      pinned: s.pinned,
      evictedLive: s.evictedLive.size,
      tombstones: s.tombstones,
      estimatedBytes: s.estimatedBytes,
      tombstoneBytes: s.tombstoneBytes,
      procfsReads: p.reads,
      procfsPartialReads: p.partialReads,
      procfsFailures: { ...p.failures },
      resyncs: this.resyncs,
      lineages: rec.lineages,
      incomplete: { ...rec.incomplete },
      skipped: {
        invalid_record: this.invalidRecords,
        task_in_stream: this.tasksInStream,
        unknown_kind: this.unknownKinds,
        exit_unknown: rec.exitUnknown,
        exit_duplicate: rec.exitDuplicate,
        internal_error: this.internalErrors,
      },
      execsWithoutFork: rec.execsWithoutFork,
      exitsInferred: s.exitsInferred,
      kernelDrops: this.kernelDrops,
    };
  }
}

function checkRange(name: string, v: number, [lo, hi]: readonly [number, number]): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new AncestrydError('ANC_CONFIG_INVALID', `${name}=${v} is out of range [${lo}, ${hi}]`);
  }
}
