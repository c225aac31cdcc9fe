/**
 * Reads procgen's ground truth: one JSON line per exec, written by the
 * exec'ing process just before execve (see the header of procgen.c).
 *
 *   {"tag","mode","pid","start_ticks","parent_now","lineage":[[pid,ticks],…]}
 *
 * ticks are /proc/PID/stat starttime: clock ticks (USER_HZ 100) since boot,
 * floor(start_boottime_ns / 10_000_000). pid + ticks name a process.
 */

/** A process named as /proc names it: pid and start time in clock ticks. */
export type PidTicks = readonly [pid: number, ticks: number];

export interface TruthExec {
  tag: string;
  mode: string;
  pid: number;
  startTicks: number;
  /** getppid() just before exec: the parent after any reparenting. */
  parentNow: number;
  /** Fork-time ancestors, nearest first, ending at pid 1. */
  lineage: PidTicks[];
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** One truth line; throws with the reason when it is not one (a truth file is ours: no silent skips). */
export function parseTruthLine(line: string): TruthExec {
  const v = JSON.parse(line) as Record<string, unknown>;
  const { tag, mode, pid, start_ticks: startTicks, parent_now: parentNow, lineage } = v;
  if (typeof tag !== 'string' || tag === '') throw new Error('truth line: "tag" must be a non-empty string');
  if (typeof mode !== 'string') throw new Error(`truth line ${tag}: "mode" must be a string`);
  if (!isInt(pid) || !isInt(startTicks) || !isInt(parentNow)) {
    throw new Error(`truth line ${tag}: pid, start_ticks and parent_now must be integers`);
  }
  if (!Array.isArray(lineage) || !lineage.every((e) => Array.isArray(e) && e.length === 2 && isInt(e[0]) && isInt(e[1]))) {
    throw new Error(`truth line ${tag}: "lineage" must be [[pid,ticks],…]`);
  }
  return { tag, mode, pid, startTicks, parentNow, lineage: lineage as PidTicks[] };
}
