/**
 * The process table: every process the daemon knows, keyed by identity
 * (tgid + start_boottime, never the pid alone), kept current from kernel
 * records and repaired from task snapshots, bounded in entries and time.
 *
 * Retention (issue 3), in eviction order under process_ancestry_cache_size:
 *  1. Exited processes nothing needs, least recently used first. They also
 *     expire process_ancestry_cache_ttl seconds after exit or last use.
 *  2. Then live processes and *pinned* exited ancestors together, least
 *     recently used first. Live processes are never evicted while the table
 *     is under the limit.
 *
 * An exited process that a live descendant still needs for its lineage is
 * pinned: it does not expire, and is not evicted while unneeded exited
 * entries remain. A daemonized grandchild keeps its whole lineage for as
 * long as it lives, whatever the TTL and the churn around it. Pins are
 * counts of needing children (live, or pinned themselves), propagated up
 * through exited ancestors, so taking and releasing one is O(exited
 * ancestors) and allocation-free.
 *
 * Why one LRU order for live and pinned: an evicted live process keeps a
 * small tombstone (identity and parent link, no strings) and is re-read from
 * /proc, start time verified, when next needed — which works as long as it
 * is still alive then. The processes least likely to be alive are the
 * youngest, and those are the most recently used; the oldest unused ones
 * (idle kernel threads, long-lived daemons) are the safest to re-read. An
 * order that put all live processes (or all leaves) before pinned ones
 * evicted a just-forked parent first, and it died before it could be
 * re-read, losing its children's lineage (found on the real kernel); one
 * that put pinned ancestors before live ones would let old pins starve new
 * lineages when the table is too small for what is needed.
 * A walk that reaches a removed ancestor reports `evicted`, honestly.
 *
 * Time is CLOCK_BOOTTIME from the records themselves, so unit tests are
 * deterministic and a stalled drain does not expire what it has not yet seen.
 */
import { argvTruncated, type Decoded, type ExecRecord, type ExitRecord, type ForkRecord, type ProcessRef, type TaskRecord } from '../collector/decode';
import { AncestrydError } from '../errors';
import { ExecFlags } from '../collector/layout';
import { EntityIds, startTicks } from './identity';
import { EntryList } from './entry-list';
import { LineageResult, OFF_CHAIN, walkLineage, type LineageSource } from './lineage';
import {
  LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED, LIST_REMOVED, NO_START,
  PARENT_FROM_CHAIN, PARENT_FROM_FORK, PARENT_FROM_SNAPSHOT, PARENT_UNKNOWN, ProcessEntry, USE_TICK_NS, type EntryContext,
} from './process-entry';
import type { ProcfsFailureReason, ProcfsProcess, ProcfsReader } from './procfs-reader';
import type { ExecLineage, ExitEventView, ForkEventView, IncompleteReason, ProcessView } from './process-view';

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

/**
 * Bytes per entry besides its image strings: the object (~40 fields), its
 * boxed numbers, map slot, start-time bigint and entity id, plus an average
 * share of cached ancestor JSON. Calibrated so stats.estimatedBytes matches
 * the heap measured by tools/bench/bench-ancestry-memory.ts (within ~5%).
 */
const ENTRY_BYTES = 560;
/** A removed or evicted-live entry: the object and entity id, strings dropped. */
const TOMBSTONE_BYTES = 480;
/** Interned strings and cgroup ids: enough for every distinct program on a busy host. */
const INTERN_MAX = 8192;

class ForkView implements ForkEventView {
  record: ForkRecord = null as unknown as ForkRecord;
  process: ProcessEntry = null as unknown as ProcessEntry;
  parent: ProcessEntry | null = null;
}

class ExitView implements ExitEventView {
  record: ExitRecord = null as unknown as ExitRecord;
  process: ProcessEntry = null as unknown as ProcessEntry;
}

export class ProcessTable implements LineageSource {
  readonly maxDepth: number;
  private cacheSizeLimit: number;
  /** process_ancestry_cache_ttl in USE_TICK_NS units. */
  private ttlTicks: number;
  private readonly selfTgid: number;
  private readonly clock: TableClock;
  private readonly procfs: ProcfsReader;
  private readonly ids: EntityIds;
  private readonly ctx: EntryContext;

  /** tgid → newest entry; older incarnations of the pid hang off olderSamePid. */
  private readonly index = new Map<number, ProcessEntry>();
  /** tgid → tombstone of a live process evicted under size pressure. */
  private readonly evictedLive = new Map<number, ProcessEntry>();
  /** Live processes and pinned exited ancestors, least recently used first. */
  private readonly retained = new EntryList();
  /** Exited, needed by nobody: TTL and first eviction. */
  private readonly exited = new EntryList();
  private pinnedCount = 0;

  /** Latest CLOCK_BOOTTIME seen in a record, and the same in USE_TICK_NS units, rounded down and up. */
  private nowNs = 0;
  private nowTick = 0;
  private useTick = 0;
  /** When the first snapshot was taken; processes that started later should have a fork record. */
  private snapshotNs = -1n;
  private tombstones = 0;
  private ownedBytes = 0;
  private readonly strings = new Map<string, string>();
  private readonly bigints = new Map<bigint, bigint>();

  private readonly c = {
    hits: 0, misses: 0, evictionsExited: 0, evictionsLive: 0, evictionsPinned: 0, expired: 0,
    procfsReads: 0, resyncs: 0, lineages: 0, execsWithoutFork: 0, exitsInferred: 0, kernelDrops: 0,
  };
  private readonly procfsFailures: AncestryStats['procfsFailures'] = { gone: 0, denied: 0, raced: 0, malformed: 0, pid_reused: 0 };
  private readonly incomplete: AncestryStats['incomplete'] = { depth_cap: 0, evicted: 0, exited_before_start: 0, events_lost: 0 };
  private readonly skipped: AncestryStats['skipped'] = {
    invalid_record: 0, task_in_stream: 0, unknown_kind: 0, exit_unknown: 0, exit_duplicate: 0, internal_error: 0,
  };
  /** The last exception apply() swallowed, for the daemon's rate-limited log. */
  lastError: unknown = null;

  private readonly execOut = new LineageResult();
  private readonly forkOut = new ForkView();
  private readonly exitOut = new ExitView();

  constructor(opts: ProcessTableOptions) {
    checkRange('process_ancestry_cache_size', opts.cacheSize, CACHE_SIZE_RANGE);
    checkRange('process_ancestry_cache_ttl', opts.cacheTtlSeconds, CACHE_TTL_RANGE);
    checkRange('process_ancestry_max_depth', opts.maxDepth, MAX_DEPTH_RANGE);
    this.cacheSizeLimit = opts.cacheSize;
    this.ttlTicks = opts.cacheTtlSeconds * (1e9 / USE_TICK_NS);
    this.maxDepth = opts.maxDepth;
    this.selfTgid = opts.selfTgid ?? 0;
    this.clock = opts.clock;
    this.procfs = opts.procfs;
    this.ids = new EntityIds(opts.clock.bootId);
    const clock = opts.clock;
    this.ctx = { ids: this.ids, epochNs: (bootNs) => clock.epochNs(bootNs) };
  }

  /** Fill an empty table from a task snapshot (Collector.snapshot()) and /proc. */
  bootstrap(tasks: readonly TaskRecord[]): void {
    this.mergeSnapshot(tasks, true);
  }

  /**
   * Repair the table after kernel records were lost: processes missing from
   * the snapshot have exited, new ones are read from /proc, and live images
   * are re-read in case an exec record was among the lost. Costs one /proc
   * read per live process; the daemon decides how often.
   */
  resync(tasks: readonly TaskRecord[], kernelDropsTotal: number): void {
    this.noteDrops(kernelDropsTotal);
    this.c.resyncs++;
    this.mergeSnapshot(tasks, false);
  }

  /** The kernel's cumulative ring-drop count, as the daemon last read it. */
  noteDrops(kernelDropsTotal: number): void {
    if (kernelDropsTotal > this.c.kernelDrops) this.c.kernelDrops = kernelDropsTotal;
  }

  /**
   * Apply one kernel record. Exec (and failed exec) returns its lineage,
   * fork and exit return their views; all are reused and valid until the
   * next call. Never throws: bad input is counted in stats.skipped.
   */
  apply(r: Decoded): ApplyResult | null {
    try {
      if (r.kind === 'invalid') {
        this.skipped.invalid_record++;
        return null;
      }
      if (r.ktimeNs > this.nowNs) this.advance(r.ktimeNs);
      // Before, not after: the previous result's views must stay intact until now.
      this.maintain();
      switch (r.kind) {
        case 'exec':
        case 'exec_failed':
          return this.applyExec(r);
        case 'fork':
          return this.applyFork(r);
        case 'exit':
          return this.applyExit(r);
        case 'task':
          this.skipped.task_in_stream++;
          return null;
        default:
          this.skipped.unknown_kind++;
          return null;
      }
    } catch (err) {
      this.skipped.internal_error++;
      this.lastError = err;
      return null;
    }
  }

  /** Expire what is due at `nowBootNs` and enforce the size limit: for idle periods, from a timer. */
  expire(nowBootNs: number): void {
    if (nowBootNs > this.nowNs) this.advance(nowBootNs);
    this.maintain();
  }

  private advance(nowNs: number): void {
    this.nowNs = nowNs;
    // A use stamps the tick after it and expiry compares with the tick
    // before now, so rounding never expires anything early.
    this.nowTick = Math.floor(nowNs / USE_TICK_NS);
    this.useTick = Math.ceil(nowNs / USE_TICK_NS);
  }

  /** The process with this identity, if held (no side effects). */
  lookup(pid: number, startNs: bigint): ProcessView | null {
    return this.findIndexed(pid, startNs);
  }

  /** process_ancestry_cache_size in effect. */
  get cacheSize(): number {
    return this.cacheSizeLimit;
  }

  /**
   * SIGHUP: new cache size and TTL. A smaller size takes effect at the next
   * record or expire(): exited entries go first, as always.
   */
  reconfigure(cacheSize: number, cacheTtlSeconds: number): void {
    checkRange('process_ancestry_cache_size', cacheSize, CACHE_SIZE_RANGE);
    checkRange('process_ancestry_cache_ttl', cacheTtlSeconds, CACHE_TTL_RANGE);
    this.cacheSizeLimit = cacheSize;
    this.ttlTicks = cacheTtlSeconds * (1e9 / USE_TICK_NS);
  }

  /**
   * The live process with this pid and its lineage now, for admin queries:
   * a fresh result (not the reused one apply() returns), with no kernel
   * chain, so it follows the table's links. Null when no live process has
   * this pid.
   */
  liveLineage(pid: number): ExecLineage | null {
    let e = this.liveByPid(pid);
    if (e === null) {
      const t = this.evictedLive.get(pid);
      if (t === undefined || !this.refill(t)) return null;
      e = t;
    }
    const out = new LineageResult();
    out.process = e;
    walkLineage(this, e, [], out);
    if (e.currentPpid !== 0 && !out.firstAncestorIs(e.currentPpid, e.currentParentStartNs)) {
      out.currentParent = this.findIndexed(e.currentPpid, e.currentParentStartNs);
    }
    return out;
  }

  /** Every live process the table holds with details (admin: the process tree). */
  *liveProcesses(): IterableIterator<ProcessView> {
    for (const head of this.index.values()) {
      for (let e: ProcessEntry | null = head; e !== null; e = e.olderSamePid) {
        if (e.exitBootNs === null) yield e;
      }
    }
  }

  get stats(): AncestryStats {
    const c = this.c;
    const size = this.retained.length + this.exited.length;
    const live = this.retained.length - this.pinnedCount;
    return {
      hits: c.hits,
      misses: c.misses,
      evictions: this.evictions,
      evictionsExited: c.evictionsExited,
      evictionsLive: c.evictionsLive,
      evictionsPinned: c.evictionsPinned,
      expired: c.expired,
      size,
      live,
      exited: this.exited.length,
      pinned: this.pinnedCount,
      evictedLive: this.evictedLive.size,
      tombstones: this.tombstones,
      estimatedBytes: size * ENTRY_BYTES + (this.evictedLive.size + this.tombstones) * TOMBSTONE_BYTES + this.ownedBytes,
      tombstoneBytes: (this.evictedLive.size + this.tombstones) * TOMBSTONE_BYTES,
      procfsReads: c.procfsReads,
      procfsFailures: { ...this.procfsFailures },
      resyncs: c.resyncs,
      lineages: c.lineages,
      incomplete: { ...this.incomplete },
      skipped: { ...this.skipped },
      execsWithoutFork: c.execsWithoutFork,
      exitsInferred: c.exitsInferred,
      kernelDrops: c.kernelDrops,
    };
  }

  private get evictions(): number {
    return this.c.evictionsExited + this.c.evictionsLive + this.c.evictionsPinned;
  }

  // ---- records -------------------------------------------------------------

  private applyFork(r: ForkRecord): ForkEventView {
    let child = this.findIndexed(r.childTgid, r.childStartNs);
    // An evicted parent that dies before it is re-read stays as a tombstone: the gap then says why.
    const tomb = this.findEvictedLive(r.parentTgid, r.parentStartNs);
    let parent: ProcessEntry | null;
    if (child !== null) {
      // Already known from a snapshot taken after this fork: the record is
      // the better source of the fork-time parent.
      parent = this.resolve(r.parentTgid, r.parentStartNs, null);
      if (child.parentFrom !== PARENT_FROM_FORK) {
        child.setParent(r.parentTgid, r.parentStartNs, PARENT_FROM_FORK);
        this.linkForked(child, parent, tomb, r);
      }
    } else {
      this.retirePid(r.childTgid, r.childStartNs);
      parent = this.resolve(r.parentTgid, r.parentStartNs, null);
      child = new ProcessEntry(this.ctx, r.childTgid, r.childStartNs, 'event');
      // The child runs its creator's image until it execs; with CLONE_PARENT the creator is not the parent.
      const creator = r.creatorTgid === r.parentTgid ? parent : this.liveByPid(r.creatorTgid);
      const from = creator ?? parent;
      if (from !== null) {
        child.inheritImage(from);
        child.setIds(from);
        child.cgroupId = from.cgroupId;
        child.imageAtNs = r.ktimeNs;
      } else {
        child.detailsMissing = true;
      }
      // The record's uid is the child's at fork; the creator's ids are from its last exec or /proc read.
      child.uid = r.uid;
      child.comm = this.intern(r.comm);
      child.setParent(r.parentTgid, r.parentStartNs, PARENT_FROM_FORK);
      child.setCurrentParent(r.parentTgid, r.parentStartNs);
      this.insert(child);
      this.linkForked(child, parent, tomb, r);
    }
    const v = this.forkOut;
    v.record = r;
    v.process = child;
    v.parent = parent;
    return v;
  }

  private applyExec(r: ExecRecord): LineageResult {
    let e = this.findIndexed(r.tgid, r.startNs);
    if (e === null) {
      const t = this.findEvictedLive(r.tgid, r.startNs);
      if (t !== null) {
        this.reinstate(t);
        e = t;
      } else {
        e = this.createFromExec(r);
      }
    } else {
      this.touch(e);
    }
    // An exec older than the image we hold (read from /proc after it) changes nothing.
    if (r.kind === 'exec' && r.ktimeNs > e.imageAtNs) this.applyImage(e, r);
    e.setCurrentParent(r.ppid, r.parentStartNs);

    const out = this.execOut;
    out.record = r;
    out.process = e;
    walkLineage(this, e, r.chain, out);
    out.currentParent = r.ppid !== 0 && !out.firstAncestorIs(r.ppid, r.parentStartNs)
      ? this.resolve(r.ppid, r.parentStartNs, r.chain)
      : null;
    this.c.lineages++;
    if (out.incompleteReason !== null) this.incomplete[out.incompleteReason]++;
    return out;
  }

  private applyExit(r: ExitRecord): ExitEventView | null {
    let e = this.findIndexed(r.tgid, r.startNs);
    if (e === null) {
      const t = this.findEvictedLive(r.tgid, r.startNs);
      if (t !== null) {
        this.killEvictedLive(t, r.ktimeNs);
        t.exitCode = r.exitCode;
        t.exitSignal = r.signal;
        e = t;
      } else {
        // Started before the daemon and not in the snapshot, or removed already.
        this.skipped.exit_unknown++;
        return null;
      }
    } else if (e.exitBootNs !== null) {
      // A resync or pid reuse already inferred this exit: the record adds the real status.
      if (e.exitCode !== null) {
        this.skipped.exit_duplicate++;
        return null;
      }
      e.exitBootNs = r.ktimeNs;
      e.exitCode = r.exitCode;
      e.exitSignal = r.signal;
    } else {
      this.markExited(e, r.ktimeNs, r.exitCode, r.signal);
    }
    e.setCurrentParent(r.ppid, r.parentStartNs);
    if (e.comm === '') e.comm = this.intern(r.comm);
    const v = this.exitOut;
    v.record = r;
    v.process = e;
    return v;
  }

  private createFromExec(r: ExecRecord): ProcessEntry {
    this.c.execsWithoutFork++;
    this.retirePid(r.tgid, r.startNs);
    const e = new ProcessEntry(this.ctx, r.tgid, r.startNs, 'event');
    e.setParent(r.ppid, r.parentStartNs, PARENT_FROM_CHAIN);
    e.setCurrentParent(r.ppid, r.parentStartNs);
    e.comm = this.intern(r.comm);
    // Until an exec record gives it an image (a failed exec does not).
    e.detailsMissing = true;
    this.insert(e);
    // Its fork record was lost and a reaper is its parent now: the parent that
    // forked it may have exited and left it to init or a subreaper. Linking the
    // reaper would report an adopter as the fork-time parent.
    if (r.flags & ExecFlags.ET_EXEC_PARENT_REAPER && this.forkExpected(r.startNs, r.ppid)) {
      e.parentFrom = PARENT_UNKNOWN;
      e.parentMissing = 'events_lost';
      return e;
    }
    if (r.ppid !== 0) this.link(e, this.findHeld(r.ppid, r.parentStartNs));
    return e;
  }

  private applyImage(e: ProcessEntry, r: ExecRecord): void {
    this.ownedBytes -= imageBytes(e);
    if (e.ownImage) e.pushExecImage();
    // The file that runs, as the kernel resolved it; the name exec was given
    // only where the kernel could not resolve it (ET_EXEC_EXE_UNAVAILABLE).
    e.setImage(this.intern(r.exe !== '' ? r.exe : r.filename), r.argv, argvTruncated(r));
    e.comm = this.intern(r.comm);
    e.setIds(r);
    e.cgroupId = this.internId(r.cgroupId);
    e.kernelThread = false;
    e.ownImage = true;
    e.detailsMissing = false;
    e.execCount++;
    e.source = 'event';
    e.imageAtNs = r.ktimeNs;
    this.ownedBytes += imageBytes(e);
  }

  /**
   * One copy of each repeated string (comm, executable path) and cgroup id:
   * the decoder makes fresh ones per record, and thousands of processes run
   * the same few programs. Bounded; once full, new values are kept as they come.
   */
  private intern(s: string): string {
    const have = this.strings.get(s);
    if (have !== undefined) return have;
    if (this.strings.size < INTERN_MAX) this.strings.set(s, s);
    return s;
  }

  private internId(id: bigint): bigint {
    const have = this.bigints.get(id);
    if (have !== undefined) return have;
    if (this.bigints.size < INTERN_MAX) this.bigints.set(id, id);
    return id;
  }

  // ---- lineage support (LineageSource) ---------------------------------------

  /** @internal */
  parentOf(cur: ProcessEntry, chain: readonly ProcessRef[], chainIndex: number): ProcessEntry | null {
    const p = cur.parent;
    if (p !== null) {
      const l = p.list;
      if (l === LIST_LIVE || l === LIST_EXITED || l === LIST_PINNED) {
        this.c.hits++;
        this.touch(p);
        return p;
      }
      if (l === LIST_EVICTED_LIVE) {
        this.c.misses++;
        return this.refill(p) ? p : null;
      }
      // A tombstone: removed entries are dead, so only the table can hold them again.
      const again = cur.parentMissing === null ? this.findIndexed(p.pid, p.startBoottimeNs) : null;
      this.c.misses++;
      if (again === null) {
        cur.parentMissing = 'evicted';
        return null;
      }
      this.link(cur, again);
      this.touch(again);
      return again;
    }
    if (cur.parentMissing !== null || cur.ppid === 0) return null;
    if (cur.parentStartNs < 0n) {
      // Only the pid is known (from /proc); the kernel chain names that live process exactly.
      const at = chainIndex === OFF_CHAIN ? findInChain(chain, cur.pid, cur.startBoottimeNs) : chainIndex;
      const nk = at + 1;
      if (at === OFF_CHAIN || nk >= chain.length || chain[nk].tgid !== cur.ppid) {
        this.c.misses++;
        cur.parentMissing = this.evictions > 0 ? 'evicted' : 'events_lost';
        return null;
      }
      cur.parentStartNs = chain[nk].startNs;
    }
    const e = this.resolve(cur.ppid, cur.parentStartNs, chain);
    if (e !== null) {
      this.link(cur, e);
      return e;
    }
    cur.parentMissing = this.gapReason(cur);
    return null;
  }

  /** @internal */
  gapReason(cur: ProcessEntry): IncompleteReason {
    if (cur.parentMissing !== null) return cur.parentMissing;
    if (cur.parent !== null && cur.parent.list === LIST_REMOVED) return 'evicted';
    if (this.snapshotNs >= 0n && cur.parentStartNs >= 0n && cur.parentStartNs < this.snapshotNs) return 'exited_before_start';
    return 'events_lost';
  }

  /** @internal */
  detailsReason(e: ProcessEntry): IncompleteReason | null {
    if (!e.detailsMissing) return null;
    // Read too late: gone since the snapshot (or evicted and gone), or never seen exec'ing.
    if (this.snapshotNs >= 0n && e.startBoottimeNs < this.snapshotNs) return 'exited_before_start';
    return e.source === 'event' ? 'events_lost' : 'evicted';
  }

  /** @internal */
  linkUncertain(cur: ProcessEntry): boolean {
    return cur.parentFrom !== PARENT_FROM_FORK && this.forkExpected(cur.startBoottimeNs, cur.ppid);
  }

  /**
   * Whether the table should have seen this process's fork record. A
   * bootstrap snapshot's parent is the best anyone can know; after the
   * snapshot every process has a fork record unless records were lost or
   * the daemon itself (filtered in the kernel) forked it.
   */
  private forkExpected(startNs: bigint, ppid: number): boolean {
    return this.snapshotNs >= 0n && startNs >= this.snapshotNs && ppid !== this.selfTgid;
  }

  // ---- lookup and /proc --------------------------------------------------------

  private findIndexed(tgid: number, startNs: bigint): ProcessEntry | null {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      if (e.startBoottimeNs === startNs) return e;
      e = e.olderSamePid;
    }
    return null;
  }

  private findEvictedLive(tgid: number, startNs: bigint): ProcessEntry | null {
    const t = this.evictedLive.get(tgid);
    return t !== undefined && t.startBoottimeNs === startNs ? t : null;
  }

  /** An entry of this identity the table holds in any form a child can link to: indexed or an evicted tombstone. */
  private findHeld(tgid: number, startNs: bigint): ProcessEntry | null {
    return this.findIndexed(tgid, startNs) ?? this.findEvictedLive(tgid, startNs);
  }

  private liveByPid(tgid: number): ProcessEntry | null {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      if (e.exitBootNs === null) return e;
      e = e.olderSamePid;
    }
    return null;
  }

  /** Find a process by identity: the table, then an evicted tombstone, then /proc. Counts hit or miss. */
  private resolve(tgid: number, startNs: bigint, chain: readonly ProcessRef[] | null): ProcessEntry | null {
    if (tgid === 0) return null;
    const e = this.findIndexed(tgid, startNs);
    if (e !== null) {
      this.c.hits++;
      this.touch(e);
      return e;
    }
    this.c.misses++;
    const t = this.findEvictedLive(tgid, startNs);
    if (t !== null) return this.refill(t) ? t : null;
    return this.loadFromProcfs(tgid, startNs, chain);
  }

  /** Read a process we never held; its identity is exact, /proc only confirms it. */
  private loadFromProcfs(tgid: number, startNs: bigint, chain: readonly ProcessRef[] | null): ProcessEntry | null {
    const res = this.readProcfs(tgid, startNs);
    if (res === null) return null;
    this.retirePid(tgid, startNs);
    const e = new ProcessEntry(this.ctx, tgid, startNs, 'procfs');
    this.fillFromProcfs(e, res);
    e.setIds(res);
    e.setParent(res.ppid, res.ppid === 0 ? NO_START : this.parentStartOf(tgid, startNs, res.ppid, chain), PARENT_FROM_CHAIN);
    e.setCurrentParent(e.ppid, e.parentStartNs);
    this.insert(e);
    if (e.parentStartNs >= 0n) this.link(e, this.findHeld(e.ppid, e.parentStartNs));
    return e;
  }

  /** The exact start of a live parent known by pid only: from the kernel chain, else a tick-verified table entry. */
  private parentStartOf(tgid: number, startNs: bigint, ppid: number, chain: readonly ProcessRef[] | null): bigint {
    if (chain !== null) {
      const at = findInChain(chain, tgid, startNs);
      if (at >= 0 && at + 1 < chain.length && chain[at + 1].tgid === ppid) return chain[at + 1].startNs;
      for (let i = 0; i < chain.length; i++) if (chain[i].tgid === ppid) return chain[i].startNs;
    }
    const p = this.liveByPid(ppid) ?? this.evictedLive.get(ppid) ?? null;
    if (p !== null && this.stillAlive(p)) return p.startBoottimeNs;
    return NO_START;
  }

  /** Bring an evicted live process back from /proc, or learn that it died. */
  private refill(t: ProcessEntry): boolean {
    const res = this.readProcfs(t.pid, t.startBoottimeNs);
    if (res === null) {
      this.killEvictedLive(t, this.nowNs);
      return false;
    }
    this.fillFromProcfs(t, res);
    this.reinstate(t);
    return true;
  }

  /** One /proc read, counted; null unless it is the process with this start time. */
  private readProcfs(tgid: number, startNs: bigint): ProcfsProcess | null {
    this.c.procfsReads++;
    const res = this.procfs.read(tgid);
    if (!res.ok) {
      this.procfsFailures[res.reason]++;
      return null;
    }
    if (res.startTicks !== startTicks(startNs)) {
      this.procfsFailures.pid_reused++;
      return null;
    }
    return res;
  }

  private fillFromProcfs(e: ProcessEntry, res: ProcfsProcess, keepOldImage = false): void {
    this.ownedBytes -= imageBytes(e);
    if (keepOldImage) e.pushExecImage();
    e.setImage(this.intern(res.path), res.argv, res.argvTruncated);
    e.cwd = res.cwd;
    e.comm = this.intern(res.comm);
    e.kernelThread = res.kernelThread;
    e.ownImage = true;
    // A zombie has neither exe nor cmdline; an exe we may not read (init on
    // some VMs, EACCES even for root) still leaves the command line.
    e.detailsMissing = res.path === '' && res.argv.length === 0 && !res.kernelThread;
    e.source = 'procfs';
    e.imageAtNs = this.clock.nowBootNs();
    this.ownedBytes += imageBytes(e);
  }

  // ---- snapshots ---------------------------------------------------------------

  private mergeSnapshot(tasks: readonly TaskRecord[], first: boolean): void {
    const seen = new Set<ProcessEntry>();
    let takenNs = Infinity;
    for (const t of tasks) if (t.ktimeNs < takenNs) takenNs = t.ktimeNs;
    if (takenNs === Infinity) takenNs = this.nowNs;
    if (first && this.snapshotNs < 0n) this.snapshotNs = BigInt(takenNs);
    const created: ProcessEntry[] = [];
    for (const t of tasks) {
      if (t.kind !== 'task') continue;
      let e = this.findHeld(t.tgid, t.startNs);
      if (e !== null) {
        seen.add(e);
        if (e.list === LIST_EVICTED_LIVE || e.exitBootNs !== null) continue;
        e.setIds(t);
        e.cgroupId = t.cgroupId;
        if (!e.kernelThread) this.refreshImage(e);
        continue;
      }
      this.retirePid(t.tgid, t.startNs);
      e = new ProcessEntry(this.ctx, t.tgid, t.startNs, first ? 'bootstrap' : 'procfs');
      e.setIds(t);
      e.cgroupId = t.cgroupId;
      e.comm = t.comm;
      e.kernelThread = t.kthread;
      e.setParent(t.ppid, t.parentStartNs, PARENT_FROM_SNAPSHOT);
      e.setCurrentParent(e.ppid, e.parentStartNs);
      seen.add(e);
      if (!t.kthread) {
        const res = this.readProcfs(t.tgid, t.startNs);
        if (res !== null) {
          this.fillFromProcfs(e, res);
          if (first) e.source = 'bootstrap';
        } else {
          // Gone since the snapshot: its exit record is on its way.
          e.detailsMissing = true;
        }
      } else {
        e.imageAtNs = takenNs;
      }
      this.insert(e);
      created.push(e);
    }
    // Parents may come after their children in the iterator's order: link once all are in.
    for (const e of created) {
      if (e.ppid !== 0) this.link(e, this.findHeld(e.ppid, e.parentStartNs));
    }
    if (!first) {
      // Alive in the table, absent from the kernel: the exit record was lost.
      // /proc confirms first, so a snapshot that missed a task (some kernels'
      // iterators skip pid 1) cannot kill a live process.
      for (let e = this.retained.head; e !== null;) {
        const next = e.next;
        if (e.exitBootNs === null && !seen.has(e) && !this.stillAlive(e)) this.inferExit(e, takenNs);
        e = next;
      }
      for (const t of [...this.evictedLive.values()]) {
        if (!seen.has(t) && !this.stillAlive(t)) this.killEvictedLive(t, takenNs);
      }
    }
    this.maintain();
  }

  /** Whether the process still runs: its pid's start time in /proc is still its own. */
  private stillAlive(e: ProcessEntry): boolean {
    this.c.procfsReads++;
    return this.procfs.readStartTicks(e.pid) === startTicks(e.startBoottimeNs);
  }

  /** Resync: re-read a live image in case its exec record was lost. */
  private refreshImage(e: ProcessEntry): void {
    const res = this.readProcfs(e.pid, e.startBoottimeNs);
    if (res === null) return;
    if (res.path === e.path && e.sameArgv(res.argv)) return;
    this.fillFromProcfs(e, res, e.ownImage && e.path !== '');
  }

  // ---- structure: index, lists, pins -----------------------------------------

  /**
   * Index and list an entry, most recently used: a new one, or an evicted
   * live one read back. Link it to its parent after, so a live one pins it.
   */
  private insert(e: ProcessEntry): void {
    e.olderSamePid = this.index.get(e.pid) ?? null;
    this.index.set(e.pid, e);
    e.lastUse = this.useTick;
    if (e.exitBootNs === null) {
      e.needing = true;
      e.list = LIST_LIVE;
      this.retained.push(e);
    } else {
      e.list = LIST_EXITED;
      this.exited.push(e);
    }
  }

  private unindex(e: ProcessEntry): void {
    const head = this.index.get(e.pid);
    if (head === e) {
      if (e.olderSamePid !== null) this.index.set(e.pid, e.olderSamePid);
      else this.index.delete(e.pid);
    } else {
      let p = head ?? null;
      while (p !== null && p.olderSamePid !== e) p = p.olderSamePid;
      if (p !== null) p.olderSamePid = e.olderSamePid;
    }
    e.olderSamePid = null;
  }

  private listOf(e: ProcessEntry): EntryList | null {
    switch (e.list) {
      case LIST_LIVE: return this.retained;
      case LIST_EXITED: return this.exited;
      case LIST_PINNED: return this.retained;
      default: return null;
    }
  }

  /** Mark used: least recently used goes first, and an exited entry's TTL restarts. */
  private touch(e: ProcessEntry): void {
    e.lastUse = this.useTick;
    const l = this.listOf(e);
    if (l !== null) l.moveToTail(e);
  }

  /**
   * A new pid incarnation: any live entry with this pid but another start
   * time has exited unseen (its exit record was lost, or is the reason for the
   * reuse and got here late).
   */
  private retirePid(tgid: number, startNs: bigint): void {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      const older = e.olderSamePid;
      if (e.exitBootNs === null && e.startBoottimeNs !== startNs) this.inferExit(e, this.nowNs);
      e = older;
    }
    const t = this.evictedLive.get(tgid);
    if (t !== undefined && t.startBoottimeNs !== startNs) this.killEvictedLive(t, this.nowNs);
  }

  /** An exit known without its exit record (no status). */
  private inferExit(e: ProcessEntry, exitNs: number): void {
    this.c.exitsInferred++;
    this.markExited(e, exitNs, null, null);
  }

  private markExited(e: ProcessEntry, exitNs: number, code: number | null, signal: number | null): void {
    e.exitBootNs = exitNs;
    e.exitCode = code;
    e.exitSignal = signal;
    if (e.list !== LIST_LIVE) return;
    e.lastUse = this.useTick;
    if (e.pins > 0) {
      e.list = LIST_PINNED;
      this.pinnedCount++;
      this.retained.moveToTail(e);
    } else {
      this.retained.remove(e);
      e.list = LIST_EXITED;
      this.exited.push(e);
      this.setNeeding(e, false);
    }
  }

  private linkForked(child: ProcessEntry, parent: ProcessEntry | null, tomb: ProcessEntry | null, r: ForkRecord): void {
    if (parent !== null) {
      this.link(child, parent);
    } else if (tomb !== null) {
      this.link(child, tomb);
      child.parentMissing = 'evicted';
    } else {
      this.link(child, null);
      child.parentMissing = this.forkGapReason(r);
    }
  }

  private link(child: ProcessEntry, parent: ProcessEntry | null): void {
    if (child.parent === parent) return;
    this.unlinkParent(child);
    if (parent === null) return;
    child.parent = parent;
    // Share the parent's bigint: the record's copy of the same value is then garbage (24 bytes per entry).
    if (child.parentStartNs === parent.startBoottimeNs) {
      if (child.currentParentStartNs === child.parentStartNs) child.currentParentStartNs = parent.startBoottimeNs;
      child.parentStartNs = parent.startBoottimeNs;
    }
    if (parent.refs === 0 && parent.list === LIST_REMOVED) this.tombstones++;
    parent.refs++;
    if (child.needing) this.addPin(parent);
  }

  private unlinkParent(child: ProcessEntry): void {
    const p = child.parent;
    if (p === null) return;
    child.parent = null;
    if (child.needing) this.dropPin(p);
    p.refs--;
    if (p.refs === 0 && p.list === LIST_REMOVED) this.tombstones--;
  }

  private setNeeding(e: ProcessEntry, needing: boolean): void {
    if (e.needing === needing) return;
    e.needing = needing;
    if (e.parent === null) return;
    if (needing) this.addPin(e.parent);
    else this.dropPin(e.parent);
  }

  /** One more needing child: an exited parent becomes pinned, and needs its own parent in turn. */
  private addPin(p: ProcessEntry | null): void {
    while (p !== null) {
      p.pins++;
      if (p.pins !== 1 || p.list !== LIST_EXITED) return;
      this.exited.remove(p);
      p.list = LIST_PINNED;
      this.pinnedCount++;
      this.retained.push(p);
      p.needing = true;
      p = p.parent;
    }
  }

  /** One fewer: a pinned parent with no needing child left starts its TTL and releases its own parent. */
  private dropPin(p: ProcessEntry | null): void {
    while (p !== null) {
      p.pins--;
      if (p.pins !== 0 || p.list !== LIST_PINNED) return;
      this.retained.remove(p);
      this.pinnedCount--;
      p.list = LIST_EXITED;
      p.lastUse = this.useTick;
      this.exited.push(p);
      p.needing = false;
      p = p.parent;
    }
  }

  // ---- bounds ------------------------------------------------------------------

  private maintain(): void {
    const ttl = this.ttlTicks;
    const now = this.nowTick;
    for (let h = this.exited.head; h !== null && h.lastUse + ttl <= now; h = this.exited.head) {
      this.c.expired++;
      this.remove(h);
    }
    while (this.retained.length + this.exited.length > this.cacheSize) {
      if (this.exited.head !== null) {
        this.c.evictionsExited++;
        this.remove(this.exited.head);
        continue;
      }
      const h = this.retained.head;
      if (h === null) break;
      if (h.list === LIST_LIVE) {
        this.c.evictionsLive++;
        this.evictLive(h);
      } else {
        this.c.evictionsPinned++;
        this.remove(h);
      }
    }
  }

  /** Remove an exited entry; descendants that still point here find a tombstone and report `evicted`. */
  private remove(e: ProcessEntry): void {
    const l = this.listOf(e);
    if (l !== null) l.remove(e);
    if (e.list === LIST_PINNED) this.pinnedCount--;
    this.unindex(e);
    this.setNeeding(e, false);
    this.unlinkParent(e);
    this.ownedBytes -= imageBytes(e);
    e.stripDetails();
    e.list = LIST_REMOVED;
    if (e.refs > 0) this.tombstones++;
  }

  /** Evict a live process: keep identity and parent link (it still needs its ancestors), drop strings. */
  private evictLive(e: ProcessEntry): void {
    this.listOf(e)?.remove(e);
    this.unindex(e);
    const old = this.evictedLive.get(e.pid);
    if (old !== undefined) this.killEvictedLive(old, this.nowNs);
    this.ownedBytes -= imageBytes(e);
    e.stripDetails();
    e.detailsMissing = true;
    e.list = LIST_EVICTED_LIVE;
    this.evictedLive.set(e.pid, e);
  }

  private reinstate(t: ProcessEntry): void {
    this.evictedLive.delete(t.pid);
    this.insert(t);
  }

  /** An evicted live process turned out dead: it becomes a plain tombstone. */
  private killEvictedLive(t: ProcessEntry, exitNs: number): void {
    if (this.evictedLive.get(t.pid) === t) this.evictedLive.delete(t.pid);
    t.exitBootNs = exitNs;
    this.setNeeding(t, false);
    this.unlinkParent(t);
    t.list = LIST_REMOVED;
    if (t.refs > 0) this.tombstones++;
  }

  private forkGapReason(r: ForkRecord): IncompleteReason {
    if (this.snapshotNs < 0n || r.parentStartNs >= this.snapshotNs) return 'events_lost';
    // The parent predates the snapshot: if the fork did too, the parent was gone before we could read it.
    return BigInt(r.ktimeNs) < this.snapshotNs ? 'exited_before_start' : 'evicted';
  }
}

function checkRange(name: string, v: number, [lo, hi]: readonly [number, number]): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new AncestrydError('ANC_CONFIG_INVALID', `${name}=${v} is out of range [${lo}, ${hi}]`);
  }
}

function findInChain(chain: readonly ProcessRef[], tgid: number, startNs: bigint): number {
  for (let i = 0; i < chain.length; i++) if (chain[i].tgid === tgid && chain[i].startNs === startNs) return i;
  return OFF_CHAIN;
}

/** V8 one-byte string: 16-byte header, rounded to 8. Two-byte strings are undercounted; it is an estimate. */
function strBytes(s: string): number {
  return (16 + s.length + 7) & ~7;
}

/** @internal The strings an image owns: path, argv, cwd, earlier images. */
export function imageBytes(e: ProcessEntry): number {
  if (!e.ownImage) return 0;
  let n = strBytes(e.path) + strBytes(e.argvText);
  if (e.cwd !== null) n += strBytes(e.cwd);
  for (const img of e.execChain) n += 48 + strBytes(img.path) + strBytes(img.cmdline);
  return n;
}
