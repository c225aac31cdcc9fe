/**
 * Loads the daemon's configuration: defaults < preset < config file <
 * environment < flags, every value parsed strictly, then the cross-option
 * checks; all problems are collected and reported in one
 * AncestrydError('ANC_CONFIG_INVALID'), one per line, so nothing starts
 * half-configured and the operator fixes everything in one go. The result is a frozen, typed object shaped
 * for the components that consume it.
 *
 * Why not convict (measured, then removed): its string coercion is lax ("yes" and "no"
 * both become true, "12abc" becomes 12), its validate() joins all errors
 * into one string in its own wording (": value was …"), it cannot say where
 * a value came from or whether it was set at all (the presets need that),
 * and its flag parsing ignores unknown flags. The schema here is a plain
 * table (option-schema.ts) and the loader is this file.
 */
import { closeSync, openSync } from 'node:fs';
import { rootLoadsProblems, trustProblems } from '../../private-dir';
import type { CollectorOptions } from '../../collector';
import type { PreflightOptions } from '../../collector/preflight';
import { AncestrydError, isAncestrydError } from '../../errors';
import type { AncestryDetail, EventType, FormatName, HostIdentifierSource } from '../../events';
import { expandRedactionPatterns } from '../../ancestry';
import type { FsyncPolicy } from '../../sinks/fsync-policy';
import type { FileSinkOptions } from '../../sinks/file/config';
import { parseHostPort } from '../../sinks/host-port';
import { maxRecordValueBytes } from '../../sinks/kafka/batch-messages';
import { KAFKA_OPTION_NAMES, parseKafkaConfig, type KafkaSinkConfig } from '../../sinks/kafka/config';
import type { DropPolicy } from '../../sinks/queue';
import { checkTlsClientPair, TLS_HOSTNAME_ALLOWED, type TlsSinkOptions } from '../../sinks/tls/config';
import { readSources, type RawValue, type SourceKind } from './config-sources';
import {
  defaultValue, isOptionName, LOCAL_ONLY_OPTIONS, OPTION_NAMES, optionSpec, OSQUERY_RENAMED, REAL_HOST, type LogFormat, type LoggerPlugin,
  type LogLevel, type OptionName, type OptionValues,
} from './option-schema';
import { OptionValueError, type HostFacts, type OptionValue } from './option-types';
import { PRESET_OPTIONS, PRESETS, type PresetName } from './presets';
import { filesInUse } from './output-files';

export interface LoadConfigOptions {
  /** Tokens after the subcommand: --name=value, --name value, --flag, --config PATH. Default none. */
  argv?: readonly string[];
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Check that the secret and certificate files the enabled outputs need are readable. Default true. */
  checkFiles?: boolean;
  /** uid, working directory and writability behind the host-dependent defaults. Default: this process. */
  host?: HostFacts;
  /** config_plugin=tls: the "options" object of the TLS server's config (src/daemon/config/remote-config.ts). */
  remote?: Readonly<Record<string, unknown>>;
}

/** Where an option's value came from. */
export type ValueSource = 'default' | 'preset' | SourceKind;

export interface SpoolSettings {
  /** Base directory: each output's spool is join(dir, output name). */
  dir: string;
  maxBytes: number;
  dropPolicy: DropPolicy;
  fsync: FsyncPolicy;
}

export interface AncestrydConfig {
  /** Every option, flat, by name (what diffs, docs and `ancestryd config` show). */
  readonly values: Readonly<OptionValues>;
  readonly sources: Readonly<Record<OptionName, ValueSource>>;
  /** The config file read, or null. */
  readonly configFile: string | null;
  /** Not fatal; the daemon should log them at start. */
  readonly warnings: readonly string[];
  /** What loadConfig was called with: reloadConfig() reads the same sources again. */
  readonly loadOptions: Readonly<LoadConfigOptions>;

  readonly ancestry: {
    readonly preset: 'none' | PresetName;
    /** The fixed size, or where auto sizing starts (4096). */
    readonly cacheSize: number;
    /** process_ancestry_cache_size=auto: CacheAutoSizer decides, within cacheMaxBytes. */
    readonly cacheAuto: boolean;
    readonly cacheMaxBytes: number;
    readonly maxDepth: number;
    readonly cacheTtlMs: number;
  };
  /** Collector.open({ ...config.collector, selfTgid: process.pid, onLibbpfMessage }, handlers). */
  readonly collector: Readonly<Omit<CollectorOptions, 'selfTgid' | 'onLibbpfMessage' | 'extraPrograms'>>;
  /** runPreflight(config.preflight). */
  readonly preflight: Readonly<PreflightOptions>;
  readonly events: {
    /** Effective: exec always; exec_failed only when exec_failed_events is on. */
    readonly types: readonly EventType[];
    readonly format: FormatName;
    readonly ancestryDetail: AncestryDetail;
    readonly ancestorFieldMaxBytes: number;
    readonly maxEventBytes: number;
    /** cmdline_redaction_patterns with "default" expanded: ArgvRedactor's sources. */
    readonly redactionPatterns: readonly string[];
    readonly numerics: boolean;
    /** OsqueryFormatOptions.names: the logger_event_name for exec and exec_failed rows. */
    readonly osqueryNames: Readonly<Partial<Record<EventType, string>>>;
    readonly hostIdentifier: HostIdentifierSource;
    /** Set iff hostIdentifier is "specified". */
    readonly specifiedIdentifier: string | null;
  };
  readonly outputs: {
    readonly plugins: readonly LoggerPlugin[];
    readonly file: Readonly<Required<Omit<FileSinkOptions, 'fileName'>>>;
    readonly spool: Readonly<SpoolSettings>;
    /** parseKafkaConfig() of the logger_kafka_* options when logger_plugin includes kafka, else null. */
    readonly kafka: KafkaSinkConfig | null;
    /** Everything resolveTlsOptions() needs except hostIdentifier (from the events' HostIdentity). */
    readonly tls: Readonly<Omit<TlsSinkOptions, 'hostIdentifier'>>;
  };
  /** config_plugin=tls: options from the TLS server (src/daemon/config/remote-config.ts). */
  readonly remote: {
    readonly enabled: boolean;
    readonly endpoint: string;
    /** 0: once, at start. */
    readonly refreshS: number;
  };
  readonly daemon: {
    /** null when metrics_address is "". */
    readonly metricsAddress: { readonly host: string; readonly port: number } | null;
    /** null when "" (disabled). */
    readonly adminSocket: string | null;
    readonly pidfile: string | null;
    readonly recentEvents: number;
    readonly logLevel: LogLevel;
    readonly logFormat: LogFormat;
    readonly shutdownTimeoutMs: number;
  };
}

/** ANC_CONFIG_INVALID with the problems as a list too (the message has them one per line). */
export class ConfigInvalidError extends AncestrydError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const n = problems.length;
    super('ANC_CONFIG_INVALID',
      `invalid configuration (${n} problem${n === 1 ? '' : 's'}); nothing was started:\n${problems.join('\n')}`);
    this.name = 'ConfigInvalidError';
    this.problems = problems;
  }
}

function suffix(v: RawValue): string {
  return v.where.startsWith('/') ? ` (in ${v.where})` : ` (from ${v.where})`;
}

/** Parses, validates and resolves every option; throws ConfigInvalidError listing every problem. */
export function loadConfig(opts: LoadConfigOptions = {}): AncestrydConfig {
  const host = opts.host ?? REAL_HOST;
  const env = opts.env ?? process.env;
  const src = readSources(opts.argv ?? [], env, host.cwd);
  const problems = [...src.problems];
  const warnings = [...src.warnings];

  const values = {} as Record<OptionName, OptionValue>;
  const sources = {} as Record<OptionName, ValueSource>;
  const failed = new Set<OptionName>();
  const remote = remoteValues(opts.remote, warnings);
  for (const name of OPTION_NAMES) {
    const spec = optionSpec(name);
    // Every given value is checked, also the ones a higher source overrides: a broken file stays broken.
    for (const [kind, map] of [['file', src.file], ['remote', remote], ['env', src.env], ['flag', src.flags]] as const) {
      const given = map.get(name);
      if (given === undefined) continue;
      try {
        values[name] = spec.parse(given.raw, { name, host });
        sources[name] = kind;
      } catch (err) {
        if (!(err instanceof OptionValueError)) throw err;
        problems.push(err.message + suffix(given));
        failed.add(name);
      }
    }
  }

  const preset = (values.process_ancestry_preset ?? defaultValue('process_ancestry_preset', host)) as 'none' | PresetName;
  for (const name of PRESET_OPTIONS) {
    if (sources[name] === undefined && preset !== 'none') {
      values[name] = PRESETS[preset][name];
      sources[name] = 'preset';
    }
  }
  for (const name of OPTION_NAMES) {
    if (sources[name] === undefined) {
      values[name] = defaultValue(name, host);
      sources[name] = 'default';
    }
  }

  const v = values as unknown as OptionValues;
  crossCheck(v, sources, failed, problems, warnings);
  if (problems.length === 0 && (opts.checkFiles ?? true)) checkFiles(v, src.configFile, problems, warnings);
  if (problems.length > 0) throw new ConfigInvalidError(problems);

  return deepFreeze(build(v, sources, src.configFile, warnings, opts));
}

/**
 * The TLS server's options as a source: its osquery names mapped to ours;
 * options ancestryd does not have (Fleet sends osquery's whole set) and
 * local-only ones are left out, each with a warning — the rest is
 * validated like the file's.
 */
function remoteValues(options: Readonly<Record<string, unknown>> | undefined, warnings: string[]): Map<OptionName, RawValue> {
  const out = new Map<OptionName, RawValue>();
  if (options === undefined) return out;
  const ignored: string[] = [];
  for (const [key, raw] of Object.entries(options)) {
    const name = OSQUERY_RENAMED[key] ?? key;
    if (!isOptionName(name)) ignored.push(key);
    else if (LOCAL_ONLY_OPTIONS.has(name)) warnings.push(`the TLS server's option ${name} is ignored: it can only be set on the host`);
    else out.set(name, { raw, where: 'the TLS server\'s config' });
  }
  if (ignored.length > 0) warnings.push(`the TLS server's options ${ignored.sort().join(', ')} are not ancestryd options: ignored`);
  return out;
}

function explicit(sources: Record<OptionName, ValueSource>, name: OptionName): boolean {
  const s = sources[name];
  return s === 'file' || s === 'remote' || s === 'env' || s === 'flag';
}

/** Checks between options; a check involving an option whose own value was bad is skipped (one problem, one line). */
function crossCheck(v: OptionValues, sources: Record<OptionName, ValueSource>, failed: ReadonlySet<OptionName>,
  problems: string[], warnings: string[]): void {
  const plugins = v.logger_plugin;
  const need = (cond: boolean, msg: string) => {
    if (!cond) return;
    const involved = OPTION_NAMES.filter((n) => new RegExp(`\\b${n}\\b`).test(msg));
    if (!involved.some((n) => failed.has(n))) problems.push(msg);
  };
  /** A rule a sink states (src/sinks/<name>/config.ts), checked here so that it fails at load, before anything starts. */
  const sinkRule = (check: () => void) => {
    try {
      check();
    } catch (err) {
      if (!isAncestrydError(err)) throw err;
      need(true, err.message);
    }
  };

  if (plugins.includes('kafka') && !KAFKA_OPTION_NAMES.some((n) => failed.has(n))) {
    // The Kafka sink owns its cross-option rules (brokers and topic required, TLS files, SASL).
    try {
      parseKafkaConfig(kafkaValues(v));
    } catch (err) {
      if (!isAncestrydError(err)) throw err;
      problems.push(err.message);
    }
  }
  // The tls output and the tls config plugin share one enrollment with the server.
  const tlsUser = plugins.includes('tls') ? 'logger_plugin includes tls' : v.config_plugin === 'tls' ? 'config_plugin=tls' : null;
  if (tlsUser !== null) {
    need(v.tls_hostname === '', `tls_hostname: required when ${tlsUser} (expected ${TLS_HOSTNAME_ALLOWED})`);
    need(v.enroll_secret_path === '', `enroll_secret_path: required when ${tlsUser} (a file holding the enroll secret)`);
  }
  sinkRule(() => checkTlsClientPair(v.tls_client_cert || null, v.tls_client_key || null));

  if (v.host_identifier === 'specified') {
    need(v.specified_identifier === '', 'specified_identifier: required when host_identifier=specified');
  } else {
    need(v.specified_identifier !== '',
      `specified_identifier is set but host_identifier=${v.host_identifier}: set host_identifier=specified or remove specified_identifier`);
  }

  need(v.bpf_wakeup_bytes >= v.bpf_ring_buffer_size,
    `bpf_wakeup_bytes=${v.bpf_wakeup_bytes} must be smaller than bpf_ring_buffer_size=${v.bpf_ring_buffer_size}`);

  if (explicit(sources, 'event_types') && v.event_types.includes('exec_failed')) {
    need(!v.exec_failed_events, 'event_types includes exec_failed but exec_failed_events=false: remove exec_failed from event_types or set exec_failed_events=true');
  }

  need(v.admin_socket !== '' && v.admin_socket === v.pidfile, `admin_socket and pidfile are both ${v.admin_socket}: give them different paths`);

  // Options of an output that is not enabled are harmless (templated configs carry them), but say so.
  const unused: [LoggerPlugin, RegExp][] = [['kafka', /^logger_kafka_/], ['tls', /^(tls_|enroll_|logger_tls_)/], ['filesystem', /^logger_(path|rotate_|fsync)/]];
  for (const [plugin, re] of unused) {
    if (plugins.includes(plugin)) continue;
    if (plugin === 'tls' && v.config_plugin === 'tls') continue; // the enrollment and tls_* serve the config plugin
    const set = OPTION_NAMES.filter((n) => re.test(n) && explicit(sources, n));
    if (set.length > 0) warnings.push(`${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but logger_plugin does not include ${plugin} (ignored)`);
  }
}

/**
 * Files the daemon reads are readable, and trusted only as far as they are
 * safe: the config file and the BPF object decide what root loads into the
 * kernel, so another user must not be able to write them (or their
 * directory); a secret file must be this user's alone (0600/0400), or
 * anyone may read what the daemon sends with it. allow_insecure_secret_files
 * turns the secrets' refusal into a warning while a fleet migrates.
 */
function checkFiles(v: OptionValues, configFile: string | null, problems: string[], warnings: string[]): void {
  const uid = process.geteuid?.() ?? 0;
  const trust = (what: string, path: string): void => {
    const found = rootLoadsProblems(what, path, uid);
    if (found.length > 0) problems.push(`${found.join('; ')}: it decides what root loads; chown ${uid} and chmod go-w it`);
  };
  if (configFile !== null) trust('config file', configFile);
  trust('bpf_object_path', v.bpf_object_path);
  for (const { option: name, path, secret } of filesInUse(v)) {
    try {
      closeSync(openSync(path, 'r'));
      const unsafe = secret ? trustProblems(name, path, uid, true) : [];
      if (unsafe.length > 0) {
        const msg = `${unsafe.join('; ')}: a secret must be readable by uid ${uid} alone (chown ${uid} ${path}; chmod 600 ${path})`;
        if (v.allow_insecure_secret_files) warnings.push(`${msg} [allowed by allow_insecure_secret_files]`);
        else problems.push(`${msg}, or set allow_insecure_secret_files=true while migrating`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      problems.push(`${name}: cannot read ${path} (${code}): check the path and that the daemon may read it`);
    }
  }
}

/**
 * event_max_bytes in effect: with the kafka output, no more than one record
 * that fits logger_kafka_max_batch_bytes with its framing, so that no line
 * the daemon writes meets MESSAGE_TOO_LARGE (the reduced format needs at
 * least the option's minimum, 64 KiB).
 */
function maxEventBytes(option: number, kafka: KafkaSinkConfig | null): number {
  if (kafka === null) return option;
  return Math.max(64 * 1024, Math.min(option, maxRecordValueBytes(kafka.maxBatchBytes) + 1));
}

/** The logger_kafka_* values, as parseKafkaConfig() takes them. */
function kafkaValues(v: OptionValues): Record<string, unknown> {
  return Object.fromEntries(KAFKA_OPTION_NAMES.map((n) => [n, v[n]]));
}

function build(v: OptionValues, sources: Record<OptionName, ValueSource>, configFile: string | null,
  warnings: string[], loadOptions: LoadConfigOptions): AncestrydConfig {
  const types = v.event_types.filter((t) => t !== 'exec_failed' || v.exec_failed_events);
  const kafka = v.logger_plugin.includes('kafka') ? parseKafkaConfig(kafkaValues(v)) : null;
  const collector = {
    objectPath: v.bpf_object_path,
    chainDepth: v.process_ancestry_max_depth,
    argvMaxBytes: v.bpf_argv_max_bytes,
    wakeupBytes: v.bpf_wakeup_bytes,
    ringBytes: v.bpf_ring_buffer_size,
    execFailed: v.exec_failed_events,
    pinRoot: v.bpf_pin ? v.bpf_pin_path : null,
    waitTimeoutMs: v.bpf_drain_timeout_ms,
    batchRecords: v.bpf_drain_batch_records,
  };

  return {
    values: { ...v },
    sources: { ...sources },
    configFile,
    warnings,
    loadOptions,
    ancestry: {
      preset: v.process_ancestry_preset,
      cacheSize: v.process_ancestry_cache_size === 'auto' ? 4096 : v.process_ancestry_cache_size,
      cacheAuto: v.process_ancestry_cache_size === 'auto',
      cacheMaxBytes: v.process_ancestry_cache_max_bytes,
      maxDepth: v.process_ancestry_max_depth,
      cacheTtlMs: v.process_ancestry_cache_ttl * 1000,
    },
    collector,
    preflight: {
      objectPath: v.bpf_object_path, execFailed: v.exec_failed_events, mountTracefs: v.mount_tracefs,
      // What decides which pinned set the daemon takes over: the collector's settings.
      pin: collector.pinRoot === null ? null : { ...collector, root: collector.pinRoot },
    },
    events: {
      types,
      format: v.logger_format,
      ancestryDetail: v.process_ancestry_detail,
      ancestorFieldMaxBytes: v.process_ancestry_field_max_bytes,
      maxEventBytes: maxEventBytes(v.event_max_bytes, kafka),
      redactionPatterns: expandRedactionPatterns(v.cmdline_redaction_patterns),
      numerics: v.logger_numerics,
      osqueryNames: { exec: v.logger_event_name, exec_failed: v.logger_event_name },
      hostIdentifier: v.host_identifier,
      specifiedIdentifier: v.host_identifier === 'specified' ? v.specified_identifier : null,
    },
    outputs: {
      plugins: [...v.logger_plugin],
      file: {
        loggerPath: v.logger_path,
        rotateSizeBytes: v.logger_rotate_size,
        rotateMaxFiles: v.logger_rotate_max_files,
        fsync: v.logger_fsync as FsyncPolicy,
      },
      spool: { dir: v.spool_path, maxBytes: v.spool_max_bytes, dropPolicy: v.spool_drop_policy, fsync: v.spool_fsync as FsyncPolicy },
      kafka,
      tls: {
        tlsHostname: v.tls_hostname,
        enrollTlsEndpoint: v.enroll_tls_endpoint,
        loggerTlsEndpoint: v.logger_tls_endpoint,
        enrollSecretPath: v.enroll_secret_path,
        tlsServerCerts: v.tls_server_certs === '' ? null : v.tls_server_certs,
        tlsClientCert: v.tls_client_cert === '' ? null : v.tls_client_cert,
        tlsClientKey: v.tls_client_key === '' ? null : v.tls_client_key,
        loggerTlsCompress: v.logger_tls_compress,
        loggerTlsPeriodS: v.logger_tls_period,
        loggerTlsMaxLines: v.logger_tls_max_lines,
        requestTimeoutMs: v.tls_request_timeout_ms,
      },
    },
    remote: {
      enabled: v.config_plugin === 'tls',
      endpoint: v.config_tls_endpoint,
      refreshS: v.config_refresh,
    },
    daemon: {
      metricsAddress: v.metrics_address === '' ? null : parseHostPort(v.metrics_address),
      adminSocket: v.admin_socket === '' ? null : v.admin_socket,
      pidfile: v.pidfile === '' ? null : v.pidfile,
      recentEvents: v.admin_recent_events,
      logLevel: v.log_level,
      logFormat: v.log_format,
      shutdownTimeoutMs: v.shutdown_timeout_ms,
    },
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const value of Object.values(o as object)) {
      // The caller's env object is theirs: never freeze what loadOptions references.
      if (value === (o as { loadOptions?: unknown }).loadOptions) continue;
      deepFreeze(value);
    }
  }
  return o;
}

/** Every option with its value and where it came from, in schema order (for `ancestryd config` and the start-up log). */
export function effectiveOptions(config: AncestrydConfig): { name: OptionName; value: OptionValue; source: ValueSource }[] {
  return OPTION_NAMES.map((name) => ({ name, value: config.values[name], source: config.sources[name] }));
}
