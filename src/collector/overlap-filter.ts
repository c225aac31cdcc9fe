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
/**
 * Both programs run in the same tracepoint call, one after the other: their
 * stamps of one event differ by microseconds. Two events with one key (a
 * process exec'ing the same file twice) are told apart by their times.
 */
const SAME_EVENT_NS = 10_000_000;

export class OverlapFilter {
  /** Key → the old ring's stamps of events with that key, not matched yet. */
  private readonly seen = new Map<string, number[]>();
  /** New-ring records skipped as already drained from the old ring. */
  skipped = 0;

  /** [fromNs, toNs]: CLOCK_BOOTTIME before the new attach and after the old detach. */
  constructor(private readonly fromNs: number, private readonly toNs: number) {}

  /** A record drained from the old ring. */
  note(r: KernelRecord): void {
    if (r.ktimeNs < this.fromNs || r.ktimeNs > this.toNs + SLACK_NS) return;
    const k = eventKey(r);
    const times = this.seen.get(k);
    if (times === undefined) this.seen.set(k, [r.ktimeNs]);
    else times.push(r.ktimeNs);
  }

  /** A record of the new ring: true when the old ring had the same event (then it is forgotten). */
  isDuplicate(r: KernelRecord): boolean {
    if (this.seen.size === 0 || r.ktimeNs > this.toNs + SLACK_NS) return false;
    const k = eventKey(r);
    const times = this.seen.get(k);
    if (times === undefined) return false;
    const i = times.findIndex((t) => Math.abs(t - r.ktimeNs) <= SAME_EVENT_NS);
    if (i < 0) return false;
    times.splice(i, 1);
    if (times.length === 0) this.seen.delete(k);
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
