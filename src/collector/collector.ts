/**
 * The kernel event source: loads the BPF program, drains its ring buffer and
 * hands decoded records downstream, in ring order.
 *
 * Start-up order matters: programs are attached *before* the task snapshot is
 * taken, so a process is either in the snapshot or in the stream (or both;
 * consumers treat repeats as idempotent), never in neither.
 */
import { readFileSync } from 'node:fs';
import { decodeRecord, type DecodeFailure, type KernelRecord, type TaskRecord } from './decode';
import { ExecTraceProgram, type KernelCounters, type ProgramOptions } from './load';
import { RingDrain, type DrainStats } from './ring-drain';

export interface CollectorOptions extends ProgramOptions {
  /** Drain period while records flow (the kernel wakes the daemon once the ring has been quiet). */
  waitTimeoutMs: number;
  /** Records per drain pass before consumer_pos is published. */
  batchRecords: number;
}

export interface CollectorHandlers {
  onRecord(record: KernelRecord): void;
  onInvalid(failure: DecodeFailure): void;
  /** After each drain pass with records: flush point for downstream batching. */
  onBatchEnd?(records: number): void;
}

export class Collector {
  private closed = false;

  private constructor(
    private readonly program: ExecTraceProgram,
    private readonly drain: RingDrain,
  ) {}

  /** Load and attach; records are buffered in the ring until start(). */
  static open(opts: CollectorOptions, handlers: CollectorHandlers): Collector {
    const program = ExecTraceProgram.open(opts);
    try {
      const onRecord = handlers.onRecord;
      const onInvalid = handlers.onInvalid;
      const drain = new RingDrain(program.ringFd, program.ringBytes, program.consumerFd, (buf, off, len) => {
        const r = decodeRecord(buf, off, len);
        if (r.kind === 'invalid') onInvalid(r);
        else onRecord(r);
      }, { waitTimeoutMs: opts.waitTimeoutMs, batchRecords: opts.batchRecords, onBatchEnd: handlers.onBatchEnd });
      return new Collector(program, drain);
    } catch (err) {
      program.close();
      throw err;
    }
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
    return out;
  }

  start(): void {

    this.drain.start();
  }

  /** Drain now, synchronously (tests and shutdown). */
  drainNow(): number {
    let total = 0;
    for (let n = this.drain.drainPass(); n > 0; n = this.drain.drainPass()) total += n;
    return total;
  }

  counters(): KernelCounters {
    return this.program.readCounters();
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

  get ringBytes(): number {
    return this.program.ringBytes;
  }

  /** Detach first so no new records arrive, then drain what is left, then free. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { program, drain } = this;
    try {
      program.detach();
      await drain.stop();
    } finally {
      drain.close();
      program.close();
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
