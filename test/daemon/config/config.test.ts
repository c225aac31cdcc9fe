import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CollectorOptions } from '../../../src/collector';
import type { PreflightOptions } from '../../../src/collector/preflight';
import { isAncestrydError } from '../../../src/errors';
import { DEFAULT_REDACTION_PATTERNS } from '../../../src/ancestry/argv-redaction';
import { ConfigInvalidError, loadConfig, type AncestrydConfig, type LoadConfigOptions } from '../../../src/daemon/config/config';
import { parseFlags } from '../../../src/daemon/config/config-sources';
import { OPTION_NAMES, envName } from '../../../src/daemon/config/option-schema';
import type { HostFacts } from '../../../src/daemon/config/option-types';
import { PRESETS } from '../../../src/daemon/config/presets';
import type { FileSinkOptions } from '../../../src/sinks/file/config';
import type { TlsSinkOptions } from '../../../src/sinks/tls/config';

const dir = mkdtempSync(join(tmpdir(), 'ancestryd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A host where everything is writable, so defaults are the system paths. */
const ROOT_HOST: HostFacts = { cwd: '/srv', writable: () => true };
const USER_HOST: HostFacts = { cwd: '/home/dev/ancestryd', writable: () => false };

let n = 0;
function file(content: unknown): string {
  const p = join(dir, `c${n++}.conf`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function load(argv: string[] = [], env: NodeJS.ProcessEnv = {}, extra: Partial<LoadConfigOptions> = {}): AncestrydConfig {
  return loadConfig({ argv: ['--config=', ...argv], env, host: ROOT_HOST, ...extra });
}

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAncestrydError(err, 'ANC_CONFIG_INVALID'), `expected ANC_CONFIG_INVALID, got ${String(err)}`);
    assert.ok(err instanceof ConfigInvalidError);
    // The message lists every problem, one per line, after one header line.
    assert.deepEqual(err.message.split('\n').slice(1), [...err.problems]);
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('loadConfig: defaults', () => {
  it('runs out of the box with no options: filesystem output, system paths when writable', () => {
    const c = load();
    assert.deepEqual(c.outputs.plugins, ['filesystem']);
    assert.equal(c.values.logger_path, '/var/log/ancestryd');
    assert.equal(c.values.spool_path, '/var/lib/ancestryd/spool');
    assert.equal(c.daemon.adminSocket, '/run/ancestryd/admin.sock');
    assert.equal(c.daemon.pidfile, '/run/ancestryd/ancestryd.pid');
    assert.deepEqual(c.daemon.metricsAddress, { host: '127.0.0.1', port: 9393 });
    assert.equal(c.values.bpf_ring_buffer_size, 16 * 1024 * 1024);
    assert.equal(c.values.bpf_argv_max_bytes, 4096);
    assert.equal(c.values.logger_event_name, 'process_events');
    assert.deepEqual(c.events.types, ['exec', 'exec_failed']);
    assert.equal(c.configFile, null);
    assert.ok(OPTION_NAMES.every((o) => c.sources[o] === 'default'));
  });

  it('falls back to ./var under the working directory when the system paths cannot be written (not root)', () => {
    const c = load([], {}, { host: USER_HOST });
    assert.equal(c.values.logger_path, '/home/dev/ancestryd/var/log/ancestryd');
    assert.equal(c.values.spool_path, '/home/dev/ancestryd/var/lib/ancestryd/spool');
    assert.equal(c.values.admin_socket, '/home/dev/ancestryd/var/run/ancestryd/admin.sock');
    assert.equal(c.values.pidfile, '/home/dev/ancestryd/var/run/ancestryd/ancestryd.pid');
  });

  it('resolves the BPF object inside the package', () => {
    assert.match(load().collector.objectPath, /\/build\/exec_trace\.bpf\.o$/);
  });

  it('shapes its groups for the components (the compiler checks the types)', () => {
    const c = load(['--logger_plugin=tls', '--tls_hostname=fleet:8443', `--enroll_secret_path=${file('s3cr3t-value')}`], {}, { checkFiles: false });
    const collector: Omit<CollectorOptions, 'selfTgid'> = c.collector;
    const preflight: PreflightOptions = c.preflight;
    const fileSink: FileSinkOptions = c.outputs.file;
    const tls: Omit<TlsSinkOptions, 'hostIdentifier'> = c.outputs.tls;
    assert.equal(collector.chainDepth, 32);
    assert.equal(collector.ringBytes, 16 * 1024 * 1024);
    assert.equal(preflight.execFailed, true);
    assert.equal(fileSink.loggerPath, '/var/log/ancestryd');
    assert.equal(tls.tlsHostname, 'fleet:8443');
    assert.equal(tls.tlsServerCerts, null);
    assert.equal(c.ancestry.cacheTtlMs, 300_000);
  });

  it('is frozen', () => {
    const c = load();
    assert.throws(() => { (c.values as { log_level: string }).log_level = 'debug'; }, TypeError);
    assert.throws(() => { (c.outputs.plugins as string[]).push('kafka'); }, TypeError);
  });
});

describe('loadConfig: sources and precedence', () => {
  it('reads an osquery.conf-style file with string values', () => {
    const p = file({ options: {
      process_ancestry_cache_size: '1200', logger_tls_compress: 'true', exec_failed_events: 'false', log_level: 'debug',
      logger_plugin: 'kafka', logger_kafka_brokers: 'k1:9092,k2:9092', logger_kafka_topic: 'pe', logger_kafka_acks: 1,
    } });
    const c = load([`--config=${p}`]);
    assert.equal(c.configFile, p);
    assert.equal(c.values.process_ancestry_cache_size, 1200);
    assert.equal(c.values.logger_tls_compress, true);
    assert.equal(c.values.exec_failed_events, false);
    assert.deepEqual([c.outputs.kafka?.acks, c.outputs.kafka?.brokers], [1, ['k1:9092', 'k2:9092']], 'the Kafka sink\'s own parser built its config');
    assert.equal(c.sources.process_ancestry_cache_size, 'file');
    assert.deepEqual(c.events.types, ['exec'], 'no exec_failed events when the kernel side is off');
  });

  it('reads a flat file with JSON types', () => {
    const c = load([`--config=${file({ process_ancestry_max_depth: 24, logger_plugin: ['filesystem', 'stdout'], logger_tls_period: 2.5 })}`]);
    assert.equal(c.values.process_ancestry_max_depth, 24);
    assert.deepEqual(c.outputs.plugins, ['filesystem', 'stdout']);
    assert.equal(c.values.logger_tls_period, 2.5);
  });

  it('layers file < environment < flags', () => {
    const p = file({ options: { process_ancestry_cache_ttl: '100', log_level: 'warn', logger_numerics: 'true' } });
    const c = load([`--config=${p}`, '--process_ancestry_cache_ttl', '300'], {
      [envName('process_ancestry_cache_ttl')]: '200', [envName('log_level')]: 'error',
    });
    assert.equal(c.values.process_ancestry_cache_ttl, 300);
    assert.equal(c.sources.process_ancestry_cache_ttl, 'flag');
    assert.equal(c.values.log_level, 'error');
    assert.equal(c.sources.log_level, 'env');
    assert.equal(c.values.logger_numerics, true);
    assert.equal(c.sources.logger_numerics, 'file');
  });

  it('takes --name=value, --name value, --flag and --flag false', () => {
    const c = load(['--log_level=debug', '--logger_event_name', 'pe', '--logger_numerics', '--exec_failed_events', 'false', '--mount_tracefs=no']);
    assert.equal(c.values.log_level, 'debug');
    assert.equal(c.values.logger_event_name, 'pe');
    assert.equal(c.values.logger_numerics, true);
    assert.equal(c.values.exec_failed_events, false);
    assert.equal(c.values.mount_tracefs, false);
  });

  it('finds the file through --config, ANCESTRYD_CONFIG, or the default; --config "" reads none', () => {
    const p = file({ options: { log_level: 'warn' } });
    assert.equal(loadConfig({ argv: ['--config', p], env: {}, host: ROOT_HOST }).values.log_level, 'warn');
    assert.equal(loadConfig({ argv: [], env: { ANCESTRYD_CONFIG: p }, host: ROOT_HOST }).values.log_level, 'warn');
    assert.equal(loadConfig({ argv: ['--config='], env: { ANCESTRYD_CONFIG: p }, host: ROOT_HOST }).configFile, null);
  });

  it('accepts a missing default file and rejects a missing explicit one', () => {
    const missing = join(dir, 'nope.conf');
    assert.deepEqual(problems(() => loadConfig({ argv: [`--config=${missing}`], env: {}, host: ROOT_HOST })),
      [`config file ${missing}: cannot read it (ENOENT): check the path given with --config or ANCESTRYD_CONFIG`]);
    // The default path may exist on a developer machine; only assert that a missing default is not an error.
    const c = loadConfig({ argv: [], env: {}, host: ROOT_HOST, checkFiles: false });
    assert.ok(c.configFile === null || c.configFile === '/etc/ancestryd/ancestryd.conf');
  });

  it('warns about ANCESTRYD_* variables that name no option, and ignores other variables', () => {
    const c = load([], { ANCESTRYD_KAFKA_BOOTSTRAP: 'x:1', ANCESTRYD_LOG_LEVL: 'debug', PATH: '/bin' });
    assert.deepEqual(c.warnings, [
      'ANCESTRYD_KAFKA_BOOTSTRAP is set but names no ancestryd option (ignored)',
      'ANCESTRYD_LOG_LEVL is set but names no ancestryd option (ignored); did you mean log_level?',
    ]);
  });

  it('parses flags without judging their values', () => {
    const f = parseFlags(['--log_level', '--config', '/x', '--bogus', 'v', 'stray']);
    assert.deepEqual(f.problems, [
      '--log_level: expected a value (--log_level=VALUE)',
      '--bogus: unknown option',
      'unexpected argument "stray": options are given as --name=value',
    ]);
    assert.equal(f.configPath, '/x');
  });
});

describe('loadConfig: validation', () => {
  it('names the option and what is allowed (STYLE §5 wording)', () => {
    assert.deepEqual(problems(() => load(['--process_ancestry_max_depth=200'])),
      ['process_ancestry_max_depth=200 is out of range [1, 64] (from --process_ancestry_max_depth)']);
    assert.deepEqual(problems(() => load(['--logger_plugin=kafka', '--logger_kafka_brokers=kafka'])),
      ['logger_kafka_brokers: expected "host:port,...", got "kafka" (from --logger_kafka_brokers)']);
  });

  it('is strict with the strings osquery configs carry', () => {
    const p = file({ options: { process_ancestry_cache_size: '12abc', exec_failed_events: 'yes please', logger_tls_period: '0' } });
    assert.deepEqual(problems(() => load([`--config=${p}`])), [
      `process_ancestry_cache_size: expected an integer in [16, 10000000] entries, or "auto", got "12abc" (in ${p})`,
      `exec_failed_events: expected true or false (also 1/0, yes/no, on/off), got "yes please" (in ${p})`,
      `logger_tls_period=0 is out of range (0, 3600] seconds (in ${p})`,
    ]);
  });

  it('collects every problem of every source into one error', () => {
    const p = file({ options: { proces_ancestry_cache_ttl: '3', utc: 'true', log_numerics_as_numbers: 'true', log_format: 'xml' }, schedule: {} });
    const list = problems(() => load([`--config=${p}`, '--bpf_ring_buffer_size=3M', '--event_types=fork', '--metrics_adress=:1'],
      { [envName('log_level')]: 'loud' }));
    assert.deepEqual(list, [
      `config file ${p}: unknown top-level key "schedule": ancestryd reads only "options" (remove it)`,
      `proces_ancestry_cache_ttl: unknown option (in ${p}); did you mean process_ancestry_cache_ttl?`,
      `utc: unknown option (in ${p}); it is an osquery option ancestryd does not use: remove it`,
      `log_numerics_as_numbers: unknown option (in ${p}); ancestryd calls it logger_numerics`,
      '--metrics_adress: unknown option; did you mean metrics_address?',
      'bpf_ring_buffer_size=3145728 is not a power of two (e.g. 2 MiB or 4 MiB) (from --bpf_ring_buffer_size)',
      'event_types: must include exec, got "fork" (from --event_types)',
      'log_level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud" (from ANCESTRYD_LOG_LEVEL)',
      `log_format: expected one of auto, json, pretty, got "xml" (in ${p})`,
    ]);
  });

  it('rejects a file that is not JSON or not an object', () => {
    const p = file('{"options": {');
    const [msg] = problems(() => load([`--config=${p}`]));
    assert.match(msg, new RegExp(`^config file ${p}: not valid JSON \\(`));
    const q = file([1, 2]);
    assert.deepEqual(problems(() => load([`--config=${q}`])), [`config file ${q}: expected a JSON object ({"options": {...}} or {"name": value, ...})`]);
  });

  it('checks options that need each other', () => {
    assert.deepEqual(problems(() => load(['--logger_plugin=kafka,tls'])), [
      'logger_kafka_brokers: required when the Kafka sink is enabled, e.g. "kafka1:9092,kafka2:9092"',
      'tls_hostname: required when logger_plugin includes tls (expected "host" or "host:port")',
      'enroll_secret_path: required when logger_plugin includes tls (a file holding the enroll secret)',
    ]);
    assert.deepEqual(problems(() => load(['--tls_client_cert=/c.pem', '--host_identifier=specified', '--bpf_wakeup_bytes=16M'])), [
      'tls_client_cert and tls_client_key: set both (mutual TLS) or neither',
      'specified_identifier: required when host_identifier=specified',
      'bpf_wakeup_bytes=16777216 must be smaller than bpf_ring_buffer_size=16777216',
    ]);
    const kafka = ['--logger_plugin=kafka', '--logger_kafka_brokers=k:9092', '--logger_kafka_topic=t'];
    assert.deepEqual(problems(() => load([...kafka, '--exec_failed_events=false', '--event_types=exec,exec_failed', '--logger_kafka_sasl_username=u'])), [
      'logger_kafka_sasl_username/logger_kafka_sasl_password_file are set but logger_kafka_sasl_mechanism is "none": choose a mechanism (plain, scram-sha-256, scram-sha-512) or clear them',
      'event_types includes exec_failed but exec_failed_events=false: remove exec_failed from event_types or set exec_failed_events=true',
    ]);
  });

  it('does not report a cross-option problem for an option whose own value was bad', () => {
    assert.deepEqual(problems(() => load(['--logger_plugin=kafka', '--logger_kafka_brokers=nope'])),
      ['logger_kafka_brokers: expected "host:port,...", got "nope" (from --logger_kafka_brokers)']);
  });

  it('checks that the files the enabled outputs need are readable, and refuses a secret others may read (issue 10 item 6)', () => {
    const secret = file('an-enroll-secret');
    chmodSync(secret, 0o644);
    const missing = join(dir, 'no-such-secret');
    assert.deepEqual(problems(() => load(['--logger_plugin=tls', '--tls_hostname=fleet', `--enroll_secret_path=${missing}`])),
      [`enroll_secret_path: cannot read ${missing} (ENOENT): check the path and that the daemon may read it`]);
    const tls = ['--logger_plugin=tls', '--tls_hostname=fleet', `--enroll_secret_path=${secret}`];
    const uid = process.geteuid!();
    const msg = `enroll_secret_path ${secret} has mode 0644: group or others may read it: a secret must be readable by uid ${uid} alone `
      + `(chown ${uid} ${secret}; chmod 600 ${secret})`;
    assert.deepEqual(problems(() => load(tls)), [`${msg}, or set allow_insecure_secret_files=true while migrating`]);
    assert.deepEqual(load([...tls, '--allow_insecure_secret_files=true']).warnings, [`${msg} [allowed by allow_insecure_secret_files]`]);
    chmodSync(secret, 0o400);
    assert.deepEqual(load(tls).warnings, []);
    chmodSync(secret, 0o600);
    assert.deepEqual(load(tls).warnings, []);
    if (uid === 0) {
      chownSync(secret, 65534, 65534);
      assert.match(problems(() => load(tls))[0], new RegExp(`^enroll_secret_path ${secret} is owned by uid 65534, not 0`));
    }
  });

  it('refuses a config file or BPF object another user may write, or whose directory they may write (issue 10 item 6)', () => {
    const d = mkdtempSync(join(dir, 'trust-'));
    const obj = join(d, 'exec_trace.bpf.o');
    writeFileSync(obj, 'not really ELF');
    chmodSync(d, 0o755);
    assert.deepEqual(load([`--bpf_object_path=${obj}`]).warnings, []);
    chmodSync(obj, 0o666);
    assert.match(problems(() => load([`--bpf_object_path=${obj}`]))[0], /^bpf_object_path .* has mode 0666: group or others may write it: it decides what root loads/);
    chmodSync(obj, 0o644);
    chmodSync(d, 0o777);
    assert.match(problems(() => load([`--bpf_object_path=${obj}`]))[0], /^bpf_object_path's directory .* may be written by another user/);
    chmodSync(d, 0o1777); // sticky and ours, like /tmp: others cannot replace the file
    assert.deepEqual(load([`--bpf_object_path=${obj}`]).warnings, []);
    chmodSync(d, 0o755);
    const conf = join(d, 'ancestryd.conf');
    writeFileSync(conf, '{}');
    chmodSync(conf, 0o664);
    assert.match(problems(() => loadConfig({ argv: [`--config=${conf}`], env: {}, host: ROOT_HOST }))[0],
      /^config file .* has mode 0664: group or others may write it/);
  });

  it('warns about options of outputs that are not enabled', () => {
    const c = load(['--logger_kafka_topic=t', '--tls_hostname=fleet']);
    assert.deepEqual(c.warnings, [
      'logger_kafka_topic is set but logger_plugin does not include kafka (ignored)',
      'tls_hostname is set but logger_plugin does not include tls (ignored)',
    ]);
  });

  it('accepts sizes with units and resolves relative paths against the working directory', () => {
    const c = load(['--bpf_ring_buffer_size=64M', '--spool_max_bytes=1g', '--logger_path=logs', '--metrics_address=']);
    assert.equal(c.values.bpf_ring_buffer_size, 64 * 1024 * 1024);
    assert.equal(c.values.spool_max_bytes, 1024 ** 3);
    assert.equal(c.values.logger_path, '/srv/logs');
    assert.equal(c.daemon.metricsAddress, null);
  });

  it('rejects an admin socket path longer than a UNIX socket address holds', () => {
    const long = '/run/' + 'x'.repeat(120) + '.sock';
    assert.match(problems(() => load([`--admin_socket=${long}`]))[0], /^admin_socket: \/run\/x+\.sock is 130 bytes long; a UNIX socket path holds at most 107/);
  });
});

describe('loadConfig: presets', () => {
  it('fills the three sizing options', () => {
    for (const [name, values] of Object.entries(PRESETS)) {
      const c = load([`--process_ancestry_preset=${name}`]);
      assert.equal(c.values.process_ancestry_cache_size, values.process_ancestry_cache_size);
      assert.equal(c.values.process_ancestry_max_depth, values.process_ancestry_max_depth);
      assert.equal(c.values.process_ancestry_cache_ttl, values.process_ancestry_cache_ttl);
      assert.equal(c.sources.process_ancestry_cache_size, 'preset');
      assert.equal(c.collector.chainDepth, values.process_ancestry_max_depth);
    }
  });

  it('lets an explicit option win wherever each was set', () => {
    const p = file({ options: { process_ancestry_cache_size: '3000' } });
    const c = load([`--config=${p}`, '--process_ancestry_preset=enterprise'], { [envName('process_ancestry_cache_ttl')]: '45' });
    assert.equal(c.values.process_ancestry_cache_size, 3000);
    assert.equal(c.sources.process_ancestry_cache_size, 'file');
    assert.equal(c.values.process_ancestry_cache_ttl, 45);
    assert.equal(c.values.process_ancestry_max_depth, 32);
    assert.equal(c.sources.process_ancestry_max_depth, 'preset');
  });
});

describe('cmdline_redaction_patterns, event_max_bytes, process_ancestry_field_max_bytes', () => {
  it('defaults to the built-in set; "[]" or "" turn it off; a JSON array or one pattern from a flag; a file\'s array', () => {
    assert.deepEqual(load().events.redactionPatterns, DEFAULT_REDACTION_PATTERNS);
    assert.deepEqual(load(['--cmdline_redaction_patterns=[]']).events.redactionPatterns, []);
    assert.deepEqual(load(['--cmdline_redaction_patterns=']).events.redactionPatterns, []);
    assert.deepEqual(load(['--cmdline_redaction_patterns=["default", "a,(b)"]']).events.redactionPatterns, [...DEFAULT_REDACTION_PATTERNS, 'a,(b)']);
    assert.deepEqual(load(['--cmdline_redaction_patterns=--vault-pass\\s+(\\S+)']).events.redactionPatterns, ['--vault-pass\\s+(\\S+)']);
    const p = file({ options: { cmdline_redaction_patterns: ['x(y)'] } });
    assert.deepEqual(loadConfig({ argv: [`--config=${p}`], env: {}, host: ROOT_HOST }).events.redactionPatterns, ['x(y)']);
  });

  it('refuses an invalid regular expression, naming it, and more than 64 patterns', () => {
    const bad = problems(() => load(['--cmdline_redaction_patterns=["ok", "(unclosed"]']));
    assert.equal(bad.length, 1);
    assert.match(bad[0], /^cmdline_redaction_patterns: "\(unclosed" is not a valid regular expression/);
    assert.match(problems(() => load([`--cmdline_redaction_patterns=${JSON.stringify(Array.from({ length: 65 }, (_, i) => `p${i}`))}`]))[0],
      /65 patterns, at most 64/);
    assert.equal(load([`--cmdline_redaction_patterns=${JSON.stringify(Array.from({ length: 64 }, (_, i) => `p${i}`))}`]).events.redactionPatterns.length, 64);
    assert.match(problems(() => load(['--cmdline_redaction_patterns=[1]']))[0], /expected a JSON array of regular expressions/);
  });

  it('event_max_bytes and process_ancestry_field_max_bytes take their extremes and refuse beyond them', () => {
    assert.equal(load(['--event_max_bytes=64KiB']).events.maxEventBytes, 65536);
    assert.equal(load(['--event_max_bytes=64MiB']).events.maxEventBytes, 64 * 1024 * 1024);
    assert.equal(problems(() => load(['--event_max_bytes=65535'])).length, 1);
    assert.equal(load(['--process_ancestry_field_max_bytes=64']).events.ancestorFieldMaxBytes, 64);
    assert.equal(load(['--process_ancestry_field_max_bytes=32768']).events.ancestorFieldMaxBytes, 32768);
    assert.equal(problems(() => load(['--process_ancestry_field_max_bytes=32769'])).length, 1);
    assert.equal(problems(() => load(['--process_ancestry_field_max_bytes=63'])).length, 1);
  });
});

describe('process_ancestry_cache_size=auto and its budget', () => {
  it('takes "auto" (starting at 4096), the budget over its range, and the preset\'s budget', () => {
    const c = load(['--process_ancestry_cache_size=auto']);
    assert.deepEqual([c.ancestry.cacheAuto, c.ancestry.cacheSize, c.ancestry.cacheMaxBytes], [true, 4096, 32 * 1024 * 1024]);
    assert.equal(load(['--process_ancestry_cache_size=16']).ancestry.cacheAuto, false);
    assert.equal(load(['--process_ancestry_cache_max_bytes=1MiB']).ancestry.cacheMaxBytes, 1024 * 1024);
    assert.equal(load(['--process_ancestry_cache_max_bytes=16GiB']).ancestry.cacheMaxBytes, 16 * 1024 ** 3);
    assert.equal(problems(() => load(['--process_ancestry_cache_max_bytes=1048575'])).length, 1);
    assert.equal(load(['--process_ancestry_preset=small']).ancestry.cacheMaxBytes, 4 * 1024 * 1024);
    assert.match(problems(() => load(['--process_ancestry_cache_size=automatic']))[0], /or "auto"/);
  });
});

describe('event_max_bytes with the kafka output', () => {
  it('is at most one record of logger_kafka_max_batch_bytes with its framing, and never below 64 KiB', () => {
    const kafka = ['--logger_plugin=kafka', '--logger_kafka_brokers=k:9092', '--logger_kafka_topic=t'];
    assert.equal(load(kafka).events.maxEventBytes, 1_000_000 - 61 - 20 - 256 + 1);
    assert.equal(load([...kafka, '--event_max_bytes=65536']).events.maxEventBytes, 65536);
    assert.equal(load([...kafka, '--logger_kafka_max_batch_bytes=1024']).events.maxEventBytes, 65536);
    assert.equal(load().events.maxEventBytes, 1024 * 1024);
  });
});
