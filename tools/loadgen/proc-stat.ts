/** CPU time and memory of a process, from /proc (what top and ps read). */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat on every Linux. */
export const CLK_TCK = 100;

export interface ProcSample {
  /** user + system CPU time, ms. */
  cpuMs: number;
  rssKb: number;
  /** Peak RSS (VmHWM), kB. */
  hwmKb: number;
  threads: number;
}

/** null when the process is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return {
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK,
      rssKb: kb('VmRSS'),
      hwmKb: kb('VmHWM'),
      threads: Number(f[17]),
    };
  } catch {
    return null;
  }
}

/** State letter (R, S, Z, …) and start time in clock ticks since boot (field 22); null when gone. */
export function procState(pid: number): { state: string; startTicks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], startTicks: Number(f[19]) };
  } catch {
    return null;
  }
}

/** Seconds since boot (CLOCK_BOOTTIME), from /proc/uptime: 10 ms resolution. */
export function uptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}
