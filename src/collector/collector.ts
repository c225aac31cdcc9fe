/**
 * The kernel event source: loads the BPF program, drains its ring buffer and
 * hands decoded records downstream, in ring order.
 *
 * Start-up order matters: programs are attached *before* the task snapshot is
 * taken, so a process is either in the snapshot or in the stream (or both;
 * consumers treat repeats as idempotent), never in neither. A pinned set
 * taken over (bpf_pin) was attached all along: its ring holds the records
 * of while no daemon ran, applied after the snapshot like any others.
 */
import { readFileSync } from 'node:fs';
import { ConsumerState } from './consumer-state';
import { decodeRecord, READABLE_VERSIONS, type DecodeFailure, type KernelRecord, type TaskRecord } from './decode';
import { loadNative } from './libbpf';
import {
  closeRetired, droppedSince, ExecTraceProgram, type CounterKind, type FailedExecHook, type KernelCounters, type PinState,
  type ProgramOptions, type RetiredSet,
} from './load';
import { OverlapFilter } from './overlap-filter';
import { removeSet } from './pins';
import { RingDrain, type DrainStats } from './ring-drain';

export interface CollectorOptions extends ProgramOptions {
  /** Drain period while records flow (the kernel wakes the daemon once the ring has been quiet). */
  waitTimeoutMs: number;
  /** Records per drain pass before consumer_pos is published. */
  batchRecords: number;
  /** Events of this thread group are not reported (the daemon: process.pid); 0: none skipped. */
  selfTgid: number;
}

export interface CollectorHandlers {
  /** An exec's chain reads the ring in place: to hold the record past this call, keepRecord() it. */
  onRecord(record: KernelRecord): void;
  onInvalid(failure: DecodeFailure): void;
  /** After each drain pass with records: flush point for downstream batching. */
  onBatchEnd?(records: number): void;
}

/** A set of another build drained and removed at start (an upgrade). */
export interface ReplacedSet {
  name: string;
  wireVersion: number | null;
  backlogBytes: number;
  records: number;
  /** Its wire version is one this decoder cannot read: its backlog was lost. */
  unreadable: boolean;
}

/** How the daemon came by its kernel side, for stats and the start-up log. */
export interface PinReport {
  state: PinState;
  dir: string | null;
  /** Adopted: bytes the ring held when the daemon took it over. */
  backlogBytes: number;
  /** Adopted: records lost to a full ring while no daemon ran (the pinned counters, less what the last daemon saw). */
  droppedWhileDown: Record<CounterKind, number>;
  /** Open to collecting, ms (load or adopt, pin, old sets detached). */
  openMs: number;
  replaced: ReplacedSet[];
  /** New-ring records skipped because the old ring had the same event (upgrade overlap). */
  overlapDuplicates: number;
  /** Why bpf_pin could not pin (then state is off), or null. */
  problem: string | null;
}

export class Collector {
  private closed = false;
  private overlap: OverlapFilter | null = null;
  private dropsSeenAtStart = 0;

  private constructor(
    private readonly program: ExecTraceProgram,
    private readonly consumer: ConsumerState,
    private readonly drain: RingDrain,
    private readonly handlers: CollectorHandlers,
    private readonly selfTgid: number,
    readonly pin: PinReport,
  ) {}

  /**
   * Load and attach, or take over a pinned set; records wait in the ring
   * until start(). A set taken over holds what happened while no daemon ran.
   */
  static open(opts: CollectorOptions, handlers: CollectorHandlers): Collector {
    const t0 = performance.now();
    const program = ExecTraceProgram.open(opts);
    let consumer: ConsumerState | null = null;
    try {
      consumer = new ConsumerState(loadNative(), program.consumerFd);
      let collector: Collector | null = null;
      const drain = new RingDrain(program.ringFd, program.ringBytes, consumer, (buf, off, len) => {
        collector!.onRecord(buf, off, len, false);
      }, { waitTimeoutMs: opts.waitTimeoutMs, batchRecords: opts.batchRecords, onBatchEnd: handlers.onBatchEnd });
      const seen = consumer.seenDrops();
      const droppedWhileDown = droppedSince(program.readCounters(), seen);
      for (const r of program.retired) for (const k of Object.keys(droppedWhileDown) as CounterKind[]) droppedWhileDown[k] += r.droppedWhileDown[k];
      collector = new Collector(program, consumer, drain, handlers, opts.selfTgid, {
        state: program.pinState, dir: program.pinDir, backlogBytes: program.pinState === 'adopted' ? drain.pending() : 0,
        droppedWhileDown, openMs: Math.round(performance.now() - t0), replaced: [], overlapDuplicates: 0, problem: program.pinProblem,
      });
      collector.dropsSeenAtStart = Object.values(seen).reduce((a, b) => a + b, 0);
      if (program.overlap !== null) collector.overlap = new OverlapFilter(program.overlap.fromNs, program.overlap.toNs);
      return collector;
    } catch (err) {
      consumer?.close();
      for (const r of program.retired) closeRetired(loadNative(), r);
      // A published set stays whole for the next start: detaching one of its
      // links here would leave it pinned and blind (a perf link's detach disables its event).
      program.close(program.pinState !== 'off');
      throw err;
    }
  }

  private onRecord(buf: Buffer, off: number, len: number, retired: boolean): void {
    const r = decodeRecord(buf, off, len);
    if (r.kind === 'invalid') {
      this.handlers.onInvalid(r);
      return;
    }
    const overlap = this.overlap;
    if (overlap !== null) {
      if (retired) overlap.note(r);
      else if (overlap.isDuplicate(r)) {
        this.pin.overlapDuplicates = overlap.skipped;
        if (overlap.done) this.overlap = null;
        return;
      }
    }
    this.handlers.onRecord(r);
  }

  /**
   * Every live thread group now, with exact start times.
   *
   * The task iterator of some kernels (6.18 here, both the all-tasks and the
   * by-pid forms) never visits pid 1. Init's exact start time is still known
   * from its children's parent_start_ns, so it is rebuilt from those.
   */
  snapshot(): TaskRecord[] {
    const out = parseTasks(this.program.snapshotTasks());
    if (!out.some((t) => t.tgid === 1)) {
      const child = out.find((t) => t.ppid === 1);
      if (child) out.unshift(initFromChild(child));
    }
    // The kernel skips the daemon's events by pid and exact start time, which only the snapshot gives.
    if (this.selfTgid !== 0) {
      const self = out.find((t) => t.tgid === this.selfTgid);
      if (self) this.consumer.claim(self.tgid, self.startNs);
    }
    return out;
  }

  /**
   * The oldest kernel time the stream reaches before any snapshot: a ring
   * taken over (or an old set's) holds records from while no daemon ran.
   * Null for a new set, whose stream starts now.
   */
  streamSinceNs(): number | null {
    let since = this.program.pinState === 'adopted' ? this.drain.firstPendingKtimeNs() : null;
    for (const r of this.program.retired) {
      if (r.wireVersion !== null && !READABLE_VERSIONS.includes(r.wireVersion)) continue;
      const d = new RingDrain(r.ringFd, r.ringBytes, null, () => undefined, { waitTimeoutMs: 0, batchRecords: 1 });
      try {
        const t = d.firstPendingKtimeNs();
        if (t !== null && (since === null || t < since)) since = t;
      } finally {
        d.close();
      }
    }
    return since;
  }

  /**
   * Start draining. An old set's ring (an upgrade) is drained to its end
   * first, so its records come before the new ring's, then it is removed.
   */
  start(): void {
    for (const r of this.program.retired) this.pin.replaced.push(this.drainRetired(r));
    this.program.retired = [];
    this.drain.start();
  }

  private drainRetired(r: RetiredSet): ReplacedSet {
    const n = loadNative();
    const out: ReplacedSet = { name: r.name, wireVersion: r.wireVersion, backlogBytes: 0, records: 0, unreadable: false };
    try {
      const d = new RingDrain(r.ringFd, r.ringBytes, null, (buf, off, len) => this.onRecord(buf, off, len, true),
        { waitTimeoutMs: 0, batchRecords: 4096, onBatchEnd: this.handlers.onBatchEnd });
      try {
        out.backlogBytes = d.pending();
        if (r.wireVersion !== null && !READABLE_VERSIONS.includes(r.wireVersion)) out.unreadable = true;
        else out.records = d.drainToEnd();
      } finally {
        d.close();
      }
    } finally {
      closeRetired(n, r);
      removeSet(r.dir);
    }
    return out;
  }

  /**
   * An output holds events in memory only (its disk is full): keep their
   * records in the kernel's ring until releaseRing() (RingDrain.hold).
   */
  holdRing(): void {
    this.drain.hold();
  }

  releaseRing(): void {
    this.drain.releaseHold();
  }

  /** Bytes of ring the daemon has read but keeps from the kernel (holdRing). */
  get heldBytes(): number {
    return this.drain.heldBytes;
  }

  /**
   * Drains what the ring holds now, synchronously, instead of at the drain's
   * next wakeup: for tests that must see a record's effect before going on.
   * The daemon drains on wakeups and in close().
   */
  drainNow(): number {
    let total = 0;
    for (let n = this.drain.drainPass(); n > 0; n = this.drain.drainPass()) total += n;
    return total;
  }

  counters(): KernelCounters {
    return this.program.readCounters();
  }

  /** The daemon has reported these drops: a pinned set's next daemon counts only later ones as lost while down. */
  dropsAccounted(c: KernelCounters): void {
    this.consumer.noteDrops(c);
  }

  /** Ring drops the daemon before had already accounted for (a pinned set taken over; else 0). */
  get dropsAccountedBefore(): number {
    return this.dropsSeenAtStart;
  }

  get drainStats(): Readonly<DrainStats> {
    return this.drain.stats;
  }

  /** What the last record whose processing threw threw (drainStats.handlerErrors counts them). */
  get lastHandlerError(): unknown {
    return this.drain.lastHandlerError;
  }

  get attachedPrograms(): readonly string[] {
    return this.program.attached;
  }

  /** What reports failed execs (null: off), and why not fexit when it is not. */
  get failedExecCapture(): { hook: FailedExecHook | null; fexitRefusal: string | null } {
    return { hook: this.program.failedExecHook, fexitRefusal: this.program.fexitRefusal };
  }

  get ringBytes(): number {
    return this.program.ringBytes;
  }

  /**
   * Not pinned: detach first so no new records arrive, then drain what is
   * left, then free. Pinned: the programs stay attached for the next daemon;
   * drain what the ring holds now, and hand the ring over.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { program, drain, consumer } = this;
    try {
      if (program.pinState === 'off') program.detach();
      await drain.stop();
      if (program.pinState !== 'off') consumer.release();
    } finally {
      drain.close();
      consumer.close();
      for (const r of program.retired) closeRetired(loadNative(), r);
      program.close(true);
    }
  }
}

function parseTasks(buf: Buffer): TaskRecord[] {
  const out: TaskRecord[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const size = buf.readUInt32LE(off + 4);
    if (size < 16 || off + size > buf.length) break;
    const r = decodeRecord(buf, off, size);
    if (r.kind === 'task') out.push(r);
    off += size;
  }
  return out;
}

/** A task record for pid 1 from what a child knows of it and what /proc/1 says. */
function initFromChild(child: TaskRecord): TaskRecord {
  let comm = 'init';
  const ids = [0, 0, 0, 0];
  try {
    comm = readFileSync('/proc/1/comm', 'utf8').trim();
    const status = readFileSync('/proc/1/status', 'utf8');
    const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    const gid = /^Gid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (uid && gid) ids.splice(0, 4, Number(uid[1]), Number(gid[1]), Number(uid[2]), Number(gid[2]));
  } catch {
    // /proc not mounted: keep the kernel facts, with init's usual identity.
  }
  return {
    kind: 'task', ktimeNs: child.ktimeNs, tgid: 1, ppid: 0, startNs: child.parentStartNs, parentStartNs: 0n,
    uid: ids[0], gid: ids[1], euid: ids[2], egid: ids[3], loginuid: 0xffffffff, kthread: false,
    pidNs: child.pidNs, mntNs: child.mntNs, cgroupId: child.cgroupId, comm,
  };
}
