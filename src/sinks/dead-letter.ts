/**
 * Appends rejected batches to a dead-letter file, one JSON line per batch:
 * {"time","sink","reason","first_id","last_id","count","events":[…]}, the
 * events exactly as serialized. The file is 0600 and rotated once (.1) past
 * its size limit so a sink that rejects everything cannot fill the disk.
 */
import * as fs from 'node:fs';
import { O_PRIVATE } from '../private-dir';
import { batchJsonArray, type EventBatch } from './sink';

export class DeadLetterFile {
  constructor(readonly path: string, private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Throws on I/O errors; the caller counts and logs. */
  write(sink: string, reason: string, batch: EventBatch): void {
    const head = '{"time":' + JSON.stringify(new Date().toISOString()) + ',"sink":' + JSON.stringify(sink)
      + ',"reason":' + JSON.stringify(reason) + ',"first_id":' + batch.firstId + ',"last_id":' + batch.lastId
      + ',"count":' + batch.count + ',"events":';
    const line = batchJsonArray(batch, head, '}\n');
    let size = 0;
    try {
      size = fs.statSync(this.path).size;
    } catch {
      // not there yet
    }
    if (size > 0 && size + line.length > this.maxBytes) fs.renameSync(this.path, this.path + '.1');
    const fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | O_PRIVATE, 0o600);
    try {
      for (let off = 0; off < line.length;) off += fs.writeSync(fd, line, off);
    } finally {
      fs.closeSync(fd);
    }
  }
}
