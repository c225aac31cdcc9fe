/**
 * Follows the daemon's results log across rotations (ancestryd.results.log →
 * .1 → .2 …, src/sinks/file/file-sink.ts), handing over whole lines with the
 * CLOCK_MONOTONIC time (process.hrtime) at which read(2) returned them.
 *
 * The file open is kept by descriptor: a rotation renames it, so the tailer
 * reads it to its end, then goes on with the oldest file it has not finished
 * (normally the new ancestryd.results.log). The sink renames only between
 * batches, so once the path names another file nothing more is written to
 * the old one. A write may be split: a partial last line waits for its end.
 *
 * The arrival stamp is an upper bound of when the line was written: it adds
 * the wake-up delay (fs.watch, or the poll interval when a change event is
 * missed) and the time spent reading earlier chunks.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface TailOptions {
  dir: string;
  /** Default ancestryd.results.log. */
  file?: string;
  /** Start at the current end of the files (attach to a running daemon) instead of the oldest line. */
  fromEnd?: boolean;
  /** Fallback poll period; default 50 ms. */
  pollMs?: number;
  /** Called with complete lines (without "\n") and the monotonic ns they were read at. */
  onLines: (lines: string[], arrivalNs: bigint) => void;
}

export interface TailStats {
  bytes: number;
  lines: number;
  /** Files opened (the log and each rotation). */
  files: number;
}

interface LogFile {
  path: string;
  ino: number;
  size: number;
  /** 0 for the live file, N for .N. */
  rotation: number;
}

const CHUNK = 1 << 20;

export class LogTailer {
  readonly stats: TailStats = { bytes: 0, lines: 0, files: 0 };
  private readonly path: string;
  private readonly file: string;
  private readonly rotated: RegExp;
  private fd = -1;
  private ino = -1;
  private pos = 0;
  private partial = '';
  private readonly finished = new Set<number>();
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private polling = false;

  constructor(private readonly o: TailOptions) {
    this.file = o.file ?? 'ancestryd.results.log';
    this.path = join(o.dir, this.file);
    this.rotated = new RegExp(`^${this.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)$`);
  }

  start(): void {
    if (this.o.fromEnd) {
      // Everything written so far is someone else's: skip every file as it is now.
      for (const f of this.ordered()) {
        if (f.path === this.path) {
          this.openAt(f.path, f.ino, f.size);
        } else {
          this.finished.add(f.ino);
        }
      }
    }
    try {
      this.watcher = watch(this.o.dir, () => this.poll());
      this.watcher.on('error', () => { /* the poll timer carries on */ });
    } catch {
      // no inotify: polling alone
    }
    this.timer = setInterval(() => this.poll(), this.o.pollMs ?? 50);
  }

  /** Reads whatever is there now; returns the bytes read. Safe to call at any time. */
  poll(): number {
    if (this.polling) return 0;
    this.polling = true;
    let total = 0;
    try {
      for (;;) {
        if (this.fd < 0 && !this.openNext()) break;
        total += this.drain();
        // Still the file at the path, or no file there (a rotation between
        // its rename and the new file's creation): wait for more. Another
        // file there: ours was rotated; read what it got before the rename,
        // then move on.
        const cur = this.statIno(this.path);
        if (cur === this.ino || cur === null) break;
        total += this.drain();
        this.closeCurrent();
      }
    } finally {
      this.polling = false;
    }
    return total;
  }

  /** Stops watching; one last poll first (call after the daemon has flushed). */
  stop(): void {
    this.poll();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private drain(): number {
    let total = 0;
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, CHUNK, this.pos);
      if (n <= 0) break;
      const arrival = process.hrtime.bigint();
      this.pos += n;
      total += n;
      this.stats.bytes += n;
      const text = this.partial + this.buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      if (lines.length > 0) {
        this.stats.lines += lines.length;
        this.o.onLines(lines, arrival);
      }
      if (n < CHUNK) break;
    }
    return total;
  }

  /** The log and its rotations, oldest first. */
  private ordered(): LogFile[] {
    let names: string[];
    try {
      names = readdirSync(this.o.dir);
    } catch {
      return [];
    }
    const out: LogFile[] = [];
    for (const n of names) {
      const m = n === this.file ? null : this.rotated.exec(n);
      if (n !== this.file && m === null) continue;
      try {
        const st = statSync(join(this.o.dir, n));
        out.push({ path: join(this.o.dir, n), ino: st.ino, size: st.size, rotation: m ? Number(m[1]) : 0 });
      } catch {
        // renamed or deleted meanwhile
      }
    }
    return out.sort((a, b) => b.rotation - a.rotation);
  }

  /** Opens the oldest file not finished yet; false when there is none. */
  private openNext(): boolean {
    const files = this.ordered();
    // Forget files that are gone (rotate_max_files): their inode numbers may be reused.
    const present = new Set(files.map((f) => f.ino));
    for (const ino of this.finished) if (!present.has(ino)) this.finished.delete(ino);
    for (const f of files) {
      if (this.finished.has(f.ino)) continue;
      return this.openAt(f.path, f.ino, 0);
    }
    return false;
  }

  private openAt(path: string, ino: number, pos: number): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return false;
    }
    const st = fstatSync(fd);
    if (st.ino !== ino) {
      // Rotated between the listing and the open: list again next time.
      closeSync(fd);
      return false;
    }
    this.fd = fd;
    this.ino = ino;
    this.pos = pos;
    this.stats.files++;
    return true;
  }

  private closeCurrent(): void {
    if (this.partial !== '') {
      // A file ends on a whole line (the sink writes whole lines): anything
      // else is a cut line and is handed over as it is, for the parser to reject.
      this.o.onLines([this.partial], process.hrtime.bigint());
      this.stats.lines++;
      this.partial = '';
    }
    closeSync(this.fd);
    this.finished.add(this.ino);
    this.fd = -1;
  }

  private statIno(path: string): number | null {
    try {
      return statSync(path).ino;
    } catch {
      return null;
    }
  }
}
