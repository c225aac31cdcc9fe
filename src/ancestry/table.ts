/**
 * The process table: every process the daemon knows, keyed by identity
 * (tgid + start_boottime, never the pid alone), kept current from kernel
 * records and repaired from task snapshots, bounded in entries and time.
 *
 * Which entries stay, and for how long, is the entry store's job and its
 * essay (entry-store.ts); this file turns records, snapshots and /proc
 * reads into entries and answers the lineage walk.
 */
import { argvTruncated, type Decoded, type ExecRecord, type ExitRecord, type ForkRecord, type ProcessRef, type TaskRecord } from '../collector/decode';
import { AncestrydError } from '../errors';
import { ExecFlags } from '../collector/layout';
import { EntityIds, startTicks } from './identity';
import { EntryStore } from './entry-store';
import { LineageResult, OFF_CHAIN, walkLineage, type LineageSource } from './lineage';
import {
  LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED, LIST_REMOVED, NO_START,
  PARENT_FROM_CHAIN, PARENT_FROM_FORK, PARENT_FROM_SNAPSHOT, PARENT_UNKNOWN, ProcessEntry, type EntryContext,
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
  private readonly selfTgid: number;
  private readonly clock: TableClock;
  private readonly procfs: ProcfsReader;
  private readonly ids: EntityIds;
  private readonly ctx: EntryContext;
  private readonly store: EntryStore;

  /** When the first snapshot was taken; processes that started later should have a fork record. */
  private snapshotNs = -1n;
  private readonly strings = new Map<string, string>();
  private readonly bigints = new Map<bigint, bigint>();

  private readonly c = {
    hits: 0, misses: 0, procfsReads: 0, resyncs: 0, lineages: 0, execsWithoutFork: 0, kernelDrops: 0,
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
    this.store = new EntryStore(opts.cacheSize, opts.cacheTtlSeconds);
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
      this.store.advance(r.ktimeNs);
      // Before, not after: the previous result's views must stay intact until now.
      this.store.maintain();
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
    this.store.advance(nowBootNs);
    this.store.maintain();
  }

  /** The process with this identity, if held (no side effects). */
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
      if (t === undefined || !this.refill(t)) return null;
      e = t;
    }
    const out = new LineageResult();
    out.process = e;
    walkLineage(this, e, [], out);
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
    const c = this.c;
    const s = this.store;
    return {
      hits: c.hits,
      misses: c.misses,
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
      procfsReads: c.procfsReads,
      procfsFailures: { ...this.procfsFailures },
      resyncs: c.resyncs,
      lineages: c.lineages,
      incomplete: { ...this.incomplete },
      skipped: { ...this.skipped },
      execsWithoutFork: c.execsWithoutFork,
      exitsInferred: s.exitsInferred,
      kernelDrops: c.kernelDrops,
    };
  }

  // ---- records -------------------------------------------------------------

  private applyFork(r: ForkRecord): ForkEventView {
    let child = this.store.find(r.childTgid, r.childStartNs);
    // An evicted parent that dies before it is re-read stays as a tombstone: the gap then says why.
    const tomb = this.store.findEvictedLive(r.parentTgid, r.parentStartNs);
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
      this.store.retirePid(r.childTgid, r.childStartNs);
      parent = this.resolve(r.parentTgid, r.parentStartNs, null);
      child = new ProcessEntry(this.ctx, r.childTgid, r.childStartNs, 'event');
      // The child runs its creator's image until it execs; with CLONE_PARENT the creator is not the parent.
      const creator = r.creatorTgid === r.parentTgid ? parent : this.store.liveByPid(r.creatorTgid);
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
      this.store.insert(child);
      this.linkForked(child, parent, tomb, r);
    }
    const v = this.forkOut;
    v.record = r;
    v.process = child;
    v.parent = parent;
    return v;
  }

  private applyExec(r: ExecRecord): LineageResult {
    let e = this.store.find(r.tgid, r.startNs);
    if (e === null) {
      const t = this.store.findEvictedLive(r.tgid, r.startNs);
      if (t !== null) {
        this.store.reinstate(t);
        e = t;
      } else {
        e = this.createFromExec(r);
      }
    } else {
      this.store.touch(e);
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
    let e = this.store.find(r.tgid, r.startNs);
    if (e === null) {
      const t = this.store.findEvictedLive(r.tgid, r.startNs);
      if (t !== null) {
        this.store.killEvictedLive(t, r.ktimeNs);
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
      this.store.markExited(e, r.ktimeNs, r.exitCode, r.signal);
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
    this.store.retirePid(r.tgid, r.startNs);
    const e = new ProcessEntry(this.ctx, r.tgid, r.startNs, 'event');
    e.setParent(r.ppid, r.parentStartNs, PARENT_FROM_CHAIN);
    e.setCurrentParent(r.ppid, r.parentStartNs);
    e.comm = this.intern(r.comm);
    // Until an exec record gives it an image (a failed exec does not).
    e.detailsMissing = true;
    this.store.insert(e);
    // Its fork record was lost and a reaper is its parent now: the parent that
    // forked it may have exited and left it to init or a subreaper. Linking the
    // reaper would report an adopter as the fork-time parent.
    if (r.flags & ExecFlags.ET_EXEC_PARENT_REAPER && this.forkExpected(r.startNs, r.ppid)) {
      e.parentFrom = PARENT_UNKNOWN;
      e.parentMissing = 'events_lost';
      return e;
    }
    if (r.ppid !== 0) this.store.link(e, this.store.findHeld(r.ppid, r.parentStartNs));
    return e;
  }

  private applyImage(e: ProcessEntry, r: ExecRecord): void {
    this.store.releaseImage(e);
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
    this.store.holdImage(e);
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
        this.store.touch(p);
        return p;
      }
      if (l === LIST_EVICTED_LIVE) {
        this.c.misses++;
        return this.refill(p) ? p : null;
      }
      // A tombstone: removed entries are dead, so only the table can hold them again.
      const again = cur.parentMissing === null ? this.store.find(p.pid, p.startBoottimeNs) : null;
      this.c.misses++;
      if (again === null) {
        cur.parentMissing = 'evicted';
        return null;
      }
      this.store.link(cur, again);
      this.store.touch(again);
      return again;
    }
    if (cur.parentMissing !== null || cur.ppid === 0) return null;
    if (cur.parentStartNs < 0n) {
      // Only the pid is known (from /proc); the kernel chain names that live process exactly.
      const at = chainIndex === OFF_CHAIN ? findInChain(chain, cur.pid, cur.startBoottimeNs) : chainIndex;
      const nk = at + 1;
      if (at === OFF_CHAIN || nk >= chain.length || chain[nk].tgid !== cur.ppid) {
        this.c.misses++;
        cur.parentMissing = this.store.evictions > 0 ? 'evicted' : 'events_lost';
        return null;
      }
      cur.parentStartNs = chain[nk].startNs;
    }
    const e = this.resolve(cur.ppid, cur.parentStartNs, chain);
    if (e !== null) {
      this.store.link(cur, e);
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

  /** Find a process by identity: the table, then an evicted tombstone, then /proc. Counts hit or miss. */
  private resolve(tgid: number, startNs: bigint, chain: readonly ProcessRef[] | null): ProcessEntry | null {
    if (tgid === 0) return null;
    const e = this.store.find(tgid, startNs);
    if (e !== null) {
      this.c.hits++;
      this.store.touch(e);
      return e;
    }
    this.c.misses++;
    const t = this.store.findEvictedLive(tgid, startNs);
    if (t !== null) return this.refill(t) ? t : null;
    return this.loadFromProcfs(tgid, startNs, chain);
  }

  /** Read a process we never held; its identity is exact, /proc only confirms it. */
  private loadFromProcfs(tgid: number, startNs: bigint, chain: readonly ProcessRef[] | null): ProcessEntry | null {
    const res = this.readProcfs(tgid, startNs);
    if (res === null) return null;
    this.store.retirePid(tgid, startNs);
    const e = new ProcessEntry(this.ctx, tgid, startNs, 'procfs');
    this.fillFromProcfs(e, res);
    e.setIds(res);
    e.setParent(res.ppid, res.ppid === 0 ? NO_START : this.parentStartOf(tgid, startNs, res.ppid, chain), PARENT_FROM_CHAIN);
    e.setCurrentParent(e.ppid, e.parentStartNs);
    this.store.insert(e);
    if (e.parentStartNs >= 0n) this.store.link(e, this.store.findHeld(e.ppid, e.parentStartNs));
    return e;
  }

  /** The exact start of a live parent known by pid only: from the kernel chain, else a tick-verified table entry. */
  private parentStartOf(tgid: number, startNs: bigint, ppid: number, chain: readonly ProcessRef[] | null): bigint {
    if (chain !== null) {
      const at = findInChain(chain, tgid, startNs);
      if (at >= 0 && at + 1 < chain.length && chain[at + 1].tgid === ppid) return chain[at + 1].startNs;
      for (let i = 0; i < chain.length; i++) if (chain[i].tgid === ppid) return chain[i].startNs;
    }
    const p = this.store.liveByPid(ppid) ?? this.store.evictedLive.get(ppid) ?? null;
    if (p !== null && this.stillAlive(p)) return p.startBoottimeNs;
    return NO_START;
  }

  /** Bring an evicted live process back from /proc, or learn that it died. */
  private refill(t: ProcessEntry): boolean {
    const res = this.readProcfs(t.pid, t.startBoottimeNs);
    if (res === null) {
      this.store.killEvictedLive(t, this.store.nowNs);
      return false;
    }
    this.fillFromProcfs(t, res);
    this.store.reinstate(t);
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
    this.store.releaseImage(e);
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
    this.store.holdImage(e);
  }

  // ---- snapshots ---------------------------------------------------------------

  private mergeSnapshot(tasks: readonly TaskRecord[], first: boolean): void {
    const seen = new Set<ProcessEntry>();
    let takenNs = Infinity;
    for (const t of tasks) if (t.ktimeNs < takenNs) takenNs = t.ktimeNs;
    if (takenNs === Infinity) takenNs = this.store.nowNs;
    if (first && this.snapshotNs < 0n) this.snapshotNs = BigInt(takenNs);
    const created: ProcessEntry[] = [];
    for (const t of tasks) {
      if (t.kind !== 'task') continue;
      let e = this.store.findHeld(t.tgid, t.startNs);
      if (e !== null) {
        seen.add(e);
        if (e.list === LIST_EVICTED_LIVE || e.exitBootNs !== null) continue;
        e.setIds(t);
        e.cgroupId = t.cgroupId;
        if (!e.kernelThread) this.refreshImage(e);
        continue;
      }
      this.store.retirePid(t.tgid, t.startNs);
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
      this.store.insert(e);
      created.push(e);
    }
    // Parents may come after their children in the iterator's order: link once all are in.
    for (const e of created) {
      if (e.ppid !== 0) this.store.link(e, this.store.findHeld(e.ppid, e.parentStartNs));
    }
    if (!first) {
      // Alive in the table, absent from the kernel: the exit record was lost.
      // /proc confirms first, so a snapshot that missed a task (some kernels'
      // iterators skip pid 1) cannot kill a live process.
      for (let e = this.store.retained.head; e !== null;) {
        const next = e.next;
        if (e.exitBootNs === null && !seen.has(e) && !this.stillAlive(e)) this.store.inferExit(e, takenNs);
        e = next;
      }
      for (const t of [...this.store.evictedLive.values()]) {
        if (!seen.has(t) && !this.stillAlive(t)) this.store.killEvictedLive(t, takenNs);
      }
    }
    this.store.maintain();
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

  // ---- links from fork records ------------------------------------------------

  private linkForked(child: ProcessEntry, parent: ProcessEntry | null, tomb: ProcessEntry | null, r: ForkRecord): void {
    if (parent !== null) {
      this.store.link(child, parent);
    } else if (tomb !== null) {
      this.store.link(child, tomb);
      child.parentMissing = 'evicted';
    } else {
      this.store.link(child, null);
      child.parentMissing = this.forkGapReason(r);
    }
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
