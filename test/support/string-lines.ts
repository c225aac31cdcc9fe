/**
 * Events held as strings, as tests and tools write them, handed to the sinks
 * as EncodedLines (src/sinks/encoded-lines.ts). The daemon never holds an
 * event as a string: its formats write straight into a line buffer
 * (src/events/line-buffer.ts), so this lives here, not in src.
 */
import type { EncodedLines } from '../../src/sinks/encoded-lines';
import type { EventQueue } from '../../src/sinks/queue';
import type { SinkDriver } from '../../src/sinks/sink-driver';

const NEWLINE = 0x0a;
/** UTF-8 bytes per UTF-16 code unit at most: a bound that needs no byteLength() pass. */
const MAX_UTF8_PER_UNIT = 3;

/** Strings to EncodedLines, into buffers reused from call to call. The result is valid until the next encode(). */
export class LineEncoder implements EncodedLines {
  data: Buffer = Buffer.allocUnsafe(64 * 1024);
  readonly ends: number[] = [];
  readonly ktimes: number[] = [];
  count = 0;

  /** JSON lines without their "\n"; one CLOCK_BOOTTIME for all or one per line. */
  encode(lines: readonly string[], ktimeNs: number | readonly number[]): EncodedLines {
    let off = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (off + line.length * MAX_UTF8_PER_UNIT + 1 > this.data.length) {
        const need = off + Buffer.byteLength(line) + 1;
        if (need > this.data.length) {
          let size = this.data.length * 2;
          while (size < need) size *= 2;
          const next = Buffer.allocUnsafe(size);
          this.data.copy(next, 0, 0, off);
          this.data = next;
        }
      }
      off += this.data.write(line, off, 'utf8');
      this.data[off++] = NEWLINE;
      this.ends[i] = off;
      this.ktimes[i] = typeof ktimeNs === 'number' ? ktimeNs : ktimeNs[i];
    }
    this.count = lines.length;
    return this;
  }
}

// One encoder serves every call: enqueueEncoded() and appendEncoded() copy what they keep before returning.
const shared = new LineEncoder();

/** driver.enqueueEncoded() of JSON lines without their "\n"; returns how many were accepted. */
export function enqueueStrings(driver: SinkDriver, lines: readonly string[], ktimeNs: number | readonly number[]): number {
  return driver.enqueueEncoded(shared.encode(lines, ktimeNs));
}

/** queue.appendEncoded() of JSON lines without their "\n", for a queue used without a driver; returns how many were accepted. */
export function appendStrings(queue: EventQueue, lines: readonly string[], ktimeNs: number | readonly number[]): number {
  return queue.appendEncoded(shared.encode(lines, ktimeNs), 0);
}
