/**
 * Builds the configured outputs: for each logger_plugin a sink, its queue
 * (a disk spool, or memory for stdout) and the driver that delivers it.
 *
 * Every network output gets a disk spool: an event is on disk (page cache)
 * before enqueueEncoded() returns, so a crash of the daemon (kill -9) loses nothing
 * that was drained from the ring. The file output needs none: its sink
 * writes synchronously from the drain pass (Sink.deliverNow), so the results
 * log is the durable copy; only while writes fail (disk full) do events wait
 * in a bounded memory queue, retried with backoff. stdout has nowhere
 * durable to resume from and uses a bounded memory queue.
 */
import { join } from 'node:path';
import type { HostIdentity } from '../events';
import {
  collectHostDetails, DiskSpool, DRIVER_DEFAULTS, FileSink, MemoryQueue, SinkDriver, StdoutSink, tlsDriverOptions,
  type AddSecret, type EventQueue, type Sink, type SinkDriverOptions, type SinkLogger,
} from '../sinks';
import type { AncestrydConfig } from './config/config';
import type { LoggerPlugin } from './config/option-schema';
import type { Metrics } from './metrics/metrics';
import { packageInfo } from './package-info';
import { acquirePidfile } from './pidfile';
import { rateLimitedLogger } from './rate-limited-log';
import type { TlsNode } from '../sinks/tls/tls-node';

export interface Output {
  readonly name: LoggerPlugin;
  readonly sink: Sink;
  readonly driver: SinkDriver;
  /**
   * Its events must be durable before the ring's space is handed back: the
   * file output, whose results log is the durable copy. While its writes
   * fail, what waits in its memory queue keeps its records in the ring
   * (Collector.holdRing), so a kill loses nothing. Not stdout (nothing
   * durable to resume from) nor the spooled outputs (on disk already).
   */
  readonly holdsRing: boolean;
}

export interface OutputDeps {
  host: HostIdentity;
  metrics: Metrics;
  /** A logger for one output. */
  log(name: string): SinkLogger;
  /** The daemon's log censors these values (Logging.addSecret). */
  addSecret: AddSecret;
  /** config_plugin=tls: the enrollment the tls output shares with the remote configuration. */
  tlsNode?: TlsNode;
  nowBootNs(): number;
}

/** Construct (not start) every configured output; nothing is opened yet. */
export function createOutputs(cfg: AncestrydConfig, deps: OutputDeps): Output[] {
  return cfg.outputs.plugins.map((name) => createOutput(name, cfg, deps));
}

function createOutput(name: LoggerPlugin, cfg: AncestrydConfig, deps: OutputDeps): Output {
  const log = deps.log(name);
  const spool = cfg.outputs.spool;
  const diskQueue = (destination: string): EventQueue => new DiskSpool({
    // A full disk fails every append (each drain pass): one line per message a minute, the rest counted.
    dir: join(spool.dir, name), maxBytes: spool.maxBytes, dropPolicy: spool.dropPolicy, fsync: spool.fsync, log: rateLimitedLogger(log),
    identity: `output=${name} format=${cfg.events.format} detail=${cfg.events.ancestryDetail} destination=${destination}\n`,
    lock: (dir) => acquirePidfile(join(dir, 'lock'), { option: 'spool_path' }),
  });
  let sink: Sink;
  let queue: EventQueue;
  let driverOpts: SinkDriverOptions = {};
  switch (name) {
    case 'filesystem':
      sink = new FileSink({ ...cfg.outputs.file }, log, name);
      queue = new MemoryQueue({ dropPolicy: spool.dropPolicy });
      // Each drain pass already hands over one batch: waiting for more only adds latency.
      driverOpts = { lingerMs: 0 };
      break;
    case 'stdout':
      sink = new StdoutSink(process.stdout, name);
      queue = new MemoryQueue({ dropPolicy: spool.dropPolicy });
      driverOpts = { lingerMs: 0 };
      break;
    case 'tls': {
      const tls = { ...cfg.outputs.tls, hostIdentifier: deps.host.hostIdentifier };
      const details = collectHostDetails(deps.host.hostname, deps.host.machineId, packageInfo().version);
      // Loaded only when configured (see src/sinks/index.ts).
      const { TlsSink } = require('../sinks/tls/tls-sink') as typeof import('../sinks/tls/tls-sink');
      sink = new TlsSink(tls, details, log, name, deps.addSecret, deps.tlsNode);
      queue = diskQueue(`https://${tls.tlsHostname}${tls.loggerTlsEndpoint ?? ""}`);
      driverOpts = tlsDriverOptions(tls);
      break;
    }
    case 'kafka': {
      const kafka = cfg.outputs.kafka!;
      const { KafkaSink, kafkaDriverMaxBatchBytes } = require('../sinks/kafka') as typeof import('../sinks/kafka');
      sink = new KafkaSink({ config: kafka, hostIdentifier: deps.host.hostIdentifier, name, log, addSecret: deps.addSecret });
      queue = diskQueue(`kafka://${kafka.brokers.join(',')}/${kafka.topic}`);
      driverOpts = { maxBatchBytes: kafkaDriverMaxBatchBytes(kafka, DRIVER_DEFAULTS.maxBatchLines, deps.host.hostIdentifier) };
      break;
    }
  }
  let driver: SinkDriver | null = null;
  driver = new SinkDriver(sink, queue, {
    ...driverOpts,
    nowBootNs: deps.nowBootNs,
    log,
    metrics: deps.metrics.sink(name, () => driver!.stats()),
  });
  return { name, sink, driver, holdsRing: name === 'filesystem' };
}
