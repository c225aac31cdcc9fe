/**
 * Names a process: boot id + start_boottime + tgid → entity_id.
 *
 * Format: `<boot id, 32 lowercase hex, no dashes>-<start_boottime ns, decimal>-<tgid, decimal>`,
 * e.g. `3f2a…9c1e-705577682275-13218`. Anyone on the same boot can compute it
 * from /proc/sys/kernel/random/boot_id and the kernel's start_boottime, so it
 * is the same across daemon restarts and for every observer; the pid alone
 * is not an identity (pids are reused within seconds under churn, issue 3).
 * Readable rather than hashed so an analyst can see the pid and start time.
 */

/** /proc/<pid>/stat reports start time in USER_HZ ticks; USER_HZ is 100 on every Linux target we build. */
export const USER_HZ = 100;
const NS_PER_TICK = 1_000_000_000n / BigInt(USER_HZ);

export class EntityIds {
  readonly bootId: string;
  private readonly prefix: string;

  constructor(bootId: string) {
    this.bootId = bootId.toLowerCase().replace(/-/g, '');
    this.prefix = this.bootId + '-';
  }

  /** Called once per table entry, never per lineage step. */
  format(startNs: bigint, tgid: number): string {
    const id = this.prefix + startNs.toString() + '-' + tgid;
    // Concatenation makes a tree of four strings (~150 bytes); reading a
    // character flattens it to one (~70 bytes) once the GC drops the tree.
    id.charCodeAt(0);
    return id;
  }
}

/** start_boottime as /proc/<pid>/stat field 22 shows it: floor(ns / (1e9 / USER_HZ)). */
export function startTicks(startNs: bigint): number {
  return Number(startNs / NS_PER_TICK);
}
