/**
 * A range stated once: each numeric option of the file output, the spool and
 * the tls output takes its bounds from the sink's *_RANGES, and at both ends
 * (min, max, min-1, max+1) the schema and the sink agree on what is allowed.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAncestrydError } from '../../../src/errors';
import { ConfigInvalidError, loadConfig } from '../../../src/daemon/config/config';
import { optionSpec, type OptionName } from '../../../src/daemon/config/option-schema';
import { OptionValueError, type HostFacts } from '../../../src/daemon/config/option-types';
import { fileOptions, spoolOptions, tlsOutputOptions } from '../../../src/daemon/config/output-options';
import { FILE_SINK_RANGES, resolveFileSinkOptions } from '../../../src/sinks/file/config';
import { resolveSpoolOptions, SPOOL_RANGES } from '../../../src/sinks/spool/config';
import { checkTlsEndpoint, resolveTlsOptions, TLS_SINK_RANGES, type TlsSinkOptions } from '../../../src/sinks/tls/config';

const dir = mkdtempSync(join(tmpdir(), 'ancestryd-output-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const secret = join(dir, 'enroll-secret');
writeFileSync(secret, 'secret\n', { mode: 0o600 });

const HOST: HostFacts = { cwd: '/', writable: () => true };
const tls = { tlsHostname: 'fleet.example:8080', enrollSecretPath: secret, hostIdentifier: 'host-1' };

/** An option, the range its sink states, and the sink's own check of one value. */
interface RangeCase {
  readonly option: OptionName;
  readonly range: readonly [number, number];
  /** The lower bound is excluded (a period in seconds). */
  readonly minExclusive?: boolean;
  readonly sink: (value: number) => unknown;
}

const CASES: readonly RangeCase[] = [
  {
    option: 'logger_rotate_size', range: FILE_SINK_RANGES.rotateSizeBytes,
    sink: (v) => resolveFileSinkOptions({ loggerPath: dir, rotateSizeBytes: v }),
  },
  {
    option: 'logger_rotate_max_files', range: FILE_SINK_RANGES.rotateMaxFiles,
    sink: (v) => resolveFileSinkOptions({ loggerPath: dir, rotateMaxFiles: v }),
  },
  {
    option: 'spool_max_bytes', range: SPOOL_RANGES.maxBytes,
    sink: (v) => resolveSpoolOptions({ dir, maxBytes: v }),
  },
  {
    option: 'logger_tls_period', range: TLS_SINK_RANGES.loggerTlsPeriodS, minExclusive: true,
    sink: (v) => resolveTlsOptions({ ...tls, loggerTlsPeriodS: v }),
  },
  {
    option: 'logger_tls_max_lines', range: TLS_SINK_RANGES.loggerTlsMaxLines,
    sink: (v) => resolveTlsOptions({ ...tls, loggerTlsMaxLines: v }),
  },
  {
    option: 'tls_request_timeout_ms', range: TLS_SINK_RANGES.requestTimeoutMs,
    sink: (v) => resolveTlsOptions({ ...tls, requestTimeoutMs: v }),
  },
];

function schemaAccepts(option: OptionName, value: number): boolean {
  try {
    optionSpec(option).parse(value, { name: option, host: HOST });
    return true;
  } catch (err) {
    if (err instanceof OptionValueError) return false;
    throw err;
  }
}

function sinkAccepts(c: RangeCase, value: number): boolean {
  try {
    c.sink(value);
    return true;
  } catch (err) {
    if (isAncestrydError(err, 'ANC_CONFIG_INVALID') && err.message.startsWith(`${c.option}=${value} is out of range`)) return false;
    throw err;
  }
}

/** The values at both ends of a range and whether they are allowed; a step of 1, or 0.001 s past an excluded bound. */
function extremes(c: RangeCase): [number, boolean][] {
  const [min, max] = c.range;
  const step = c.minExclusive ? 0.001 : 1;
  return c.minExclusive
    ? [[min, false], [min + step, true], [max, true], [max + step, false]]
    : [[min - step, false], [min, true], [max, true], [max + step, false]];
}

describe('output option ranges: the sink states them, the schema and the sink enforce them alike', () => {
  for (const c of CASES) {
    it(`${c.option} ${c.minExclusive ? '(' : '['}${c.range[0]}, ${c.range[1]}]`, () => {
      for (const [value, allowed] of extremes(c)) {
        assert.equal(schemaAccepts(c.option, value), allowed, `schema, ${c.option}=${value}`);
        assert.equal(sinkAccepts(c, value), allowed, `sink, ${c.option}=${value}`);
      }
    });
  }

  it('covers every numeric option of the file output, the spool and the tls output', () => {
    const numeric = Object.entries({ ...fileOptions(), ...spoolOptions(), ...tlsOutputOptions() })
      .filter(([, spec]) => ['integer', 'bytes', 'number'].includes(spec.type))
      .map(([name]) => name);
    assert.deepEqual(numeric.sort(), CASES.map((c) => c.option).sort());
  });
});

/** The problems loadConfig reports for `flags` (none: it loaded). */
function loadProblems(flags: string[]): readonly string[] {
  try {
    loadConfig({ argv: ['--config=', ...flags], env: {}, host: HOST, checkFiles: false });
    return [];
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.problems;
    throw err;
  }
}

/** The message resolveTlsOptions throws for `o` (null: it accepted them). */
function sinkProblem(o: Partial<TlsSinkOptions>): string | null {
  try {
    resolveTlsOptions({ ...tls, ...o });
    return null;
  } catch (err) {
    if (isAncestrydError(err, 'ANC_CONFIG_INVALID')) return err.message;
    throw err;
  }
}

describe('tls output rules stated once, in the sink: loading the config and starting the sink agree (issue 11)', () => {
  it('tls_hostname: the port is 1..65535, refused at load as at start; IPv6 in brackets', () => {
    const cases: [string, boolean][] = [
      ['host:0', false], ['host:1', true], ['host:65535', true], ['host:65536', false], ['host:99999', false],
      ['[::1]:443', true], ['host', true], ['https://host', false],
    ];
    for (const [value, allowed] of cases) {
      const atStart = sinkProblem({ tlsHostname: value });
      assert.equal(atStart === null, allowed, `sink, tls_hostname=${value}: ${atStart}`);
      assert.deepEqual(loadProblems([`--tls_hostname=${value}`]), allowed ? [] : [`${atStart} (from --tls_hostname)`], `load, ${value}`);
    }
    assert.equal(sinkProblem({ tlsHostname: 'host:99999' }), 'tls_hostname port=99999 is out of range [1, 65535]');
  });

  it('the endpoints: a path starting with "/" and no spaces, "/a b" refused with one message', () => {
    const enroll = sinkProblem({ enrollTlsEndpoint: '/a b' });
    assert.equal(enroll, 'enroll_tls_endpoint: expected a path starting with "/", without spaces, got "/a b"');
    assert.deepEqual(loadProblems(['--enroll_tls_endpoint=/a b']), [`${enroll} (from --enroll_tls_endpoint)`]);
    const log = sinkProblem({ loggerTlsEndpoint: '/a b' });
    assert.deepEqual(loadProblems(['--logger_tls_endpoint=/a b']), [`${log} (from --logger_tls_endpoint)`]);
    // config_tls_endpoint is the same server's: remote-config.ts posts to it as the sink posts to the others.
    assert.throws(() => checkTlsEndpoint('config_tls_endpoint', '/a b'), (err: Error) => {
      assert.deepEqual(loadProblems(['--config_tls_endpoint=/a b']), [`${err.message} (from --config_tls_endpoint)`]);
      return true;
    });
    for (const bad of ['api/log', '', '/a\tb']) assert.notEqual(sinkProblem({ loggerTlsEndpoint: bad }), null, bad);
    assert.equal(sinkProblem({ loggerTlsEndpoint: '/api/v1/osquery/log?x=1' }), null);
  });

  it('tls_client_cert and tls_client_key: both or neither, one message', () => {
    const atStart = sinkProblem({ tlsClientCert: '/c.pem' });
    assert.equal(atStart, 'tls_client_cert and tls_client_key: set both (mutual TLS) or neither');
    assert.deepEqual(loadProblems(['--tls_client_key=/k.pem']), [atStart]);
  });
});
