/**
 * The daemon's side of the et_consumer map (bpf/exec_trace.h), mapped into
 * memory: the drain's sleeping flag, the daemon's identity (whose events the
 * kernel skips) and the drops it has accounted for. A pinned ring outlives
 * its daemon, so each daemon that takes it over writes its own identity, and
 * reads what the last one accounted for.
 */
import { AncestrydError } from '../errors';
import { EtConsumer, Kind } from './layout';
import { describeErrno, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, SC_PAGESIZE, type Native, type Ptr } from './libbpf';
import type { CounterKind, KernelCounters } from './load';

const KIND_INDEX: Record<CounterKind, number> = {
  exec: Kind.ET_KIND_EXEC, exec_failed: Kind.ET_KIND_EXEC_FAILED, fork: Kind.ET_KIND_FORK, exit: Kind.ET_KIND_EXIT,
};

/**
 * The drops per kind recorded in another set's et_consumer (a set being
 * replaced: read once, through the map, without mapping it).
 */
export function seenDropsOf(n: Native, consumerFd: number, valueSize: number): Record<CounterKind, number> {
  const out = { exec: 0, exec_failed: 0, fork: 0, exit: 0 };
  if (valueSize < EtConsumer.size) return out;
  const value = Buffer.alloc(valueSize);
  if (n.bpf.bpf_map_lookup_elem(consumerFd, Buffer.alloc(4), value) < 0) return out;
  for (const k of Object.keys(KIND_INDEX) as CounterKind[]) out[k] = Number(value.readBigUInt64LE(EtConsumer.fields.dropped_seen[0] + 8 * KIND_INDEX[k]));
  return out;
}

export class ConsumerState {
  private ptr: Ptr | null;
  private readonly pageSize: number;
  /** et_consumer.sleeping, shared with the BPF programs (Atomics). */
  readonly sleeping: Int32Array;
  private readonly self: Uint32Array;
  private readonly selfStart: BigUint64Array;
  private readonly droppedSeen: BigUint64Array;

  constructor(private readonly n: Native, consumerFd: number) {
    this.pageSize = Number(n.c.sysconf(SC_PAGESIZE));
    const ptr = n.c.mmap(null, this.pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, consumerFd, 0);
    if (ptr === MAP_FAILED) throw new AncestrydError('ANC_RING', `mapping et_consumer failed: ${describeErrno(n, n.errno())}`);
    this.ptr = ptr;
    const ab = n.view(ptr, this.pageSize);
    const f = EtConsumer.fields;
    this.sleeping = new Int32Array(ab, f.sleeping[0], 1);
    this.self = new Uint32Array(ab, f.self_tgid[0], 1);
    this.selfStart = new BigUint64Array(ab, f.self_start_ns[0], 1);
    this.droppedSeen = new BigUint64Array(ab, f.dropped_seen[0], f.dropped_seen[1] / 8);
  }

  /** From now on the kernel skips this process's events (0: skip none). */
  claim(tgid: number, startNs: bigint): void {
    // The start time first: a reader that sees the new pid sees its start too.
    Atomics.store(this.selfStart, 0, startNs);
    Atomics.store(this.self, 0, tgid);
  }

  /** Leaving: no process is skipped while no daemon runs. */
  release(): void {
    Atomics.store(this.self, 0, 0);
    Atomics.store(this.selfStart, 0, 0n);
  }

  /** Drops per kind the daemon before has accounted for (0 for a new set). */
  seenDrops(): Record<CounterKind, number> {
    const out = {} as Record<CounterKind, number>;
    for (const k of Object.keys(KIND_INDEX) as CounterKind[]) out[k] = Number(Atomics.load(this.droppedSeen, KIND_INDEX[k]));
    return out;
  }

  /** Record that the daemon has accounted for these drops. */
  noteDrops(c: KernelCounters): void {
    for (const k of Object.keys(KIND_INDEX) as CounterKind[]) Atomics.store(this.droppedSeen, KIND_INDEX[k], BigInt(c[k].dropped));
  }

  close(): void {
    if (this.ptr === null) return;
    this.n.c.munmap(this.ptr, this.pageSize);
    this.ptr = null;
  }
}
