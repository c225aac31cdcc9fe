/**
 * `ancestryd run`: the daemon's lifecycle around the pipeline.
 *
 * Start: pidfile lock → admin socket → metrics server → pipeline (preflight,
 * outputs, collector) → ready. Stop (SIGTERM/SIGINT): not ready → pipeline
 * (detach, drain, flush outputs) → servers → lock. A second signal during
 * the stop exits at once; so does the end of shutdown_timeout_ms. SIGHUP
 * reloads the options that are safe to change and logs the ones that need a
 * restart. With config_plugin=tls the TLS server's options are fetched
 * before the pipeline starts (so they all apply) and, every config_refresh
 * seconds, applied like a SIGHUP's.
 */
import { AncestrydError } from '../errors';
import { registerAdminHandlers } from './admin/admin-handlers';
import { catchEarlySignals, earlySignals, releaseEarlySignals } from './early-signals';
import { AdminHandlers, startAdminServer, type AdminServer } from './admin/admin-socket';
import { readBootId } from '../collector/boot-clock';
import { resolveHost } from '../events';
import { effectiveOptions, type AncestrydConfig } from './config/config';
import { diffConfigs, reloadConfig, type ConfigDiff } from './config/config-diff';
import { exitCodeFor } from './exit-codes';
import { createLogging, type Logging } from './log';
import { Metrics } from './metrics/metrics';
import { MetricsEndpoint } from './metrics/metrics-endpoint';
import { packageInfo } from './package-info';
import { acquirePidfile, type PidfileLock } from './pidfile';
import { Pipeline } from './pipeline';
import type { RemoteConfig } from './config/remote-config';
import { sdNotify } from './sd-notify';

/** The configuration in effect, and the changed options that wait for a restart (admin "config", stats). */
interface Live {
  cfg: AncestrydConfig;
  pending: string[];
}

export async function runDaemon(cfg: AncestrydConfig): Promise<void> {
  catchEarlySignals(); // main.ts already did for `ancestryd run`; callers that embed runDaemon get it here
  const logging = createLogging({ level: cfg.daemon.logLevel, format: cfg.daemon.logFormat });
  const log = logging.child('daemon');
  for (const w of cfg.warnings) log.warn(w);
  let lock: PidfileLock | null = null;
  let admin: AdminServer | null = null;
  let metricsServer: MetricsEndpoint | null = null;
  let pipeline: Pipeline | null = null;
  let remote: RemoteConfig | null = null;
  const metrics = new Metrics();
  const live: Live = { cfg, pending: [] };
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
    if (cfg.remote.enabled && earlySignals().stop === null) {
      remote = openRemoteConfig(cfg, logging);
      const first = await remote.fetch(cfg);
      metrics.remoteConfigFetched(first.result);
      if ('config' in first) {
        cfg = first.config;
        live.cfg = cfg;
        logging.setLevel(cfg.daemon.logLevel);
        for (const w of cfg.warnings.filter((x) => x.startsWith('the TLS server'))) log.warn(w);
      } else {
        log.warn({ result: first.result, detail: first.detail },
          'no options from the TLS server at start: running on the local configuration until a fetch succeeds');
      }
      const r = remote;
      metrics.setRemoteConfig(() => ({
        endpoint: live.cfg.remote.endpoint, refresh_seconds: live.cfg.remote.refreshS, last: r.last,
        from_server: Object.fromEntries(effectiveOptions(live.cfg).filter((o) => o.source === 'remote').map((o) => [o.name, o.value])),
        pending: live.pending,
      }));
    }
    if (earlySignals().stop === null) pipeline = await Pipeline.start(cfg, { logging, metrics, tlsNode: remote?.node });
    if (pipeline === null) {
      log.info({ signal: earlySignals().stop }, 'stop signal during start-up: stopping');
      return;
    }
    registerAdminHandlers(handlers, pipeline, metrics);
    handlers.register('config', () => ({
      config_file: live.cfg.configFile, options: effectiveOptions(live.cfg), pending: live.pending,
    }));
    metrics.setReady(true);
    log.info({
      version: packageInfo().version, config: cfg.configFile, metrics: metricsServer?.url ?? null,
      admin_socket: cfg.daemon.adminSocket,
    }, 'ancestryd ready');
    notify(log, `READY=1\nSTATUS=collecting\nMAINPID=${process.pid}`);
    cfg = await untilStopSignal(live, pipeline, logging, metrics, remote);
  } finally {
    releaseEarlySignals();
    await shutdown(cfg, log, { pipeline, admin, metricsServer, lock, metrics, logging });
    remote?.node.close();
  }
}

/** config_plugin=tls: the host's enrollment and the config endpoint (loaded only then: the HTTPS client costs RSS). */
function openRemoteConfig(cfg: AncestrydConfig, logging: Logging): RemoteConfig {
  const { RemoteConfig: Remote } = require('./config/remote-config') as typeof import('./config/remote-config');
  const { TlsNode } = require('../sinks/tls/tls-node') as typeof import('../sinks/tls/tls-node');
  const { collectHostDetails } = require('../sinks/tls/host-details') as typeof import('../sinks/tls/host-details');
  const host = resolveHost(cfg.events, readBootId());
  const node = new TlsNode({ ...cfg.outputs.tls, hostIdentifier: host.hostIdentifier },
    collectHostDetails(host.hostname, host.machineId, packageInfo().version), logging.child('tls'), (v) => logging.addSecret(v));
  node.start();
  return new Remote(node, cfg.remote.endpoint);
}

/**
 * Resolves at SIGTERM/SIGINT, handling SIGHUP reloads and config_refresh
 * fetches meanwhile; returns the config in effect.
 */
function untilStopSignal(live: Live, pipeline: Pipeline, logging: Logging, metrics: Metrics, remote: RemoteConfig | null): Promise<AncestrydConfig> {
  const log = logging.child('daemon');
  const started = live.cfg;
  /** One rule for SIGHUP and the TLS server: apply what can change live, report the rest as pending. */
  const apply = (next: AncestrydConfig, diff: ConfigDiff, origin: string): void => {
    for (const c of diff.restartRequired) {
      log.warn({ option: c.option, from: c.from, to: c.to, origin }, 'option changed but needs a restart to take effect; keeping the running value');
    }
    if (diff.reloadable.length > 0) {
      logging.setLevel(next.daemon.logLevel);
      pipeline.reconfigure(next);
      log.info({ changed: diff.reloadable.map((c) => c.option), origin }, 'configuration reloaded');
    } else {
      log.info({ origin }, 'configuration reloaded: nothing to change live');
    }
    live.cfg = next;
    live.pending = diffConfigs(started, next).restartRequired.map((c) => c.option);
  };
  let refresh: NodeJS.Timeout | null = null;
  if (remote !== null && live.cfg.remote.refreshS > 0) {
    let busy = false;
    let lastProblem = '';
    refresh = setInterval(() => {
      if (busy) return;
      busy = true;
      remote.fetch(live.cfg).then((r) => {
        metrics.remoteConfigFetched(r.result);
        if ('config' in r) {
          if (r.result === 'applied') apply(r.config, r.diff, 'config_plugin=tls');
        } else if (r.detail !== lastProblem) {
          // Once per distinct problem: a server down for hours would otherwise log every refresh.
          log[r.result === 'invalid' ? 'error' : 'warn']({ result: r.result, detail: r.detail },
            r.result === 'invalid' ? 'the TLS server\'s options were refused; keeping the running configuration'
              : 'could not fetch the TLS server\'s options; keeping the running configuration');
        }
        lastProblem = 'detail' in r ? r.detail : '';
      }).catch((err: unknown) => log.error({ err: (err as Error).message }, 'remote configuration failed'))
        .finally(() => { busy = false; });
    }, live.cfg.remote.refreshS * 1000);
    refresh.unref();
  }
  return new Promise((resolve) => {
    const onHup = () => {
      try {
        const { config, diff } = reloadConfig(live.cfg);
        apply(config, diff, 'SIGHUP');
        metrics.configReloaded(true);
      } catch (err) {
        metrics.configReloaded(false);
        log.error({ err: (err as Error).message }, 'configuration reload failed; keeping the running configuration');
      }
    };
    const onStop = (signal: NodeJS.Signals) => {
      if (refresh !== null) clearInterval(refresh);
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
      resolve(live.cfg);
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
    log.error({ timeout_ms: cfg.daemon.shutdownTimeoutMs }, 'shutdown took too long: exiting; undelivered events stay in the spools (kafka, tls) and in the ring when pinned (the results log)');
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
