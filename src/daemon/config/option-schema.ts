/**
 * Every option of ancestryd, declared once: name, group, type, default,
 * documentation and whether SIGHUP may change it. The config loader, the
 * CLI help, the reload diff and docs/options.md (tools/gen-options-doc.ts)
 * all read this table, so an option has one name in the schema, the flags,
 * the docs and every error message.
 *
 * Names follow the osquery flags operators already use where one exists
 * (process_ancestry_*, logger_*, tls_*, enroll_*, host_identifier); the
 * rest are ours (bpf_*, spool_*, metrics_address, admin_socket, …).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CACHE_SIZE_RANGE, CACHE_TTL_RANGE, compileRedactionPattern, DEFAULT_PATTERNS_WORD, MAX_DEPTH_RANGE } from '../../ancestry';
import { Limits } from '../../collector/layout';
import { PIN_ROOT_DEFAULT } from '../../collector/pins';
import { ANCESTRY_DETAILS, DEFAULT_OSQUERY_NAMES, EVENT_TYPES, FORMAT_NAMES, HOST_IDENTIFIERS } from '../../events';
import { checkTlsEndpoint, TLS_ENDPOINT_ALLOWED } from '../../sinks/tls/config';
import {
  address, boolean, bytes, integer, integerOrWord, listOf, oneOf, path, regexList, systemOrLocal, text,
  type HostFacts, type OptionGroup, type OptionSpec, type OptionValue,
} from './option-types';
import { fileOptions, kafkaOptions, spoolOptions, tlsOutputOptions } from './output-options';
import { packageInfo } from '../package-info';
import { PRESET_NAMES } from './presets';
import { SECRET_FILE_OPTIONS } from './output-files';

export const LOGGER_PLUGINS = ['filesystem', 'kafka', 'tls', 'stdout'] as const;
export type LoggerPlugin = (typeof LOGGER_PLUGINS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const SYSTEM_ADMIN_SOCKET = '/run/ancestryd/admin.sock';

/** sun_path is 108 bytes including the terminating NUL. */
export const UNIX_PATH_MAX_BYTES = 107;

/** Nearest existing ancestor of `p` (or `p`) is writable by this process. */
export function writableByUs(p: string): boolean {
  let dir = resolve(p);
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export const REAL_HOST: HostFacts = {
  get cwd() { return process.cwd(); },
  writable: writableByUs,
};

export const OPTIONS = {
  // ── ancestry ───────────────────────────────────────────────────────────
  process_ancestry_preset: oneOf(['none', ...PRESET_NAMES], {
    group: 'ancestry', default: 'none', reloadable: true,
    doc: 'Sizing preset from the production guide: fills process_ancestry_cache_size / process_ancestry_max_depth / '
      + 'process_ancestry_cache_ttl / process_ancestry_cache_max_bytes with small 500/16/600/4 MiB, medium 2000/20/300/8 MiB, '
      + 'large 5000/24/180/16 MiB, enterprise 10000/32/120/32 MiB. '
      + 'An option set explicitly (file, environment or flag) wins over the preset.',
  }),
  process_ancestry_cache_size: integerOrWord('auto', {
    group: 'ancestry', min: CACHE_SIZE_RANGE[0], max: CACHE_SIZE_RANGE[1], unit: 'entries', default: 4096, reloadable: true,
    doc: 'Most process entries the ancestry cache holds. When full, the oldest exited entries are evicted first; '
      + 'a lineage that needed an evicted ancestor is marked incomplete (reason evicted). "auto": the daemon sizes it each '
      + 'second from what it measures — live processes and exited ancestors still needed, ×1.5, plus room for recent exits; '
      + 'doubled at once when a needed entry was evicted, shrunk after a minute at twice the need — within '
      + 'process_ancestry_cache_max_bytes. Each change is logged; stats and ancestryd_ancestry_cache_capacity_entries show it.',
  }),
  process_ancestry_cache_max_bytes: bytes({
    group: 'ancestry', min: 1024 * 1024, max: 16 * 1024 ** 3, default: 32 * 1024 ** 2, reloadable: true,
    doc: 'Memory budget of the ancestry cache when process_ancestry_cache_size=auto, as the cache measures its entries '
      + '(ancestryd stats cache_bytes; the process\'s RSS grows about twice that per entry: 1.4 KB per held process '
      + 'against a 700 B estimate, docs/benchmarks.md). Presets set it.',
  }),
  process_ancestry_max_depth: integer({
    group: 'ancestry', min: MAX_DEPTH_RANGE[0], max: Math.min(MAX_DEPTH_RANGE[1], Limits.ET_CHAIN_MAX), default: Limits.ET_CHAIN_DEFAULT,
    doc: 'Ancestors reported per exec (nearest first). Also the depth the kernel program walks, so it is fixed at load: '
      + 'changing it needs a restart. A deeper tree is reported incomplete (reason depth_cap).',
  }),
  process_ancestry_detail: oneOf(ANCESTRY_DETAILS, {
    group: 'ancestry', default: 'full',
    doc: 'How much of each ancestor every exec line carries, in every format: full (every field), compact (entity_id, pid, ppid, '
      + 'exe_name, path, proc_time_hr; osquery names) or ids (entity ids only). Every exec repeats its whole chain, so this sets '
      + 'most of the volume downstream (docs/benchmarks.md has bytes per exec).',
  }),
  process_ancestry_field_max_bytes: integer({
    group: 'ancestry', min: 64, max: Limits.ET_ARGV_MAX, unit: 'bytes', default: 1024,
    doc: 'Longest path, cmdline and cwd of each ancestor in an exec line (UTF-8 bytes before JSON escaping); a longer one is '
      + 'cut and the line flags it (osquery overflows "ancestry" and the element\'s "truncated":true; ECS ancestryd.truncated; '
      + 'OCSF metadata.is_truncated). The ancestor\'s own exec line has the whole text. At the default, an exec whose 32 '
      + 'ancestors all carry hostile text stays under event_max_bytes.',
  }),
  process_ancestry_cache_ttl: integer({
    group: 'ancestry', min: CACHE_TTL_RANGE[0], max: CACHE_TTL_RANGE[1], unit: 'seconds', default: 300, reloadable: true,
    doc: 'Seconds an exited process stays in the cache (after its exit or last use) so that later execs of its descendants '
      + 'still get its lineage.',
  }),

  // ── collector (kernel side) ───────────────────────────────────────────
  bpf_object_path: path({
    group: 'collector', default: () => join(packageInfo().root, 'build', 'exec_trace.bpf.o'),
    defaultDoc: '<package>/build/exec_trace.bpf.o',
    doc: 'The compiled CO-RE BPF object ("make" builds it).',
  }),
  bpf_ring_buffer_size: bytes({
    group: 'collector', min: 256 * 1024, max: 1024 ** 3, powerOfTwo: true, default: 16 * 1024 ** 2,
    doc: 'Size of the kernel → daemon ring buffer. Records that do not fit while the daemon is behind are lost '
      + '(ancestryd_ring_records_lost_total). One exec record with full argv is up to ~38 KiB.',
  }),
  bpf_argv_max_bytes: integer({
    group: 'collector', min: 0, max: Limits.ET_ARGV_MAX, unit: 'bytes', default: Limits.ET_ARGV_DEFAULT,
    doc: 'argv bytes copied per exec; longer command lines are truncated (argv_truncated).',
  }),
  bpf_wakeup_bytes: bytes({
    group: 'collector', min: 0, max: 512 * 1024 ** 2, default: Limits.ET_WAKEUP_BYTES_DEFAULT,
    doc: 'Pending bytes in the ring that wake the daemon at once; below it the daemon wakes every bpf_drain_timeout_ms. '
      + 'Batching wakeups saves ~75 µs of CPU per event (a kernel wakeup costs the daemon ~130 µs). Must be smaller than bpf_ring_buffer_size.',
  }),
  bpf_drain_timeout_ms: integer({
    group: 'collector', min: 1, max: 10_000, unit: 'ms', default: 15,
    doc: 'Drain period while records flow: the longest a record waits in the ring below bpf_wakeup_bytes. Each pass '
      + 'costs the daemon ~150–350 µs of CPU on top of its events (the wakeup, and caches gone cold since the last pass): '
      + '15 ms keeps the kernel → results log latency at p99 16–18 ms at 1000 exec/s, with a third fewer passes than 10 ms. '
      + 'After 100 ms without records the timer stops and the kernel wakes the daemon with the next record.',
  }),
  bpf_drain_batch_records: integer({
    group: 'collector', min: 1, max: 1_000_000, unit: 'records', default: 4096,
    doc: 'Records read before the daemon hands ring space back to the kernel.',
  }),
  exec_failed_events: boolean({
    group: 'collector', default: true,
    doc: 'Report failed execs: through fexit on the execve syscalls where the kernel loads it (no cost to other syscalls), '
      + 'else through the syscall-exit tracepoints (need tracefs, see mount_tracefs; every syscall on the host then takes '
      + 'the slow path, +55–72 ns). ancestryd check says which. When false, no exec_failed events exist whatever event_types says.',
  }),
  bpf_pin: boolean({
    group: 'collector', default: true,
    doc: 'Pin the BPF programs, links and maps under bpf_pin_path, so that they stay attached while the daemon is down '
      + '(restart, crash, kill, upgrade): the ring keeps what happens meanwhile and the next daemon drains it before '
      + 'anything new. A set built otherwise (another build or other bpf_* settings) is replaced with no instant '
      + 'unattached. `ancestryd unpin` removes the pins. false: the programs are detached when the daemon stops.',
  }),
  bpf_pin_path: path({
    group: 'collector', default: () => PIN_ROOT_DEFAULT, defaultDoc: PIN_ROOT_DEFAULT,
    doc: 'Directory on bpffs for the pinned sets (bpf_pin); created 0700.',
  }),
  mount_tracefs: boolean({
    group: 'collector', default: true,
    doc: 'Mount tracefs on /sys/kernel/tracing at start when failed-exec events need it and it is missing (root only). '
      + 'The systemd unit has systemd mount it (sys-kernel-tracing.mount) and sets this to false.',
  }),

  // ── events ─────────────────────────────────────────────────────────────
  event_types: listOf(EVENT_TYPES, {
    group: 'events', default: ['exec', 'exec_failed'], mustInclude: 'exec', reloadable: true,
    doc: 'Event types written to the outputs: exec (always), exec_failed, fork, exit. The daemon tracks forks and exits '
      + 'either way; listing them only adds them to the output.',
  }),
  logger_format: oneOf(FORMAT_NAMES, {
    group: 'events', default: 'osquery',
    doc: 'Line format: osquery (osquery result log rows, "action":"added"), ecs (Elastic Common Schema 9.4: ECS fields only inside ECS field sets; '
      + 'the full ancestor objects in ancestryd.ancestry, their entity ids in process.Ext.ancestry) or ocsf (OCSF 1.9 Process Activity, '
      + 'class_uid 1007: exec and fork are Launch, exit is Terminate; the lineage in process.ancestry and process.lineage).',
  }),
  logger_numerics: boolean({
    group: 'events', default: false,
    doc: 'osquery format: numeric columns as JSON numbers instead of strings (osquery\'s log_numerics_as_numbers).',
  }),
  logger_event_name: text({
    group: 'events', default: DEFAULT_OSQUERY_NAMES.exec, pattern: /^[A-Za-z0-9_.:/-]{1,128}$/,
    describe: 'a query name of 1..128 characters from A-Z a-z 0-9 _ . : / -',
    doc: 'osquery format: the "name" of exec and exec_failed rows (the scheduled query name pipelines match on).',
  }),
  host_identifier: oneOf(HOST_IDENTIFIERS, {
    group: 'events', default: 'hostname',
    doc: 'hostIdentifier of every event and of the TLS enrollment, as osquery: hostname, uuid (the machine id, stable '
      + 'across renames) or specified (the value of specified_identifier).',
  }),
  cmdline_redaction_patterns: regexList({
    group: 'events', default: [DEFAULT_PATTERNS_WORD], word: DEFAULT_PATTERNS_WORD, maxItems: 64, compile: compileRedactionPattern,
    doc: 'Secrets masked in every argv and cmdline before any output, ancestors included: JavaScript regular expressions matched '
      + 'case-insensitively against the command line (argv joined with spaces); each capture group of a match, or the whole match '
      + 'when the pattern has none, becomes ***** in argv and cmdline alike. "default" names the built-in set: name=value and '
      + '"--name value" where the name holds password, passwd, passphrase, secret, token, api_key, access_key or private_key '
      + '(--password=x, --password x, PGPASSWORD=x, MYSQL_PWD=x, ?token=x), URL credentials (scheme://user:password@) and '
      + 'Authorization headers. Add your own beside it: ["default", "--vault-pass\\s+(\\S+)"]; [] turns redaction off.',
  }),
  event_max_bytes: bytes({
    group: 'events', min: 64 * 1024, max: 64 * 1024 ** 2, default: 1024 ** 2,
    doc: 'Longest event line. A longer one is written again with entity ids for its ancestry and every text field cut to '
      + 'fit, and flagged (overflows/truncated "event"); never dropped. The default, 1 MiB, is osquery\'s '
      + 'logger_tls_max_linesize and about Kafka\'s default message.max.bytes; with the kafka output the limit is at most what '
      + 'one record of logger_kafka_max_batch_bytes holds (999 664 bytes by default).',
  }),
  specified_identifier: text({
    group: 'events', default: '', pattern: /^[^\s]{0,256}$/, describe: 'an identifier without spaces (at most 256 characters)',
    doc: 'The host identifier when host_identifier=specified; must be empty otherwise.',
  }),

  // ── outputs ────────────────────────────────────────────────────────────
  logger_plugin: listOf(LOGGER_PLUGINS, {
    group: 'outputs', default: ['filesystem'], min: 1,
    doc: 'Where events go, comma-separated: filesystem (logger_path), kafka (logger_kafka_*), tls (an osquery TLS '
      + 'server such as FleetDM), stdout (JSON lines; daemon logs go to stderr).',
  }),

  // ── each output's own options (output-options.ts) ─────────────────
  ...fileOptions(),
  ...spoolOptions(),
  ...kafkaOptions(),
  ...tlsOutputOptions(),

  // ── remote configuration (config_plugin=tls: the tls output's server and enrollment) ──
  config_plugin: oneOf(['filesystem', 'tls'], {
    group: 'tls', default: 'filesystem',
    doc: 'Where options come from besides the config file, as osquery: filesystem (the file alone) or tls (also the "options" of '
      + 'the TLS server\'s config, e.g. FleetDM\'s agent options, POSTed to config_tls_endpoint with the node key; tls_hostname, '
      + 'enroll_secret_path and the tls_* settings as for the tls output, which shares the enrollment). Server options override the '
      + 'file, flags and ANCESTRYD_* variables override them; paths, the TLS server settings and cmdline_redaction_patterns are '
      + 'local only. A reply that fails validation changes nothing (ancestryd_remote_config_total{result="invalid"}).',
  }),
  config_tls_endpoint: text({
    group: 'tls', default: '/api/osquery/config', check: checkTlsEndpoint, describe: TLS_ENDPOINT_ALLOWED,
    doc: 'Config endpoint (config_plugin=tls).',
  }),
  config_refresh: integer({
    group: 'tls', min: 0, max: 86_400, unit: 'seconds', default: 0,
    doc: 'config_plugin=tls: 0 fetches the options once, at start (before the collector starts, so every option applies); N also '
      + 'every N seconds, applying what can change while running and reporting the rest as pending until a restart.',
  }),

  // ── daemon ─────────────────────────────────────────────────────────────
  metrics_address: address({
    group: 'daemon', default: '127.0.0.1:9393',
    doc: 'Prometheus /metrics, /healthz and /readyz. "" disables the listener. When the address cannot be bound '
      + '(another process holds the port), the daemon runs without it, shows it in stats and retries with backoff.',
  }),
  admin_socket: path({
    group: 'daemon', default: (h) => systemOrLocal(SYSTEM_ADMIN_SOCKET, 'var/run/ancestryd/admin.sock', h, false),
    defaultDoc: '/run/ancestryd/admin.sock; ./var/run/ancestryd/admin.sock when /run/ancestryd cannot be written (not root)',
    emptyDisables: true, maxBytes: UNIX_PATH_MAX_BYTES,
    doc: 'UNIX socket of the admin API the CLI talks to (socket 0600, directory 0700: root only). "" disables it.',
  }),
  pidfile: path({
    group: 'daemon', default: (h) => systemOrLocal('/run/ancestryd/ancestryd.pid', 'var/run/ancestryd/ancestryd.pid', h, false),
    defaultDoc: '/run/ancestryd/ancestryd.pid; ./var/run/ancestryd/ancestryd.pid when /run/ancestryd cannot be written (not root)',
    emptyDisables: true,
    doc: 'Lock file that keeps a second daemon from starting; removed on clean exit. "" disables it.',
  }),
  admin_recent_events: integer({
    group: 'daemon', min: 0, max: 1_000_000, unit: 'events', default: 10_000,
    doc: 'Recent events kept in memory for "ancestryd events" (and at most 4 MiB of their lines). 0 disables.',
  }),
  allow_insecure_secret_files: boolean({
    group: 'daemon', default: false,
    doc: `Secret files (${SECRET_FILE_OPTIONS.join(', ')}) must be `
      + 'owned by the daemon\'s user with mode 0600 or 0400, or the daemon refuses to start; true makes that a warning, for a '
      + 'migration from a looser setup. The config file and bpf_object_path must not be writable by another user, always.',
  }),
  log_level: oneOf(LOG_LEVELS, {
    group: 'daemon', default: 'info', reloadable: true,
    doc: 'Level of the daemon\'s own log (stderr; the journal under systemd).',
  }),
  log_format: oneOf(LOG_FORMATS, {
    group: 'daemon', default: 'auto',
    doc: 'Daemon log format: json (one JSON object per line), pretty (for people), auto (pretty when stderr is a terminal).',
  }),
  shutdown_timeout_ms: integer({
    group: 'daemon', min: 100, max: 600_000, unit: 'ms', default: 10_000,
    doc: 'On SIGTERM: longest the daemon spends draining the ring and flushing outputs before it exits; what the kafka and '
      + 'tls outputs have not delivered by then stays in their spools for the next start, what waits in a memory queue '
      + '(stdout\'s, or the filesystem output\'s while its writes fail) is lost.',
  }),
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
type SpecValue<S> = S extends OptionSpec<infer T> ? T : never;
/** Every option's value, flat, keyed by option name. */
export type OptionValues = { -readonly [K in OptionName]: SpecValue<(typeof OPTIONS)[K]> };

for (const [name, spec] of Object.entries(OPTIONS)) (spec as OptionSpec).name = name;

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

export function isOptionName(name: string): name is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTIONS, name);
}

export function optionSpec(name: OptionName): OptionSpec {
  return OPTIONS[name] as OptionSpec;
}

/** ANCESTRYD_<OPTION_NAME_UPPER>. */
export function envName(name: string): string {
  return 'ANCESTRYD_' + name.toUpperCase();
}

export function defaultValue(name: OptionName, host: HostFacts): OptionValue {
  const d = optionSpec(name).default;
  return typeof d === 'function' ? d(host) : d;
}

export const GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  ancestry: 'Ancestry cache',
  collector: 'Kernel collector',
  events: 'Events and formats',
  outputs: 'Outputs',
  filesystem: 'Filesystem output',
  spool: 'Spool (kafka and tls outputs)',
  kafka: 'Kafka output',
  tls: 'TLS output (osquery TLS protocol, FleetDM)',
  daemon: 'Daemon',
};

/**
 * osquery options an operator may carry over from an osquery.conf that
 * ancestryd has no use for: rejected like any unknown key, with a clearer
 * message than "did you mean".
 */
export const OSQUERY_ONLY_OPTIONS: ReadonlySet<string> = new Set([
  'database_path', 'disable_events', 'disable_audit',
  'audit_allow_process_events', 'audit_allow_config', 'distributed_plugin', 'distributed_interval',
  'distributed_tls_max_attempts', 'distributed_tls_read_endpoint', 'distributed_tls_write_endpoint',
  'disable_distributed', 'logger_min_status', 'logger_min_stderr', 'schedule_splay_percent',
  'schedule_default_interval', 'pack_delimiter', 'utc', 'worker_threads', 'events_expiry', 'events_max',
  'watchdog_level', 'watchdog_memory_limit', 'watchdog_utilization_limit', 'verbose', 'log_result_events',
  'logger_snapshot_event_type', 'enable_monitor', 'disable_logging', 'logger_event_type',
]);

/**
 * Options a TLS server's config may not set, only this host: what decides
 * which files root reads, writes or loads (every path), whom the daemon
 * trusts and talks to (the TLS server and its credentials), where it
 * listens, and the masking of secrets before they leave the host. A
 * server that could change these would own the host, not just its options.
 */
export const LOCAL_ONLY_OPTIONS: ReadonlySet<OptionName> = new Set([
  ...(Object.keys(OPTIONS) as OptionName[]).filter((n) => OPTIONS[n].type === 'path' || /_(file|certs|cert|key)$/.test(n)),
  'config_plugin', 'config_tls_endpoint', 'tls_hostname', 'enroll_tls_endpoint', 'allow_insecure_secret_files',
  'metrics_address', 'mount_tracefs', 'cmdline_redaction_patterns', 'logger_kafka_brokers',
] as OptionName[]);

/** osquery options ancestryd has under another name. */
export const OSQUERY_RENAMED: Readonly<Record<string, OptionName>> = {
  log_numerics_as_numbers: 'logger_numerics',
};
