/**
 * Options of the file sink, named as osquery's filesystem logger flags.
 */
import { isAbsolute } from 'node:path';
import { AncestrydError } from '../../errors';
import type { FsyncPolicy } from '../fsync-policy';
import { checkPositiveInt } from '../queue';

export interface FileSinkOptions {
  /** logger_path: directory of the results log; created 0700 when missing. */
  loggerPath: string;
  /** Default "ancestryd.results.log". */
  fileName?: string;
  /** logger_rotate_size: rotate before a write would pass this many bytes. Default 25 MiB (osquery's). */
  rotateSizeBytes?: number;
  /** logger_rotate_max_files: backups kept (.1 newest … .N). Default 25 (osquery's). */
  rotateMaxFiles?: number;
  /** logger_fsync: "never" (default, like osquery), "batch", or an interval in ms. */
  fsync?: FsyncPolicy;
}

export const FILE_SINK_DEFAULTS = {
  fileName: 'ancestryd.results.log',
  rotateSizeBytes: 25 * 1024 * 1024,
  rotateMaxFiles: 25,
  fsync: 'never' as FsyncPolicy,
};

/** The ranges the sink accepts: its own checks and the option schema's (logger_rotate_*) read them here. */
export const FILE_SINK_RANGES = {
  rotateSizeBytes: [4096, 64 * 1024 ** 3],
  rotateMaxFiles: [1, 1000],
} as const;

export type ResolvedFileSinkOptions = Required<FileSinkOptions>;

export function resolveFileSinkOptions(o: FileSinkOptions): ResolvedFileSinkOptions {
  if (typeof o.loggerPath !== 'string' || !isAbsolute(o.loggerPath)) {
    throw new AncestrydError('ANC_CONFIG_INVALID', `logger_path: expected an absolute directory, got ${JSON.stringify(o.loggerPath)}`);
  }
  const r: ResolvedFileSinkOptions = {
    loggerPath: o.loggerPath,
    fileName: o.fileName ?? FILE_SINK_DEFAULTS.fileName,
    rotateSizeBytes: o.rotateSizeBytes ?? FILE_SINK_DEFAULTS.rotateSizeBytes,
    rotateMaxFiles: o.rotateMaxFiles ?? FILE_SINK_DEFAULTS.rotateMaxFiles,
    fsync: o.fsync ?? FILE_SINK_DEFAULTS.fsync,
  };
  if (r.fileName === '' || r.fileName.includes('/')) {
    throw new AncestrydError('ANC_CONFIG_INVALID', `logger file name: expected a plain file name, got ${JSON.stringify(r.fileName)}`);
  }
  checkPositiveInt('logger_rotate_size', r.rotateSizeBytes, ...FILE_SINK_RANGES.rotateSizeBytes);
  checkPositiveInt('logger_rotate_max_files', r.rotateMaxFiles, ...FILE_SINK_RANGES.rotateMaxFiles);
  return r;
}
