/**
 * Appends batches to <logger_path>/<file> as JSON lines, with size-based
 * rotation (.1 newest … .N, like osquery and logrotate), files 0600.
 *
 * Crash safety: each batch is one write(2) of whole lines, made synchronously
 * from the drain pass, and ring space is handed back only after it returned:
 * the results log is itself the durable queue (no spool in front of it; the
 * page cache outlives the process). A kill -9 can still cut a large write
 * short (the kernel stops copying at a fatal signal), leaving a partial last
 * line. At start the sink therefore truncates the file after its last "\n":
 * the cut line belongs to a batch that was never acknowledged. A reader
 * never sees a partial line followed by more data; at worst, until the
 * restart, an unterminated tail (which line readers such as tail -F and
 * Filebeat do not emit).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { AncestrydError, errCode } from '../../errors';
import { O_PRIVATE, preparePrivateDir } from '../../private-dir';
import { noopLogger, type EventBatch, type SendResult, type Sink, type SinkLogger } from '../sink';
import { resolveFileSinkOptions, type FileSinkOptions, type ResolvedFileSinkOptions } from './config';


function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export class FileSink implements Sink {
  readonly name: string;
  readonly path: string;
  lastError: string | null = null;
  /** Bytes cut from a partial last line at start (0 after a clean stop). */
  truncatedTailBytes = 0;

  private readonly o: ResolvedFileSinkOptions;
  private readonly log: SinkLogger;
  private fd = -1;
  private size = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  /** The interval fsync in progress (on the thread pool, beside synchronous writes). */
  private fsyncing: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: FileSinkOptions, log: SinkLogger = noopLogger, name = 'file') {
    this.o = resolveFileSinkOptions(opts);
    this.name = name;
    this.log = log;
    this.path = join(this.o.loggerPath, this.o.fileName);
  }

  async start(): Promise<void> {
    preparePrivateDir(this.o.loggerPath, 'logger_path');
    try {
      this.openFile();
      this.repairTail();
    } catch (err) {
      this.releaseFd();
      throw new AncestrydError('ANC_CONFIG_INVALID', `logger_path: cannot write ${this.path} (${errCode(err)})`
        + (errCode(err) === 'ELOOP' ? ': it is a symlink, which ancestryd never follows; remove it' : ': fix its permissions'), { cause: err });
    }
    if (typeof this.o.fsync === 'number') {
      this.timer = setInterval(() => {
        if (this.dirty && this.fd >= 0) {
          this.dirty = false;
          const fd = this.fd;
          this.fsyncing = this.fsyncing.then(() => fsyncAsync(fd)).catch(() => {});
        }
      }, this.o.fsync);
      this.timer.unref();
    }
  }

  private openFile(): void {
    this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | O_PRIVATE, 0o600);
    fs.fchmodSync(this.fd, 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Cuts a partial last line left by a crash (see the header comment). */
  private repairTail(): void {
    if (this.size === 0) return;
    const rfd = fs.openSync(this.path, fs.constants.O_RDONLY | O_PRIVATE);
    try {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      let end = this.size;
      let keep = 0;
      while (end > 0) {
        const start = Math.max(0, end - chunk.length);
        const n = fs.readSync(rfd, chunk, 0, end - start, start);
        const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
        if (nl >= 0) {
          keep = start + nl + 1;
          break;
        }
        end = start;
      }
      if (keep === this.size) return;
      fs.ftruncateSync(this.fd, keep);
      this.truncatedTailBytes = this.size - keep;
      this.log.warn({ file: this.path, bytes: this.size - keep },
        'results log ended in a partial line (crash during a write); cut it');
      this.size = keep;
    } finally {
      fs.closeSync(rfd);
    }
  }

  send(batch: EventBatch): Promise<SendResult> {
    return Promise.resolve(this.deliverNow(batch));
  }

  /**
   * One write(2) of whole lines (looping on a short write). Synchronous:
   * the driver calls it from the drain pass, which hands ring space back
   * only after it returned (see Sink.deliverNow).
   */
  deliverNow(batch: EventBatch): SendResult {
    if (this.closed) {
      this.lastError = 'file sink closed';
      return 'retry';
    }
    const data = batch.data;
    try {
      if (this.fd < 0) this.openFile(); // a failed rotation left no file open
      if (this.size > 0 && this.size + data.length > this.o.rotateSizeBytes) this.rotate();
    } catch (err) {
      this.lastError = `rotating ${this.path} failed (${errCode(err)})`;
      return 'retry';
    }
    const fd = this.fd;
    const before = this.size;
    let done = 0;
    try {
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
      if (this.o.fsync === 'batch') fs.fsyncSync(fd);
    } catch (err) {
      this.lastError = `writing ${this.path} failed (${errCode(err)})`;
      // Keep the file ending on a whole line; the batch is sent again.
      if (done > 0) {
        try {
          fs.ftruncateSync(fd, before);
        } catch {
          // cut at the next start
        }
      }
      return 'retry';
    }
    this.size = before + done;
    this.dirty = true;
    this.lastError = null;
    return 'delivered';
  }

  /** results.log → .1 → .2 … → .N (the oldest falls off). Between batches only. */
  private rotate(): void {
    const max = this.o.rotateMaxFiles;
    for (let i = max - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
      }
    }
    const old = this.fd;
    fs.renameSync(this.path, `${this.path}.1`);
    if (this.o.fsync !== 'never') fs.fsyncSync(old);
    fs.closeSync(old);
    this.fd = -1;
    this.openFile();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.fsyncing;
    if (this.fd >= 0 && this.o.fsync !== 'never') {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // best effort at close
      }
    }
    this.releaseFd();
  }

  private releaseFd(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
