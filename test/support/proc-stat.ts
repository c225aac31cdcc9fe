/**
 * A process as /proc shows it (what top and ps read), for tests and tools:
 * CPU time in clock ticks from /proc/PID/stat or in ns from schedstat,
 * memory from status and smaps, state, parent and start time from stat.
 * The daemon's own reader is src/ancestry/procfs-reader.ts; the tests check
 * the collector against this one, an independent reading.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime/starttime in /proc/PID/stat on every Linux. */
export const CLK_TCK = 100;
/** Nanoseconds per clock tick: a start time in ns is ⌊ns / this⌋ ticks in /proc. */
export const NS_PER_TICK = BigInt(1e9 / CLK_TCK);

/**
 * /proc/PID/stat's fields after the command name, so that field N of
 * proc(5) is [N - 3]; the name is cut at the last ')' because it may hold
 * spaces and parentheses. Throws when the process is gone.
 */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

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
    const f = statFields(pid);
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

/**
 * CPU time of every thread of a process in ms, from the scheduler's ns
 * counters (/proc/PID/task/TID/schedstat): /proc/PID/stat counts in 10 ms
 * ticks, too coarse for an idle daemon. NaN when the process is gone.
 */
export function schedCpuMs(pid: number): number {
  try {
    let ms = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      // A thread that ended between the listing and the read took its time with it.
      const t = threadCpuMs(pid, Number(tid));
      if (!Number.isNaN(t)) ms += t;
    }
    return ms;
  } catch {
    return NaN;
  }
}

/** One thread's CPU time in ms (schedstat, ns); the main thread's tid is the pid. NaN when it is gone. */
export function threadCpuMs(pid: number, tid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** State letter (R, S, Z, …), parent pid and start time in clock ticks since boot (field 22); null when gone. */
export function procState(pid: number): { state: string; ppid: number; startTicks: number } | null {
  try {
    const f = statFields(pid);
    return { state: f[0], ppid: Number(f[1]), startTicks: Number(f[19]) };
  } catch {
    return null;
  }
}

/**
 * Resident kB of the process's BPF ring-buffer mappings. The kernel maps the
 * ring's data pages twice back to back (so a wrapping record is contiguous),
 * and RSS counts them twice: memory figures leave this out and report it
 * apart (issue 14).
 */
export function ringRssKb(pid: number): number {
  try {
    let kb = 0;
    let inRing = false;
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inRing = line.includes('bpf-map') || line.includes('bpf-ringbuf');
      else if (inRing && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
    }
    return kb;
  } catch {
    return NaN;
  }
}

/** Seconds since boot (CLOCK_BOOTTIME), from /proc/uptime: 10 ms resolution. */
export function uptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}
