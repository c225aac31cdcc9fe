/**
 * The memory tail: the groups of records this process appended last, kept
 * in memory beside their place in the segment files. A sink that keeps up
 * reads what was just written; serving it from here saves a read(2) and a
 * checksum per batch. The groups live in one ring buffer (the arena, of
 * spool_memory_bytes, allocated at the first append) rather than a buffer
 * each, so appending allocates nothing. The files stay authoritative: the
 * oldest groups are forgotten whenever the arena needs their room, and a
 * reader behind what is kept reads the files instead.
 */
import type { Segment } from './segment-list';

/** An appended group as written: where in which segment, and its bytes (a view into the arena). */
export interface TailGroup {
  readonly seg: Segment;
  readonly fileOffset: number;
  readonly buf: Buffer;
  readonly arenaOff: number;
  /** Arena bytes skipped before it (wrapping to the arena's start). */
  readonly waste: number;
}

export class MemoryTail {
  /** Kept groups in append order, from `head`; slots before it are already forgotten. */
  private groups: TailGroup[] = [];
  private head = 0;
  private arena: Buffer | null = null;
  private arenaPos = 0;
  private arenaUsed = 0;

  constructor(private readonly size: number) {}

  /** Whether a group of `len` bytes can be kept at all. */
  fits(len: number): boolean {
    return len <= this.size;
  }

  /** Groups kept. */
  get length(): number {
    return this.groups.length - this.head;
  }

  /** The i-th kept group, oldest first. */
  at(i: number): TailGroup {
    return this.groups[this.head + i];
  }

  /**
   * Reserves `len` bytes (fits(len) must hold) for a group about to be
   * written at the end of `seg`, forgetting the oldest groups it needs room
   * from.
   */
  reserve(seg: Segment, len: number): Buffer {
    const size = this.size;
    if (this.arena === null) this.arena = Buffer.allocUnsafe(size);
    // Decided by whether it fits, not by the waste: a group that ended exactly
    // at the arena's end leaves no waste, and the next one must still wrap.
    const wraps = this.arenaPos + len > size;
    const waste = wraps ? size - this.arenaPos : 0;
    while (size - this.arenaUsed < waste + len && this.head < this.groups.length) this.forgetOldest();
    const off = wraps ? 0 : this.arenaPos;
    const buf = this.arena.subarray(off, off + len);
    this.groups.push({ seg, fileOffset: seg.bytes, buf, arenaOff: off, waste });
    this.arenaUsed += waste + len;
    this.arenaPos = off + len;
    return buf;
  }

  /** Forgets the group reserved last (its write failed). */
  unreserve(): void {
    const g = this.groups.pop()!;
    this.arenaUsed -= g.waste + g.buf.length;
    const last = this.groups[this.groups.length - 1];
    this.arenaPos = this.groups.length > this.head ? last.arenaOff + last.buf.length : 0;
    if (this.groups.length === this.head) {
      this.groups.length = 0;
      this.head = 0;
      this.arenaUsed = 0;
    }
  }

  /**
   * Forgets the groups a reader at `offset` of `seg` has passed, and those
   * of deleted segments: nobody reads them again.
   */
  forgetBefore(seg: Segment, offset: number): void {
    while (this.head < this.groups.length) {
      const g = this.groups[this.head];
      if (!g.seg.deleted && (g.seg === seg ? g.fileOffset + g.buf.length > offset : g.seg.firstId > seg.firstId)) break;
      this.forgetOldest();
    }
  }

  /** Forgets every group and lets the arena go. */
  clear(): void {
    this.groups = [];
    this.head = 0;
    this.arena = null;
    this.arenaPos = 0;
    this.arenaUsed = 0;
  }

  private forgetOldest(): void {
    const g = this.groups[this.head];
    this.groups[this.head++] = undefined as unknown as TailGroup;
    this.arenaUsed -= g.waste + g.buf.length;
    if (this.head === this.groups.length) {
      this.groups.length = 0;
      this.head = 0;
      this.arenaUsed = 0;
      this.arenaPos = 0;
    } else if (this.head > 64 && this.head * 2 > this.groups.length) {
      // Compact now and then: shifting on every forget would copy the array each time.
      this.groups = this.groups.slice(this.head);
      this.head = 0;
    }
  }
}
