/** Runs build/clock-offset (tools/lib/clock-offset.c): the offsets between CLOCK_BOOTTIME and the others. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface ClockOffsets {
  /** CLOCK_REALTIME − CLOCK_BOOTTIME, ns: a kernel timestamp + this = epoch ns. */
  realtimeMinusBoottimeNs: bigint;
  realtimeErrorNs: number;
  /** CLOCK_MONOTONIC − CLOCK_BOOTTIME, ns: 0 unless the machine was suspended. */
  monotonicMinusBoottimeNs: bigint;
  monotonicErrorNs: number;
}

export function readClockOffsets(root: string): ClockOffsets {
  const out = execFileSync(join(root, 'build', 'clock-offset'), { encoding: 'utf8' });
  // Parsed by hand: the realtime offset exceeds 2^53.
  const field = (k: string) => {
    const m = new RegExp(`"${k}":(-?\\d+)`).exec(out);
    if (!m) throw new Error(`build/clock-offset printed no ${k}: ${out}`);
    return m[1];
  };
  return {
    realtimeMinusBoottimeNs: BigInt(field('realtime_minus_boottime')),
    realtimeErrorNs: Number(field('realtime_error')),
    monotonicMinusBoottimeNs: BigInt(field('monotonic_minus_boottime')),
    monotonicErrorNs: Number(field('monotonic_error')),
  };
}
