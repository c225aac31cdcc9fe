/**
 * `ancestryd check --compliance`: the controls an auditor checks on a host
 * that runs the daemon, each pass or fail with the fix. Replaces the
 * production guide's compliance script. Reads files and the configuration;
 * changes nothing.
 *
 * Controls:
 *   config-file      the configuration decides which BPF object root loads:
 *                    it and its directory owned by root, not writable by
 *                    group or others (as the daemon requires to start)
 *   secrets          enroll secret, TLS and Kafka keys, SASL password file:
 *                    owned by root, no group or other access (0600 / 0400)
 *   directories      logger_path, spool_path, the pidfile's and admin socket's:
 *                    where they exist, owned by root and not writable by others
 *   tls-verification every TLS output names the CA it verifies its server with
 *   metrics-bind     /metrics (no authentication) bound to loopback only
 *   ancestry         depth and cache sized at least as the guide's smallest preset
 *   unit-hardening   the installed systemd unit keeps the shipped unit's sandbox
 *   memory-limit     the unit's MemoryMax leaves room for the configured cache
 *   bpf-pins         bpf_pin on, bpffs under bpf_pin_path, and no set left by another build
 *   kernel-features  what the daemon uses of the kernel is there: each feature, and its cost
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { listPinnedSets, pinSetName } from '../../collector/pins';
import { checkKernelFeatures, checkPins, type PreflightCheck } from '../../collector/preflight';
import { errCode } from '../../errors';
import { formatMode, othersMayWrite, rootLoadsProblems, trustProblems } from '../../private-dir';
import type { AncestrydConfig } from '../config/config';
import { secretFiles } from '../config/output-files';
import { packageInfo } from '../package-info';
import { PRESETS } from '../config/presets';

export interface ComplianceOptions {
  /** The installed unit to compare with the shipped one. */
  unitPath: string;
  /** The shipped unit (deploy/ancestryd.service). */
  shippedUnitPath?: string;
  /** Owner every file and directory must have: root (0), or the tests' own uid. */
  ownerUid?: number;
}

export const INSTALLED_UNIT = '/etc/systemd/system/ancestryd.service';

/** Sandbox directives whose shipped value the installed unit must keep. */
const HARDENING = [
  'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ReadOnlyPaths',
  'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectClock', 'ProtectHostname',
  'RestrictSUIDSGID', 'RestrictNamespaces', 'RestrictRealtime', 'LockPersonality', 'CapabilityBoundingSet',
  'AmbientCapabilities', 'RestrictAddressFamilies', 'SystemCallArchitectures', 'SystemCallFilter',
];

/** RSS the daemon needs beside its cache (idle, ring buffer, bursts; docs/benchmarks.md), and per cache entry. */
const BASE_BYTES = 256 * 1024 * 1024;
const BYTES_PER_ENTRY = 8 * 1024;

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function check(name: string, problems: string[], detail: string, fix: string): PreflightCheck {
  return problems.length === 0 ? { name, ok: true, detail } : { name, ok: false, detail: problems.join('; '), fix };
}

/** `what` at `path`: missing, or what `rule` finds wrong with it. */
function fileProblems(what: string, path: string, rule: () => string[]): string[] {
  return stat(path) === null ? [`${what} ${path} is missing`] : rule();
}

/** systemd unit text → directive → value (the last assignment wins, as systemd reads it). */
export function unitDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** systemd's size syntax (1536M, 2G, bytes, infinity) in bytes; null when unset or unreadable (percentages included). */
function unitBytes(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  if (v === 'infinity') return Infinity;
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(v);
  if (m === null) return null;
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] || ' ');
}

export function complianceChecks(config: AncestrydConfig, opts: ComplianceOptions): PreflightCheck[] {
  const uid = opts.ownerUid ?? 0;
  const v = config.values;
  const out: PreflightCheck[] = [];

  const conf = config.configFile;
  out.push(conf === null
    ? { name: 'config-file', ok: false, detail: 'no configuration file: the daemon runs on defaults and flags', fix: 'install one, e.g. config/ancestryd.conf as /etc/ancestryd/ancestryd.conf (root, 0644)' }
    : check('config-file', fileProblems('config file', conf, () => rootLoadsProblems('config file', conf, uid)),
      `${conf} and its directory owned by uid ${uid}, not writable by others`,
      `chown ${uid} ${conf}; chmod go-w ${conf} (and its directory)`));

  const object = String(v.bpf_object_path);
  out.push(check('bpf-object', fileProblems('bpf_object_path', object, () => rootLoadsProblems('bpf_object_path', object, uid)),
    `${object} and its directory owned by uid ${uid}, not writable by others`,
    `chown ${uid} ${object}; chmod go-w ${object} (and its directory): the daemon refuses to load it otherwise`));

  const secrets = secretFiles(v);
  const secretProblems = secrets.flatMap((f) => fileProblems(f.option, f.path, () => trustProblems(f.option, f.path, uid, true)));
  out.push(check('secrets', secretProblems,
    secrets.length === 0 ? 'no secret files configured' : `${secrets.map((f) => f.option).join(', ')}: owned by uid ${uid}, mode 0600 or 0400`,
    'chown root and chmod 600 each secret file named'));

  const dirs: [string, string][] = ([
    ['logger_path', v.logger_path], ['spool_path', v.spool_path],
    ['pidfile', v.pidfile === '' ? '' : dirname(String(v.pidfile))], ['admin_socket', v.admin_socket === '' ? '' : dirname(String(v.admin_socket))],
  ] as [string, unknown][]).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
  const dirProblems: string[] = [];
  for (const [name, dir] of dirs) {
    const st = stat(dir);
    if (st === null) continue; // created 0700 by the daemon
    if (!st.isDirectory()) dirProblems.push(`${name} ${dir} is not a directory`);
    else if (othersMayWrite(st, uid)) dirProblems.push(`${name} ${dir}: uid ${st.uid}, mode ${formatMode(st.mode)}`);
  }
  out.push(check('directories', dirProblems, `${dirs.map(([n, d]) => `${n} ${d}`).join(', ')}: owned by uid ${uid}, not writable by others (or not created yet)`,
    `chown ${uid} and chmod go-w each directory named (the daemon refuses to start on them)`));

  const plugins = v.logger_plugin as readonly string[];
  const tlsProblems: string[] = [];
  if (plugins.includes('tls') && !v.tls_server_certs) tlsProblems.push('logger_plugin tls without tls_server_certs: the server is verified against the system CAs only');
  // What the Kafka sink will do, as it parsed it: option values from flags and the environment are still text here.
  const kafka = config.outputs.kafka;
  if (kafka !== null && kafka.tls !== null && kafka.tls.caFile === null) {
    tlsProblems.push('logger_kafka_tls without logger_kafka_tls_server_certs: the brokers are verified against the system CAs only');
  }
  if (kafka !== null && kafka.tls === null && kafka.sasl?.mechanism === 'plain') {
    tlsProblems.push('logger_kafka_sasl_mechanism=plain without logger_kafka_tls: the password crosses the network in clear');
  }
  out.push(check('tls-verification', tlsProblems, 'every TLS output pins the CA its server must present',
    'set tls_server_certs / logger_kafka_tls_server_certs to your CA bundle, and logger_kafka_tls=true with SASL'));

  const address = String(v.metrics_address);
  const host = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':'));
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host) || address === '';
  out.push(loopback
    ? { name: 'metrics-bind', ok: true, detail: `/metrics on ${address || '(disabled)'}: loopback only` }
    : { name: 'metrics-bind', ok: false, detail: `/metrics on ${address}: reachable from the network, without authentication`,
      fix: 'set metrics_address=127.0.0.1:9393 and scrape through a local agent, or firewall the port' });

  const small = PRESETS.small;
  const ancestryProblems: string[] = [];
  if (config.ancestry.maxDepth < small.process_ancestry_max_depth) ancestryProblems.push(`process_ancestry_max_depth ${config.ancestry.maxDepth} < ${small.process_ancestry_max_depth}`);
  if (config.ancestry.cacheSize < small.process_ancestry_cache_size) ancestryProblems.push(`process_ancestry_cache_size ${config.ancestry.cacheSize} < ${small.process_ancestry_cache_size}`);
  if (config.ancestry.cacheTtlMs < 60_000) ancestryProblems.push(`process_ancestry_cache_ttl ${config.ancestry.cacheTtlMs / 1000} s < 60 s`);
  out.push(check('ancestry', ancestryProblems,
    `depth ${config.ancestry.maxDepth}, cache ${config.ancestry.cacheSize}, ttl ${config.ancestry.cacheTtlMs / 1000} s: at least the small preset`,
    'choose a process_ancestry_preset (small, medium, large, enterprise) or raise the values named'));

  out.push(pinControl(config));
  out.push(checkKernelFeatures(config.preflight));

  let installed: Map<string, string> | null = null;
  try {
    installed = unitDirectives(readFileSync(opts.unitPath, 'utf8'));
  } catch (err) {
    out.push({ name: 'unit-hardening', ok: false, detail: `no unit at ${opts.unitPath} (${errCode(err)})`,
      fix: `install deploy/ancestryd.service as ${INSTALLED_UNIT}, or name yours with --unit` });
  }
  if (installed !== null) {
    const shipped = unitDirectives(readFileSync(opts.shippedUnitPath ?? join(packageInfo().root, 'deploy', 'ancestryd.service'), 'utf8'));
    const weaker = HARDENING.filter((d) => shipped.has(d) && installed!.get(d) !== shipped.get(d))
      .map((d) => `${d}=${installed!.get(d) ?? '(unset)'} (shipped: ${shipped.get(d)})`);
    out.push(check('unit-hardening', weaker, `${opts.unitPath} keeps the shipped sandbox (${HARDENING.filter((d) => shipped.has(d)).length} directives)`,
      'restore the directives named from deploy/ancestryd.service (a drop-in that overrides them weakens the sandbox)'));
    const max = unitBytes(installed.get('MemoryMax'));
    const need = BASE_BYTES + config.ancestry.cacheSize * BYTES_PER_ENTRY;
    const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
    out.push(max === null || max === Infinity
      ? { name: 'memory-limit', ok: false, detail: 'the unit sets no MemoryMax: a runaway daemon is not contained', fix: 'set MemoryMax (the shipped unit: 2G)' }
      : max < need
        ? { name: 'memory-limit', ok: false, detail: `MemoryMax ${mib(max)} < ${mib(need)} needed for process_ancestry_cache_size ${config.ancestry.cacheSize}`,
          fix: `raise MemoryMax to at least ${mib(need)}, or choose a smaller preset` }
        : { name: 'memory-limit', ok: true, detail: `MemoryMax ${mib(max)} ≥ ${mib(need)} for cache ${config.ancestry.cacheSize}` });
  }
  return out;
}

/**
 * Pinned programs keep watching while the daemon is down (restart, crash,
 * kill): an auditor wants them on, and no set of another build left behind
 * (attached, filling a ring nobody drains, until the next start replaces it).
 */
function pinControl(config: AncestrydConfig): PreflightCheck {
  const pin = config.preflight.pin;
  if (pin === null) {
    return { name: 'bpf-pins', ok: false, detail: 'bpf_pin=false: whatever runs while the daemon is down (a restart, a crash, a kill) is never seen',
      fix: 'set bpf_pin=true (the default)' };
  }
  const c = checkPins(pin);
  if (!c.ok) return { ...c, name: 'bpf-pins' };
  let own: string | null = null;
  try {
    own = pinSetName(pin);
  } catch {
    // The BPF object is unreadable: every set found is reported as it is.
  }
  const foreign = listPinnedSets(pin.root).filter((s) => s.name !== own).map((s) => s.dir);
  return foreign.length === 0
    ? { name: 'bpf-pins', ok: true, detail: `bpf_pin on, ${pin.root} on bpffs, no set of another build` }
    : { name: 'bpf-pins', ok: false, detail: `left by another build or other settings, attached and not drained: ${foreign.join(', ')}`,
      fix: 'start the daemon (it drains and replaces them), or remove them with `ancestryd unpin` while it is stopped' };
}
