/**
 * `ancestryd run`: the daemon's lifecycle around the pipeline.
 *
 * Start: pidfile lock → admin socket → metrics server → pipeline (preflight,
 * outputs, collector) → ready. Stop (SIGTERM/SIGINT): not ready → pipeline
 * (detach, drain, flush outputs) → servers → lock. A second signal during
 * the stop exits at once; so does the end of shutdown_timeout_ms. SIGHUP
 * reloads the options that are safe to change and logs the ones that need a
 * restart.
 */
import { AncestrydError } from '../errors';
import { registerAdminHandlers } from './admin-handlers';
import { catchEarlySignals, earlySignals, releaseEarlySignals } from './early-signals';
import { AdminHandlers, startAdminServer, type AdminServer } from './admin-socket';
import type { AncestrydConfig } from './config';
import { reloadConfig } from './config-diff';
import { exitCodeFor } from './exit-codes';
import { createLogging, type Logging } from './log';
import { Metrics } from './metrics';
import { MetricsEndpoint } from './metrics-endpoint';
import { packageInfo } from './package-info';
import { acquirePidfile, type PidfileLock } from './pidfile';
import { Pipeline } from './pipeline';
import { sdNotify } from './sd-notify';

export async function runDaemon(cfg: AncestrydConfig): Promise<void> {
  catchEarlySignals(); // main.ts already did for `ancestryd run`; callers that embed runDaemon get it here
  const logging = createLogging({ level: cfg.daemon.logLevel, format: cfg.daemon.logFormat });
  const log = logging.child('daemon');
  for (const w of cfg.warnings) log.warn(w);
  let lock: PidfileLock | null = null;
  let admin: AdminServer | null = null;
  let metricsServer: MetricsEndpoint | null = null;
  let pipeline: Pipeline | null = null;
  const metrics = new Metrics();
  try {
    if (cfg.daemon.pidfile) lock = acquirePidfile(cfg.daemon.pidfile);
    const handlers = new AdminHandlers();
    if (cfg.daemon.adminSocket) {
      admin = await startAdminServer({ path: cfg.daemon.adminSocket, handlers, log: logging.child('admin') });
    }
    if (cfg.daemon.metricsAddress) {
      metricsServer = new MetricsEndpoint(cfg.daemon.metricsAddress, metrics, logging.child('metrics'));
      await metricsServer.start();
      if (!isLoopback(cfg.daemon.metricsAddress.host)) {
        log.warn({ metrics_address: `${cfg.daemon.metricsAddress.host}:${cfg.daemon.metricsAddress.port}` },
          'metrics endpoint reachable beyond this host: it shows process counts and event rates; bind it to 127.0.0.1 or firewall it');
      }
    }
    if (earlySignals().stop === null) pipeline = await Pipeline.start(cfg, { logging, metrics });
    if (pipeline === null) {
      log.info({ signal: earlySignals().stop }, 'stop signal during start-up: stopping');
      return;
    }
    registerAdminHandlers(handlers, pipeline, metrics);
    metrics.setReady(true);
    log.info({
      version: packageInfo().version, config: cfg.configFile, metrics: metricsServer?.url ?? null,
      admin_socket: cfg.daemon.adminSocket,
    }, 'ancestryd ready');
    notify(log, `READY=1\nSTATUS=collecting\nMAINPID=${process.pid}`);
    cfg = await untilStopSignal(cfg, pipeline, logging, metrics);
  } finally {
    releaseEarlySignals();
    await shutdown(cfg, log, { pipeline, admin, metricsServer, lock, metrics, logging });
  }
}

/** Resolves at SIGTERM/SIGINT, handling SIGHUP reloads meanwhile; returns the config in effect. */
function untilStopSignal(initial: AncestrydConfig, pipeline: Pipeline, logging: Logging, metrics: Metrics): Promise<AncestrydConfig> {
  const log = logging.child('daemon');
  let cfg = initial;
  return new Promise((resolve) => {
    const onHup = () => {
      try {
        const { config, diff } = reloadConfig(cfg);
        for (const c of diff.restartRequired) {
          log.warn({ option: c.option, from: c.from, to: c.to }, 'option changed but needs a restart to take effect; keeping the running value');
        }
        if (diff.reloadable.length > 0) {
          logging.setLevel(config.daemon.logLevel);
          pipeline.reconfigure(config);
          log.info({ changed: diff.reloadable.map((c) => c.option) }, 'configuration reloaded');
        } else {
          log.info('configuration reloaded: nothing to change');
        }
        cfg = config;
        metrics.configReloaded(true);
      } catch (err) {
        metrics.configReloaded(false);
        log.error({ err: (err as Error).message }, 'configuration reload failed; keeping the running configuration');
      }
    };
    const onStop = (signal: NodeJS.Signals) => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      log.info({ signal }, 'stopping');
      // A second signal while stopping: leave now.
      const force = (s: NodeJS.Signals) => {
        log.warn({ signal: s }, 'second signal: exiting without finishing the flush');
        logging.flush();
        process.exit(exitCodeFor(new AncestrydError('ANC_SINK_UNAVAILABLE', 'interrupted')));
      };
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      resolve(cfg);
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    // Now that these handlers hold the signals, take over what arrived during start-up.
    const early = earlySignals();
    releaseEarlySignals();
    if (early.stop !== null) onStop(early.stop);
    else if (early.hup) {
      log.info('SIGHUP arrived during start-up: reloading now');
      onHup();
    }
  });
}

/** sd_notify, best effort: a socket systemd named but we cannot use is logged, never fatal. */
function notify(log: Logging['logger'], state: string): void {
  try {
    sdNotify(state);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not tell systemd the service state (NOTIFY_SOCKET)');
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

interface Running {
  pipeline: Pipeline | null;
  admin: AdminServer | null;
  metricsServer: MetricsEndpoint | null;
  lock: PidfileLock | null;
  metrics: Metrics;
  logging: Logging;
}

async function shutdown(cfg: AncestrydConfig, log: Logging['logger'], r: Running): Promise<void> {
  const deadline = setTimeout(() => {
    log.error({ timeout_ms: cfg.daemon.shutdownTimeoutMs }, 'shutdown took too long: exiting; undelivered events stay in the spool');
    r.logging.flush();
    r.lock?.release();
    process.exit(1);
  }, cfg.daemon.shutdownTimeoutMs);
  deadline.unref();
  try {
    notify(log, 'STOPPING=1\nSTATUS=stopping: draining the ring and flushing the outputs');
    r.metrics.setReady(false, 'stopping');
    if (r.pipeline) await r.pipeline.stop();
    if (r.admin) await r.admin.close();
    if (r.metricsServer) await r.metricsServer.close();
    r.metrics.close();
    log.info('stopped');
  } finally {
    clearTimeout(deadline);
    r.lock?.release();
    r.logging.flush();
  }
}
