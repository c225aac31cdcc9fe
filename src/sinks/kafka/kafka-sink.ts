/**
 * Delivers batches of serialized events to one Kafka topic with kafkajs,
 * and answers delivered / retry / rejected per batch (src/sinks/sink.ts).
 *
 * - One batch → one producer.send() per chunk (batch-messages.ts: a chunk
 *   fits under logger_kafka_max_batch_bytes; usually the batch is one chunk).
 *   Sends run one at a time: after a failed send kafkajs rewinds the
 *   partitions' sequence numbers, so the broker can drop a resent duplicate
 *   only if the identical records come next; a different batch in between
 *   can end in OUT_OF_ORDER_SEQUENCE_NUMBER. The driver's maxInFlight should
 *   be 1 for this sink anyway (order).
 * - Partial progress: when chunk k of a batch fails after chunks < k were
 *   acknowledged, the sink remembers it and the driver's retry of the same
 *   batch starts at chunk k. The failed chunk is re-sent identically, so the
 *   idempotent producer lets the broker drop it if it had it.
 * - Errors (send-error.ts): retry keeps the batch spooled; rejected (too
 *   large, invalid) is answered after the batch's other chunks went out;
 *   broken producer state recreates the producer, then retry.
 * - Outages: kafkajs reconnects inside send(); with the client's retry
 *   settings below a send during an outage fails in under a second, and the
 *   driver's backoff paces further attempts. The same producer carries on
 *   once the broker is back.
 * - start() never fails because the brokers are down: it connects in the
 *   background and send() connects again if that did not work.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Producer, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { AncestrydError } from '../../errors';
import { noopLogger, noSecrets, type AddSecret, type EventBatch, type SendResult, type Sink, type SinkLogger } from '../sink';
import { batchMessages } from './batch-messages';
import { kafkaLogCreator } from './client-log';
import { compressionType, registerKafkaCodecs } from './codecs';
import type { KafkaSinkConfig } from './config';
import { javaCompatiblePartitioner } from './partitioner';
import { classifySendError, type SendErrorContext } from './send-error';

export interface KafkaSinkOptions {
  config: KafkaSinkConfig;
  /** The host identifier events carry (HostIdentity.hostIdentifier): the key for logger_kafka_key=host. */
  hostIdentifier: string;
  /** Default "kafka". */
  name?: string;
  log?: SinkLogger;
  /** The SASL password goes here once read. */
  addSecret?: AddSecret;
}

/** Figures for the admin socket and tests; the driver owns the delivery metrics. */
export interface KafkaSinkStats {
  /** producer.send() calls that the broker acknowledged. */
  sends: number;
  sentMessages: number;
  sentBytes: number;
  failedSends: number;
  /** Batches cut into more than one send. */
  splitBatches: number;
  /** Batches whose retry started after already delivered chunks. */
  resumedBatches: number;
  rejectedChunks: number;
  /** Events sent without a key (logger_kafka_key=entity_id found none). */
  keyMissing: number;
  producerRecreations: number;
  connects: number;
  connectFailures: number;
}

interface Progress {
  readonly lastId: number;
  nextChunk: number;
  rejection: string | null;
  rejectedEvents: number;
}

/**
 * kafkajs's own retries, per request and per reconnect. Short: the driver
 * owns retrying (with backoff, the batch safe in the spool), so a send
 * during an outage should fail in ~0.7 s instead of kafkajs's default
 * 10–20 s of silent reconnecting. Enough to ride over a leader move or a
 * coordinator that is still loading after a broker start.
 */
const CLIENT_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 };
const PRODUCER_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 };
/** TCP + TLS handshake; kafkajs's 1 s default is short for TLS over a WAN. */
const CONNECTION_TIMEOUT_MS = 3000;
/** Remembered partial batches; more only with a driver running many batches in flight. */
const MAX_PROGRESS = 64;

export class KafkaSink implements Sink {
  readonly name: string;
  lastError: string | null = null;

  private readonly config: KafkaSinkConfig;
  private readonly hostKey: Buffer;
  private readonly log: SinkLogger;
  private readonly addSecret: AddSecret;
  private readonly errorContext: SendErrorContext;
  private kafka: Kafka | null = null;
  private producer: Producer | null = null;
  private connected = false;
  private connecting: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly progress = new Map<number, Progress>();
  private started = false;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private readonly s: KafkaSinkStats = {
    sends: 0, sentMessages: 0, sentBytes: 0, failedSends: 0, splitBatches: 0, resumedBatches: 0,
    rejectedChunks: 0, keyMissing: 0, producerRecreations: 0, connects: 0, connectFailures: 0,
  };

  constructor(opts: KafkaSinkOptions) {
    this.name = opts.name ?? 'kafka';
    this.config = opts.config;
    this.log = opts.log ?? noopLogger;
    this.addSecret = opts.addSecret ?? noSecrets;
    if (opts.config.key === 'host' && opts.hostIdentifier === '') {
      throw new AncestrydError('ANC_CONFIG_INVALID', 'logger_kafka_key=host needs the host identifier, which is empty');
    }
    this.hostKey = Buffer.from(opts.hostIdentifier, 'utf8');
    this.errorContext = { topic: opts.config.topic, compression: opts.config.compression, brokers: opts.config.brokers };
  }

  stats(): KafkaSinkStats {
    return { ...this.s };
  }

  /** Reads the TLS and SASL files, builds the client and starts connecting (not awaited). */
  async start(): Promise<void> {
    if (this.started) throw new AncestrydError('ANC_SINK_UNAVAILABLE', `sink ${this.name} started twice`);
    this.started = true;
    registerKafkaCodecs();
    const c = this.config;
    const ssl = c.tls === null ? undefined : this.tlsOptions(c.tls);
    let sasl: SASLOptions | undefined;
    let password = '';
    if (c.sasl !== null) {
      password = readPassword(c.sasl.passwordFile);
      this.addSecret(password);
      sasl = { mechanism: c.sasl.mechanism, username: c.sasl.username, password } as SASLOptions;
      if (c.tls === null) {
        this.log.warn({ sink: this.name, mechanism: c.sasl.mechanism },
          'SASL without logger_kafka_tls: credentials and events cross the network unencrypted');
      }
    }
    this.kafka = new Kafka({
      brokers: [...c.brokers],
      clientId: c.clientId,
      ssl,
      sasl,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: c.requestTimeoutMs,
      retry: CLIENT_RETRY,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator({ sink: this.name, log: this.log, secrets: password === '' ? [] : [password] }),
    });
    this.producer = this.createProducer();
    this.connect().catch((err: unknown) => {
      const { reason } = classifySendError(err, this.errorContext);
      this.lastError = reason;
      this.log.warn({ sink: this.name, reason, brokers: c.brokers },
        'Kafka connection at start failed; events stay queued and the sink keeps trying');
    });
  }

  private tlsOptions(tls: NonNullable<KafkaSinkConfig['tls']>): ConnectionOptions {
    // rejectUnauthorized is never false: an unverified broker could read every event.
    const o: ConnectionOptions = { rejectUnauthorized: true };
    if (tls.caFile !== null) o.ca = [readConfigFile('logger_kafka_tls_server_certs', tls.caFile)];
    if (tls.certFile !== null && tls.keyFile !== null) {
      o.cert = readConfigFile('logger_kafka_tls_client_cert', tls.certFile);
      o.key = readConfigFile('logger_kafka_tls_client_key', tls.keyFile);
    }
    return o;
  }

  private createProducer(): Producer {
    return this.kafka!.producer({
      idempotent: this.config.idempotent,
      createPartitioner: javaCompatiblePartitioner,
      retry: PRODUCER_RETRY,
      allowAutoTopicCreation: true,
    });
  }

  private connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.connecting === null) {
      const producer = this.producer!;
      this.connecting = producer.connect().then(
        () => {
          this.s.connects++;
          if (this.producer === producer) this.connected = true;
        },
        (err: unknown) => {
          this.s.connectFailures++;
          throw err;
        },
      ).finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  send(batch: EventBatch): Promise<SendResult> {
    const p = this.tail.then(() => this.sendNow(batch));
    this.tail = p.catch(() => undefined);
    return p;
  }

  private async sendNow(batch: EventBatch): Promise<SendResult> {
    if (this.closed || this.producer === null) {
      this.lastError = 'closed: the Kafka sink is closed';
      return 'retry';
    }
    try {
      await this.connect();
    } catch (err) {
      return this.failed(err);
    }
    const c = this.config;
    const plan = batchMessages(batch, c.key, this.hostKey, c.maxBatchBytes);
    const chunks = plan.chunkEnds.length;
    let progress = this.progress.get(batch.firstId);
    if (progress !== undefined && progress.lastId !== batch.lastId) {
      this.progress.delete(batch.firstId);
      progress = undefined;
    }
    if (progress !== undefined) this.s.resumedBatches++;
    const first = progress?.nextChunk ?? 0;
    if (first === 0) {
      this.s.keyMissing += plan.keyMissing;
      if (chunks > 1) this.s.splitBatches++;
    }
    const compression = compressionType(c.compression);
    for (let i = first; i < chunks; i++) {
      const from = i === 0 ? 0 : plan.chunkEnds[i - 1];
      const to = plan.chunkEnds[i];
      const messages = chunks === 1 ? plan.messages : plan.messages.slice(from, to);
      try {
        await this.producer.send({ topic: c.topic, messages, acks: c.acks, timeout: c.requestTimeoutMs, compression });
        this.s.sends++;
        this.s.sentMessages += messages.length;
        for (const m of messages) this.s.sentBytes += m.value.length;
      } catch (err) {
        const verdict = classifySendError(err, this.errorContext);
        if (verdict.action === 'rejected') {
          // The other chunks still go out; the batch is answered rejected at the end.
          this.s.rejectedChunks++;
          progress ??= this.remember(batch);
          progress.rejection ??= verdict.reason;
          progress.rejectedEvents += to - from;
          // Positions within the batch: ids may have gaps (events the spool lost), positions do not.
          this.log.warn({
            sink: this.name, reason: verdict.reason, batchFirstId: batch.firstId, batchLastId: batch.lastId,
            position: from, events: to - from, largestRecordBytes: plan.largestRecordBytes, maxBatchBytes: c.maxBatchBytes,
          }, 'Kafka refused events of a batch; the whole batch goes to the dead-letter file, the rest was delivered');
          progress.nextChunk = i + 1;
          continue;
        }
        if (i > 0 || progress !== undefined) {
          progress ??= this.remember(batch);
          progress.nextChunk = i;
        }
        if (verdict.action === 'recreate') await this.recreateProducer(verdict.reason);
        return this.failed(err, verdict.reason);
      }
    }
    this.progress.delete(batch.firstId);
    if (progress?.rejection) {
      this.lastError = progress.rejection;
      return 'rejected';
    }
    this.lastError = null;
    return 'delivered';
  }

  private remember(batch: EventBatch): Progress {
    if (this.progress.size >= MAX_PROGRESS) this.progress.clear(); // only costs duplicates
    const p: Progress = { lastId: batch.lastId, nextChunk: 0, rejection: null, rejectedEvents: 0 };
    this.progress.set(batch.firstId, p);
    return p;
  }

  private failed(err: unknown, reason?: string): SendResult {
    this.s.failedSends++;
    this.lastError = this.closed ? 'closed: the Kafka sink closed during the send'
      : reason ?? classifySendError(err, this.errorContext).reason;
    return 'retry';
  }

  /** A new producer (new producer id) for one whose idempotence state is broken. */
  private async recreateProducer(reason: string): Promise<void> {
    const old = this.producer!;
    if (this.connecting !== null) await this.connecting.catch(() => undefined);
    this.producer = this.createProducer();
    this.connected = false;
    this.s.producerRecreations++;
    this.log.warn({ sink: this.name, reason },
      'Kafka producer state no longer matches the broker; recreated the producer (the batch is sent again, possibly duplicated)');
    await old.disconnect().catch(() => undefined);
  }

  /**
   * Disconnects; a send in flight ends (answering retry unless the broker
   * had already acknowledged it). Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise === null) this.closePromise = this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    const producer = this.producer;
    if (producer === null) return;
    if (this.connecting !== null) await this.connecting.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    // kafkajs retries a failed produce by reconnecting, which can reopen a
    // socket after the disconnect above: wait for the send, then disconnect again.
    await this.tail;
    await producer.disconnect().catch(() => undefined);
    this.connected = false;
    this.producer = null;
    this.kafka = null;
    this.progress.clear();
  }
}

function readConfigFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `${option}: cannot read ${path} (${code}): check the path and that the daemon's user can read it`, { cause: err });
  }
}

/**
 * The password file's first line; never logged. Its owner and mode are the
 * configuration's to judge (src/daemon/config/config.ts refuses a file others may read).
 */
function readPassword(path: string): string {
  const text = readConfigFile('logger_kafka_sasl_password_file', path).toString('utf8');
  const password = text.replace(/\r?\n$/, '');
  if (password === '' || password.includes('\n')) {
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `logger_kafka_sasl_password_file: ${path} must hold the password on one line`);
  }
  return password;
}
