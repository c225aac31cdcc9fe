/**
 * The table's side of the lineage walk (LineageSource): each entry's
 * fork-time parent — by its link, in the store, or from /proc — or, when
 * there is none to be had, the reason.
 *
 * A missing parent is always explained, because an analyst reads
 * `evicted`, `exited_before_start` and `events_lost` as different problems
 * with different fixes (a bigger cache, an earlier start, a bigger ring).
 * The line between them is the daemon's first snapshot: a process that
 * started after it should have a fork record, so a parent missing then was
 * lost; one from before may simply have gone before the daemon looked.
 */
import type { ForkRecord } from '../collector/decode';
import type { KernelChain } from '../collector/kernel-chain';
import type { EntryStore } from './entry-store';
import { findInChain, OFF_CHAIN, type LineageSource } from './lineage';
import { LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED, LIST_REMOVED, PARENT_FROM_FORK, type ProcessEntry } from './process-entry';
import type { ProcfsResolver } from './procfs-resolver';
import type { IncompleteReason } from './process-view';

export class TableLineage implements LineageSource {
  /** When the first snapshot was taken; processes that started later should have a fork record. */
  private snapshotNs = -1n;

  constructor(
    readonly maxDepth: number,
    /** The daemon's tgid: the kernel filters its forks, so its children legitimately have no fork record. */
    private readonly selfTgid: number,
    private readonly store: EntryStore,
    private readonly resolver: ProcfsResolver,
  ) {}

  /** The first snapshot's time; later ones do not move the line. */
  snapshotTaken(ns: bigint): void {
    if (this.snapshotNs < 0n) this.snapshotNs = ns;
  }

  parentOf(cur: ProcessEntry, chain: KernelChain, chainIndex: number): ProcessEntry | null {
    const p = cur.parent;
    if (p !== null) {
      const l = p.list;
      if (l === LIST_LIVE || l === LIST_EXITED || l === LIST_PINNED) return this.resolver.hit(p);
      this.resolver.misses++;
      if (l === LIST_EVICTED_LIVE) return this.resolver.refill(p);
      // A tombstone: removed entries are dead, so only the store can hold them again.
      const again = cur.parentMissing === null ? this.store.find(p.pid, p.startBoottimeNs) : null;
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
      if (at === OFF_CHAIN || nk >= chain.length || chain.tgid(nk) !== cur.ppid) {
        this.resolver.misses++;
        cur.parentMissing = this.store.evictions > 0 ? 'evicted' : 'events_lost';
        return null;
      }
      cur.parentStartNs = chain.startNs(nk);
    }
    const e = this.resolver.resolve(cur.ppid, cur.parentStartNs, chain);
    if (e !== null) {
      this.store.link(cur, e);
      return e;
    }
    cur.parentMissing = this.gapReason(cur);
    return null;
  }

  gapReason(cur: ProcessEntry): IncompleteReason {
    if (cur.parentMissing !== null) return cur.parentMissing;
    if (cur.parent !== null && cur.parent.list === LIST_REMOVED) return 'evicted';
    if (this.snapshotNs >= 0n && cur.parentStartNs >= 0n && cur.parentStartNs < this.snapshotNs) return 'exited_before_start';
    return 'events_lost';
  }

  detailsReason(e: ProcessEntry): IncompleteReason | null {
    if (!e.detailsMissing) return null;
    // Read too late: gone since the snapshot (or evicted and gone), or never seen exec'ing.
    if (this.snapshotNs >= 0n && e.startBoottimeNs < this.snapshotNs) return 'exited_before_start';
    return e.source === 'event' ? 'events_lost' : 'evicted';
  }

  linkUncertain(cur: ProcessEntry): boolean {
    return cur.parentFrom !== PARENT_FROM_FORK && this.forkExpected(cur.startBoottimeNs, cur.ppid);
  }

  /**
   * Whether the table should have seen this process's fork record. A
   * bootstrap snapshot's parent is the best anyone can know; after the
   * snapshot every process has a fork record unless records were lost or
   * the daemon itself (filtered in the kernel) forked it.
   */
  forkExpected(startNs: bigint, ppid: number): boolean {
    return this.snapshotNs >= 0n && startNs >= this.snapshotNs && ppid !== this.selfTgid;
  }

  /**
   * Whether a process the table does not hold may have had a fork record it
   * never saw: always, once the table is filled, except for the daemon's own
   * children (filtered in the kernel).
   */
  forkMayBeMissing(ppid: number): boolean {
    return this.snapshotNs >= 0n && ppid !== this.selfTgid;
  }

  /** Why a fork record's parent is not in the table. */
  forkGapReason(r: ForkRecord): IncompleteReason {
    if (this.snapshotNs < 0n || r.parentStartNs >= this.snapshotNs) return 'events_lost';
    // The parent predates the snapshot: if the fork did too, the parent was gone before we could read it.
    return BigInt(r.ktimeNs) < this.snapshotNs ? 'exited_before_start' : 'evicted';
  }
}
