/**
 * What the daemon uses from src/sinks. The network sinks (tls/tls-sink.ts,
 * kafka/) are not re-exported: the daemon loads them only when configured,
 * since their modules (https, zlib, kafkajs and its codecs) cost ~20 MB of
 * RSS that a file-output host should not pay.
 */
export type {
  AddSecret, DropReason, EventBatch, SendResult, Sink, SinkLogger, SinkMetrics,
} from './sink';
export { batchJsonArray, noopMetrics } from './sink';
export type { DropPolicy, EventQueue } from './queue';
export { DROP_POLICIES } from './queue';
export type { FsyncPolicy } from './fsync-policy';
export { parseFsyncPolicy } from './fsync-policy';
export { SinkDriver, DRIVER_DEFAULTS, type SinkDriverOptions, type SinkStats } from './sink-driver';
export { DiskSpool } from './spool/disk-spool';
export { SPOOL_DEFAULTS, type DiskSpoolOptions } from './spool/config';
export { MemoryQueue, type MemoryQueueOptions } from './memory-queue';
export { FileSink } from './file/file-sink';
export { FILE_SINK_DEFAULTS, type FileSinkOptions } from './file/config';
export { StdoutSink } from './stdout/stdout-sink';
export { TLS_SINK_DEFAULTS, tlsDriverOptions, type TlsSinkOptions } from './tls/config';
export { collectHostDetails, type HostDetails } from './tls/host-details';
