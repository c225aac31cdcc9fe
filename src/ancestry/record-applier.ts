/**
 * Applies the kernel's fork, exec and exit records to the store's entries.
 *
 * Records are the table's most certain source and its per-exec hot path, so
 * each kind has its own typed method (the caller has already told the kinds
 * apart) and returns a result object reused for every record of that kind:
 * no allocation per record beyond the entries themselves. A record may
 * arrive for a process the table has never seen, or evicted; the applier
 * creates or re-reads it then, and records why its lineage has a gap.
 */
import { argvTruncated, execInteractive, type ExecRecord, type ExitRecord, type ForkRecord } from '../collector/decode';
import { ExecFlags } from '../collector/layout';
import { ENTRY_NONE, ENTRY_SSHD, entryKindOf } from './entry-leader';
import type { EntryStore } from './entry-store';
import type { Interner } from './interner';
import { LineageResult, walkLineage } from './lineage';
import type { TableLineage } from './lineage-source';
import { PARENT_FROM_CHAIN, PARENT_FROM_FORK, PARENT_UNKNOWN, ProcessEntry, type EntryContext } from './process-entry';
import type { ProcfsResolver } from './procfs-resolver';
import type { ExitEventView, ForkEventView, IncompleteReason } from './process-view';

class ForkView implements ForkEventView {
  record: ForkRecord = null as unknown as ForkRecord;
  process: ProcessEntry = null as unknown as ProcessEntry;
  parent: ProcessEntry | null = null;
}

class ExitView implements ExitEventView {
  record: ExitRecord = null as unknown as ExitRecord;
  process: ProcessEntry = null as unknown as ProcessEntry;
}

export class RecordApplier {
  lineages = 0;
  /** Exec of a process with no entry (fork record lost or filtered). */
  execsWithoutFork = 0;
  readonly incomplete: Record<IncompleteReason, number> = { depth_cap: 0, evicted: 0, exited_before_start: 0, events_lost: 0 };
  /** Exit records for a process not held (started before the daemon and not in the snapshot, or removed already). */
  exitUnknown = 0;
  /** Exit records whose status was already applied. */
  exitDuplicate = 0;

  private readonly execOut = new LineageResult();
  private readonly forkOut = new ForkView();
  private readonly exitOut = new ExitView();

  constructor(
    private readonly store: EntryStore,
    private readonly resolver: ProcfsResolver,
    private readonly lineage: TableLineage,
    private readonly ctx: EntryContext,
    private readonly strings: Interner<string>,
    private readonly cgroupIds: Interner<bigint>,
  ) {}

  fork(r: ForkRecord): ForkEventView {
    let child = this.store.find(r.childTgid, r.childStartNs);
    // An evicted parent that dies before it is re-read stays as a tombstone: the gap then says why.
    const tomb = this.store.findEvictedLive(r.parentTgid, r.parentStartNs);
    let parent: ProcessEntry | null;
    if (child !== null) {
      // Already known from a snapshot taken after this fork: the record is
      // the better source of the fork-time parent.
      parent = this.resolver.resolve(r.parentTgid, r.parentStartNs, null);
      if (child.parentFrom !== PARENT_FROM_FORK) {
        child.setParent(r.parentTgid, r.parentStartNs, PARENT_FROM_FORK);
        this.linkForked(child, parent, tomb, r);
      }
    } else {
      this.store.retirePid(r.childTgid, r.childStartNs);
      parent = this.resolver.resolve(r.parentTgid, r.parentStartNs, null);
      child = new ProcessEntry(this.ctx, r.childTgid, r.childStartNs, 'event');
      // The child runs its creator's image until it execs; with CLONE_PARENT the creator is not the parent.
      const creator = r.creatorTgid === r.parentTgid ? parent : this.store.liveByPid(r.creatorTgid);
      const from = creator ?? parent;
      if (from !== null) {
        child.inheritImage(from);
        child.setIds(from);
        child.cgroupId = from.cgroupId;
        // A forked child has a copy of its creator's descriptors and the same terminal.
        child.interactive = from.interactive;
        child.imageAtNs = r.ktimeNs;
      } else {
        child.detailsMissing = true;
      }
      // The record's uid is the child's at fork; the creator's ids are from its last exec or /proc read.
      child.uid = r.uid;
      child.comm = this.strings.intern(r.comm);
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

  exec(r: ExecRecord): LineageResult {
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
    const newImage = r.kind === 'exec' && r.ktimeNs > e.imageAtNs;
    if (newImage) this.applyImage(e, r);
    e.setCurrentParent(r.ppid, r.parentStartNs);

    const out = this.execOut;
    out.record = r;
    out.process = e;
    walkLineage(this.lineage, e, r.chain, out);
    out.currentParent = r.ppid !== 0 && !out.firstAncestorIs(r.ppid, r.parentStartNs)
      ? this.resolver.resolve(r.ppid, r.parentStartNs, r.chain)
      : null;
    if (newImage) this.classify(e, r, out);
    this.lineages++;
    if (out.incompleteReason !== null) this.incomplete[out.incompleteReason]++;
    return out;
  }

  /** Null when the exit cannot be applied: counted in exitUnknown or exitDuplicate. */
  exit(r: ExitRecord): ExitEventView | null {
    let e = this.store.find(r.tgid, r.startNs);
    if (e === null) {
      const t = this.store.findEvictedLive(r.tgid, r.startNs);
      if (t !== null) {
        this.store.killEvictedLive(t, r.ktimeNs);
        t.exitCode = r.exitCode;
        t.exitSignal = r.signal;
        e = t;
      } else {
        this.exitUnknown++;
        return null;
      }
    } else if (e.exitBootNs !== null) {
      // A resync or pid reuse already inferred this exit: the record adds the real status.
      if (e.exitCode !== null) {
        this.exitDuplicate++;
        return null;
      }
      e.exitBootNs = r.ktimeNs;
      e.exitCode = r.exitCode;
      e.exitSignal = r.signal;
    } else {
      this.store.markExited(e, r.ktimeNs, r.exitCode, r.signal);
    }
    e.setCurrentParent(r.ppid, r.parentStartNs);
    if (e.comm === '') e.comm = this.strings.intern(r.comm);
    const v = this.exitOut;
    v.record = r;
    v.process = e;
    return v;
  }

  /**
   * The entry kind of a new image. Only a session leader has one; its parent
   * now is the lineage's first ancestor or the one just resolved.
   */
  private classify(e: ProcessEntry, r: ExecRecord, out: LineageResult): void {
    if (r.sid !== r.tgid) {
      e.entryKind = ENTRY_NONE;
      e.sourceIp = null;
      return;
    }
    const parent = out.firstAncestorIs(r.ppid, r.parentStartNs) ? out.ancestry[0] : out.currentParent;
    e.entryKind = entryKindOf(e, r.sid, r.tty, r.ppid, parent, this.resolver.hostNamespaces());
    // The kernel sends the parent's connection for any session leader; only sshd's is where the session came from.
    e.sourceIp = e.entryKind === ENTRY_SSHD ? this.resolver.sourceIp(parent, r.peer) : null;
  }

  private createFromExec(r: ExecRecord): ProcessEntry {
    this.execsWithoutFork++;
    this.store.retirePid(r.tgid, r.startNs);
    const e = new ProcessEntry(this.ctx, r.tgid, r.startNs, 'event');
    e.setParent(r.ppid, r.parentStartNs, PARENT_FROM_CHAIN);
    e.setCurrentParent(r.ppid, r.parentStartNs);
    e.comm = this.strings.intern(r.comm);
    // Until an exec record gives it an image (a failed exec does not).
    e.detailsMissing = true;
    this.store.insert(e);
    // No fork record, and a reaper is its parent now: the parent that forked
    // it may have exited and left it to init or a subreaper. Linking the reaper
    // would report an adopter as the fork-time parent. The record was lost when
    // the process started after the first snapshot; from before it, it was
    // never ours (the process started before the daemon, or a daemon before
    // this one applied it and took the fact with it), so the parent went
    // before this daemon could know it.
    if (r.flags & ExecFlags.ET_EXEC_PARENT_REAPER && this.lineage.forkMayBeMissing(r.ppid)) {
      e.parentFrom = PARENT_UNKNOWN;
      e.parentMissing = this.lineage.forkExpected(r.startNs, r.ppid) ? 'events_lost' : 'exited_before_start';
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
    e.setImage(this.strings.intern(r.exe !== '' ? r.exe : r.filename), r, argvTruncated(r));
    e.comm = this.strings.intern(r.comm);
    e.setIds(r);
    e.cgroupId = this.cgroupIds.intern(r.cgroupId);
    e.kernelThread = false;
    e.interactive = execInteractive(r);
    e.ownImage = true;
    e.detailsMissing = false;
    e.execCount++;
    e.source = 'event';
    e.imageAtNs = r.ktimeNs;
    this.store.holdImage(e);
  }

  private linkForked(child: ProcessEntry, parent: ProcessEntry | null, tomb: ProcessEntry | null, r: ForkRecord): void {
    if (parent !== null) {
      this.store.link(child, parent);
    } else if (tomb !== null) {
      this.store.link(child, tomb);
      child.parentMissing = 'evicted';
    } else {
      this.store.link(child, null);
      child.parentMissing = this.lineage.forkGapReason(r);
    }
  }
}
