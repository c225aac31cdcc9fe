/**
 * Turns a queued batch into Kafka messages — one per event, the value a view
 * of the event's bytes, the key per logger_kafka_key — cut into chunks that
 * each fit one produce request under logger_kafka_max_batch_bytes.
 *
 * Why a cap: the broker refuses a record batch larger than message.max.bytes
 * (1048588 by default) with MESSAGE_TOO_LARGE, and the driver's batches are
 * bounded by their payload bytes only (1 MiB by default), not by what Kafka
 * adds per record. The estimate counts the uncompressed records, an upper
 * bound of what compression leaves. An event larger than the cap goes in a
 * chunk of its own: only the broker can say whether it fits once compressed.
 *
 * Chunking is a pure function of the batch bytes and the options, so a batch
 * sent again after a failure is cut the same way: the idempotent producer
 * then sees the identical chunk and the broker drops what it already has.
 */
import type { EventBatch } from '../sink';
import type { KafkaKey, KafkaSinkConfig } from './config';
import { entityIdKey } from './message-key';

/**
 * A v2 record's framing besides key and value: length, attributes,
 * timestamp and offset deltas, key and value lengths, header count — varints,
 * at most 17 bytes below 2 MiB. The batch header is 61 bytes.
 */
export const RECORD_OVERHEAD_BYTES = 20;
export const BATCH_OVERHEAD_BYTES = 61;

/** The longest entity id: 32 hex + "-" + 20 digits + "-" + 10 digits (src/ancestry/identity.ts). */
const MAX_ENTITY_ID_BYTES = 64;
/** The longest key either way: a host identifier is at most 256 bytes (specified_identifier; hostnames 253). */
const MAX_KEY_BYTES = 256;

/** The largest event (a line without its newline) that fits one produce request of `maxBatchBytes` alone. */
export function maxRecordValueBytes(maxBatchBytes: number): number {
  return maxBatchBytes - BATCH_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES - MAX_KEY_BYTES;
}

/**
 * The sink driver's maxBatchBytes (queued payload bytes) for this sink: a
 * batch of up to `maxBatchLines` events under it always fits one send, so
 * batches are not split in normal operation (the daemon passes this to
 * SinkDriver). Never below the driver's minimum of 1024.
 */
export function kafkaDriverMaxBatchBytes(config: KafkaSinkConfig, maxBatchLines: number, hostIdentifier: string): number {
  const keyBytes = config.key === 'host' ? Buffer.byteLength(hostIdentifier) : MAX_ENTITY_ID_BYTES;
  return Math.max(1024, config.maxBatchBytes - BATCH_OVERHEAD_BYTES - maxBatchLines * (RECORD_OVERHEAD_BYTES + keyBytes));
}

export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer;
}

export interface BatchMessages {
  readonly messages: KafkaMessage[];
  /** chunkEnds[i] = index after the last message of chunk i. */
  readonly chunkEnds: number[];
  /** Events for which logger_kafka_key=entity_id found no id. */
  readonly keyMissing: number;
  /** The largest single event's estimated record bytes. */
  readonly largestRecordBytes: number;
}

const NEWLINE = 0x0a;

export function batchMessages(batch: EventBatch, key: KafkaKey, hostKey: Buffer, maxBatchBytes: number): BatchMessages {
  const d = batch.data;
  const messages: KafkaMessage[] = new Array(batch.count);
  const chunkEnds: number[] = [];
  const byEntity = key === 'entity_id';
  let n = 0;
  let keyMissing = 0;
  let largest = 0;
  let chunkBytes = BATCH_OVERHEAD_BYTES;
  let start = 0;
  for (let nl = d.indexOf(NEWLINE, 0); nl >= 0; nl = d.indexOf(NEWLINE, start)) {
    let k: Buffer | null = hostKey;
    if (byEntity) {
      k = entityIdKey(d, start, nl);
      if (k === null) keyMissing++;
    }
    const size = nl - start + (k === null ? 0 : k.length) + RECORD_OVERHEAD_BYTES;
    if (size > largest) largest = size;
    if (n > 0 && chunkBytes + size > maxBatchBytes && (chunkEnds.length === 0 || chunkEnds[chunkEnds.length - 1] < n)) {
      chunkEnds.push(n);
      chunkBytes = BATCH_OVERHEAD_BYTES;
    }
    messages[n++] = { key: k, value: d.subarray(start, nl) };
    chunkBytes += size;
    start = nl + 1;
  }
  messages.length = n;
  if (n > 0) chunkEnds.push(n);
  return { messages, chunkEnds, keyMissing, largestRecordBytes: largest };
}
