/** What the daemon and the event formats use from the ancestry engine. */
export { ProcessTable, CACHE_SIZE_RANGE, CACHE_TTL_RANGE, MAX_DEPTH_RANGE } from './table';
export type { ProcessTableOptions, TableClock, AncestryStats, SkipReason } from './table';
export { LinuxProcfsReader } from './procfs-reader';
export type { ProcfsReader, ProcfsResult, ProcfsProcess, ProcfsFailure, ProcfsFailureReason } from './procfs-reader';
export { EntityIds, startTicks } from './identity';
export type * from './process-view';
export { exeName } from './process-view';
export {
  ArgvRedactor, compileRedactionPattern, DEFAULT_PATTERNS_WORD, DEFAULT_REDACTION_PATTERNS, expandRedactionPatterns, MASK,
} from './argv-redaction';
export { CacheAutoSizer, type CacheLoad, type CacheSizeChange } from './cache-autosize';
