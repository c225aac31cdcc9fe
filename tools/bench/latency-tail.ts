/**
 * Event latency alone, cheaply, for benchmarks: follows the results log and
 * takes each line's eid kernel time with a regex instead of parsing the
 * line, so the measuring costs the machine little while the exec rate is
 * being measured. (The soak's CheckSession parses every line.)
 */
import { LogTailer } from '../../test/support/log-tail';
import { Samples } from '../../test/support/samples';

const EID = /"eid":"[0-9a-f]+-(\d+)-\d+-\d+"/;

export class LatencyTail {
  readonly latencyMs = new Samples();
  private readonly tailer: LogTailer;

  /**
   * `monoMinusBootNs`: CLOCK_MONOTONIC − CLOCK_BOOTTIME (see check-session.ts).
   * Lines already in the log when start() is called are not counted.
   */
  constructor(logDir: string, monoMinusBootNs: bigint) {
    this.tailer = new LogTailer({
      dir: logDir,
      fromEnd: true,
      onLines: (lines, at) => {
        const base = at - monoMinusBootNs;
        for (const l of lines) {
          const m = EID.exec(l);
          if (m) this.latencyMs.add(Number(base - BigInt(m[1])) / 1e6);
        }
      },
    });
  }

  start(): void {
    this.tailer.start();
  }

  stop(): void {
    this.tailer.stop();
  }

  get lines(): number {
    return this.tailer.stats.lines;
  }
}
