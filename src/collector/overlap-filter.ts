/**
 * An upgrade attaches the new programs before it detaches the old ones, so
 * that no instant has nothing attached; an event in between is written to
 * both rings. The old ring is drained first and its records of that window
 * are remembered; the same event met again in the new ring is skipped.
 *
 * An event is known by what both programs read from the same task at the
 * same tracepoint (not the record's time, which each program stamps itself).
 */
import type { KernelRecord } from './decode';

/** Records of the new ring stamped this long after the window still get checked. */
const SLACK_NS = 1_000_000_000;

export class OverlapFilter {
  private readonly seen = new Set<string>();
  /** New-ring records skipped as already drained from the old ring. */
  skipped = 0;

  /** [fromNs, toNs]: CLOCK_BOOTTIME before the new attach and after the old detach. */
  constructor(private readonly fromNs: number, private readonly toNs: number) {}

  /** A record drained from the old ring. */
  note(r: KernelRecord): void {
    if (r.ktimeNs >= this.fromNs && r.ktimeNs <= this.toNs + SLACK_NS) this.seen.add(eventKey(r));
  }

  /** A record of the new ring: true when the old ring had it (then it is forgotten). */
  isDuplicate(r: KernelRecord): boolean {
    if (this.seen.size === 0 || r.ktimeNs > this.toNs + SLACK_NS) return false;
    const k = eventKey(r);
    if (!this.seen.delete(k)) return false;
    this.skipped++;
    return true;
  }

  /** Nothing left to match: the drain can stop asking. */
  get done(): boolean {
    return this.seen.size === 0;
  }
}

function eventKey(r: KernelRecord): string {
  switch (r.kind) {
    case 'exec':
    case 'exec_failed':
      return `x${r.tgid}:${r.tid}:${r.startNs}:${r.ret}:${r.filename}`;
    case 'fork':
      return `f${r.childTgid}:${r.childStartNs}`;
    case 'exit':
      return `e${r.tgid}:${r.startNs}`;
    case 'task':
      return `t${r.tgid}:${r.startNs}`;
  }
}
