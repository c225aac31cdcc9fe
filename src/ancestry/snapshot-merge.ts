/**
 * Merges a kernel task snapshot (Collector.snapshot()) into the store: at
 * start it fills the empty table; after lost records (resync) it repairs it.
 *
 * A snapshot is the kernel's list of who is alive, with ids and parents but
 * no image, so new processes are read from /proc; on resync held ones are
 * re-read too, in case an exec record was among the lost. A process the
 * table holds but the snapshot lacks has exited unseen, but is marked so
 * only when /proc agrees.
 */
import type { TaskRecord } from '../collector/decode';
import type { EntryStore } from './entry-store';
import type { TableLineage } from './lineage-source';
import { LIST_EVICTED_LIVE, PARENT_FROM_SNAPSHOT, ProcessEntry, type EntryContext } from './process-entry';
import type { ProcfsProcess } from './procfs-reader';
import type { ProcfsResolver } from './procfs-resolver';

export class SnapshotMerge {
  constructor(
    private readonly store: EntryStore,
    private readonly resolver: ProcfsResolver,
    private readonly lineage: TableLineage,
    private readonly ctx: EntryContext,
  ) {}

  /**
   * `first`: the bootstrap snapshot, which sets the line for gap reasons
   * (its own time, or streamSinceNs when the stream reaches further back)
   * and infers no exits.
   */
  merge(tasks: readonly TaskRecord[], first: boolean, streamSinceNs: number | null = null): void {
    const store = this.store;
    const seen = new Set<ProcessEntry>();
    let takenNs = Infinity;
    for (const t of tasks) if (t.ktimeNs < takenNs) takenNs = t.ktimeNs;
    if (takenNs === Infinity) takenNs = store.nowNs;
    if (first) this.lineage.snapshotTaken(BigInt(streamSinceNs !== null && streamSinceNs < takenNs ? streamSinceNs : takenNs));
    const created: ProcessEntry[] = [];
    // What /proc showed of each created entry, for its entry kind once parents are linked.
    const reads: (ProcfsProcess | null)[] = [];
    for (const t of tasks) {
      if (t.kind !== 'task') continue;
      let e = store.findHeld(t.tgid, t.startNs);
      if (e !== null) {
        seen.add(e);
        if (e.list === LIST_EVICTED_LIVE || e.exitBootNs !== null) continue;
        e.setIds(t);
        e.cgroupId = t.cgroupId;
        if (!e.kernelThread) this.refreshImage(e);
        continue;
      }
      store.retirePid(t.tgid, t.startNs);
      e = new ProcessEntry(this.ctx, t.tgid, t.startNs, first ? 'bootstrap' : 'procfs');
      e.setIds(t);
      e.cgroupId = t.cgroupId;
      e.comm = t.comm;
      e.kernelThread = t.kthread;
      e.setParent(t.ppid, t.parentStartNs, PARENT_FROM_SNAPSHOT);
      e.setCurrentParent(e.ppid, e.parentStartNs);
      seen.add(e);
      let res: ProcfsProcess | null = null;
      if (!t.kthread) {
        res = this.resolver.read(t.tgid, t.startNs);
        if (res !== null) {
          this.resolver.fill(e, res);
          if (first) e.source = 'bootstrap';
        } else {
          // Gone since the snapshot: its exit record is on its way.
          e.detailsMissing = true;
        }
      } else {
        e.imageAtNs = takenNs;
      }
      store.insert(e);
      created.push(e);
      reads.push(res);
    }
    // Parents may come after their children in the iterator's order: link once all are in.
    for (let i = 0; i < created.length; i++) {
      const e = created[i];
      if (e.ppid !== 0) store.link(e, store.findHeld(e.ppid, e.parentStartNs));
      const res = reads[i];
      if (res !== null) this.resolver.classify(e, res, e.parent);
    }
    if (!first) {
      // Alive in the table, absent from the kernel: the exit record was lost.
      // /proc confirms first, so a snapshot that missed a task (some kernels'
      // iterators skip pid 1) cannot kill a live process.
      for (let e = store.retained.head; e !== null;) {
        const next = e.next;
        if (e.exitBootNs === null && !seen.has(e) && !this.resolver.isAlive(e)) store.inferExit(e, takenNs);
        e = next;
      }
      for (const t of [...store.evictedLive.values()]) {
        if (!seen.has(t) && !this.resolver.isAlive(t)) store.killEvictedLive(t, takenNs);
      }
    }
    store.maintain();
  }

  /** Resync: re-read a live image in case its exec record was lost. */
  private refreshImage(e: ProcessEntry): void {
    const res = this.resolver.read(e.pid, e.startBoottimeNs);
    if (res === null) return;
    if (res.path === e.path && e.argvText === res.argvText) return;
    this.resolver.fill(e, res, e.ownImage && e.path !== '');
    this.resolver.classify(e, res, e.parent);
  }
}
