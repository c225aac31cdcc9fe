/**
 * An exec's kernel ancestor chain (bpf/exec_trace.h, et_ancestor after
 * et_exec), nearest parent first, read in place from the record's bytes.
 * Why not decoded into ProcessRef objects: at depth 9 that made 19 objects
 * and 9 bigints per exec, ~800 of the 3 150 bytes allocated per exec
 * (bench:pipeline), while the table reads the chain only on its rare paths
 * (a parent known by pid alone, a /proc read).
 *
 * A decoded record's chain reads the ring's memory: the kernel reuses it
 * once the drain pass that read it ends, and a retired ring (a pinned set
 * taken over) is unmapped once drained, where a late read would crash the
 * process. Whatever holds a record past its handler keeps a copy
 * (keepRecord in decode.ts).
 */
import { readU64BigInt } from '../u64-le';
import type { ProcessRef } from './decode';
import { EtAncestor } from './layout';

const ANC_SIZE = EtAncestor.size;
const ANC_TGID = EtAncestor.fields.tgid[0];
const ANC_START = EtAncestor.fields.start_ns[0];

export class KernelChain {
  static readonly EMPTY = new KernelChain(Buffer.alloc(0), 0, 0);

  /** `length` ancestors at `off` in `buf`, as the kernel wrote them. */
  constructor(private readonly buf: Buffer, private readonly off: number, readonly length: number) {}

  /** A chain of its own memory, from objects (tests, tools); `pad` bytes before it, as a record's chain sits inside the ring. */
  static of(refs: readonly ProcessRef[], pad = 0): KernelChain {
    const buf = Buffer.alloc(pad + refs.length * ANC_SIZE);
    refs.forEach((r, i) => {
      buf.writeUInt32LE(r.tgid, pad + i * ANC_SIZE + ANC_TGID);
      buf.writeBigUInt64LE(r.startNs, pad + i * ANC_SIZE + ANC_START);
    });
    return new KernelChain(buf, pad, refs.length);
  }

  tgid(i: number): number {
    return this.buf.readUInt32LE(this.at(i) + ANC_TGID);
  }

  startNs(i: number): bigint {
    return readU64BigInt(this.buf, this.at(i) + ANC_START);
  }

  /** Where this process sits in the chain, or -1. */
  indexOf(tgid: number, startNs: bigint): number {
    for (let i = 0; i < this.length; i++) if (this.tgid(i) === tgid && this.startNs(i) === startNs) return i;
    return -1;
  }

  /** The chain in memory of its own, for holding a record past its handler. */
  keep(): KernelChain {
    if (this.length === 0) return KernelChain.EMPTY;
    return new KernelChain(Buffer.from(this.buf.subarray(this.off, this.off + this.length * ANC_SIZE)), 0, this.length);
  }

  /** The chain as objects: for display and tests, not the hot path. */
  refs(): ProcessRef[] {
    return Array.from({ length: this.length }, (_, i) => ({ tgid: this.tgid(i), startNs: this.startNs(i) }));
  }

  /** JSON.stringify and util.inspect of a record show the ancestors, not the ring's memory. */
  toJSON(): ProcessRef[] {
    return this.refs();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): ProcessRef[] {
    return this.refs();
  }

  /** The byte offset of ancestor i: past the chain, the record's other fields lie, so it is refused. */
  private at(i: number): number {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`ancestor ${i} of a chain of ${this.length}`);
    return this.off + i * ANC_SIZE;
  }
}
