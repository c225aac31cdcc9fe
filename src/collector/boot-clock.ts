/**
 * Converts the kernel's CLOCK_BOOTTIME nanoseconds (record timestamps and
 * process start_boottime) into wall-clock time, and names the boot.
 *
 * The offset realtime − boottime changes only when the wall clock is set or
 * slewed; refresh() re-reads it, and the daemon calls it periodically.
 */
import { readFileSync } from 'node:fs';
import { CLOCK_BOOTTIME, CLOCK_REALTIME, clockNs, loadNative } from './libbpf';

export class BootClock {
  /** /proc/sys/kernel/random/boot_id without dashes: names this boot. */
  readonly bootId: string;
  private offsetNs: bigint;
  /**
   * boottime − monotonic (time spent suspended): nowBootNs() reads the
   * monotonic clock through process.hrtime, a few ns, where a koffi call to
   * clock_gettime costs ~1 µs and runs on every drain pass.
   */
  private bootMinusMonoNs: number;

  constructor(bootId = readBootId(), offsetNs = measureOffsetNs()) {
    this.bootId = bootId;
    this.offsetNs = offsetNs;
    this.bootMinusMonoNs = measureBootMinusMonoNs();
  }

  refresh(): void {
    this.offsetNs = measureOffsetNs();
    this.bootMinusMonoNs = measureBootMinusMonoNs();
  }

  /** Wall-clock epoch ns of a CLOCK_BOOTTIME instant. */
  epochNs(bootNs: bigint): bigint {
    return bootNs + this.offsetNs;
  }

  /** Wall-clock epoch ms of a CLOCK_BOOTTIME instant given as a Number of ns. */
  epochMs(bootNs: number): number {
    return (bootNs + Number(this.offsetNs)) / 1e6;
  }

  /** CLOCK_BOOTTIME now, in ns (a Number: exact below ~104 days of uptime). */
  nowBootNs(): number {
    return Number(process.hrtime.bigint()) + this.bootMinusMonoNs;
  }
}

export function readBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
}

function measureBootMinusMonoNs(): number {
  const n = loadNative();
  const m0 = Number(process.hrtime.bigint());
  const b = clockNs(n, CLOCK_BOOTTIME);
  const m1 = Number(process.hrtime.bigint());
  return Math.round(b - (m0 + m1) / 2);
}

/** realtime − boottime, sampled between two boottime reads to bound the error. */
function measureOffsetNs(): bigint {
  const n = loadNative();
  const b0 = clockNs(n, CLOCK_BOOTTIME);
  const r = clockNs(n, CLOCK_REALTIME);
  const b1 = clockNs(n, CLOCK_BOOTTIME);
  return BigInt(Math.round(r - (b0 + b1) / 2));
}
