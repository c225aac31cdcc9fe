import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PreflightCheck, PreflightOptions } from '../../../src/collector/preflight';
import { AncestrydError } from '../../../src/errors';
import { AdminRequestError } from '../../../src/daemon/admin/admin-protocol';
import { AdminHandlers, startAdminServer, type AdminServer } from '../../../src/daemon/admin/admin-socket';
import { runCli, type CliDeps } from '../../../src/daemon/cli/cli';
import type { AncestrydConfig } from '../../../src/daemon/config/config';
import { EXIT } from '../../../src/daemon/exit-codes';
import type { HostFacts } from '../../../src/daemon/config/option-types';
import { renderAncestry, renderTree } from '../../../src/daemon/cli/render';
import { ANCESTRY_FIXTURE, TREE_FIXTURE } from '../fixtures';

const dir = mkdtempSync(join(tmpdir(), 'ancestryd-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const host: HostFacts = { cwd: dir, writable: () => true };

interface Result { code: number; out: string; err: string; configs: AncestrydConfig[] }

async function cli(argv: string[], deps: Partial<CliDeps> = {}): Promise<Result> {
  const r: Result = { code: -1, out: '', err: '', configs: [] };
  r.code = await runCli(argv, {
    run: async (c) => { r.configs.push(c); },
    stdout: { write: (s: string) => { r.out += s; } },
    stderr: { write: (s: string) => { r.err += s; } },
    env: {},
    host,
    ...deps,
  });
  return r;
}

const OK_CHECKS: PreflightCheck[] = [{ name: 'privileges', ok: true, detail: 'uid 0' }, { name: 'tracefs', ok: true, detail: '/sys/kernel/tracing' }];

describe('ancestryd run / config / check', () => {
  it('run: validates the configuration, then calls the injected daemon with it', async () => {
    const r = await cli(['run', '--config=', '--process_ancestry_preset', 'large', '--log_level=debug']);
    assert.equal(r.code, EXIT.OK);
    assert.equal(r.configs.length, 1);
    assert.equal(r.configs[0].values.process_ancestry_cache_size, 5000);
    assert.equal(r.configs[0].daemon.logLevel, 'debug');
  });

  it('run: an invalid configuration starts nothing and exits 2, listing every problem', async () => {
    const r = await cli(['run', '--config=', '--process_ancestry_max_depth=200', '--logger_plugin=kafka']);
    assert.equal(r.code, EXIT.USAGE);
    assert.equal(r.configs.length, 0);
    assert.equal(r.err, [
      'ancestryd: invalid configuration (2 problems); nothing was started:',
      'process_ancestry_max_depth=200 is out of range [1, 64] (from --process_ancestry_max_depth)',
      'logger_kafka_brokers: required when the Kafka sink is enabled, e.g. "kafka1:9092,kafka2:9092"',
      '',
    ].join('\n'));
  });

  it('run: the daemon\'s error decides the exit code', async () => {
    const fail = (code: 'ANC_ALREADY_RUNNING' | 'ANC_PREFLIGHT' | 'ANC_BPF_LOAD') => cli(['run', '--config='], {
      run: async () => { throw new AncestrydError(code, `stopped: ${code}`); },
    });
    assert.equal((await fail('ANC_ALREADY_RUNNING')).code, EXIT.ALREADY_RUNNING);
    assert.equal((await fail('ANC_PREFLIGHT')).code, EXIT.PREFLIGHT_FAILED);
    const r = await fail('ANC_BPF_LOAD');
    assert.equal(r.code, EXIT.FAILURE);
    assert.equal(r.err, 'ancestryd: stopped: ANC_BPF_LOAD\n');
  });

  it('run --help lists every option from the schema', async () => {
    const r = await cli(['run', '--help']);
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, /--process_ancestry_max_depth {2}an integer in \[1, 64\]; default 32/);
    assert.match(r.out, /--logger_kafka_brokers {2}a string; default ""/, 'options the Kafka sink describes itself are listed too');
  });

  it('config: prints the effective options with their source, or JSON', async () => {
    const p = join(dir, 'a.conf');
    writeFileSync(p, JSON.stringify({ options: { process_ancestry_preset: 'small', log_level: 'warn' } }));
    const r = await cli(['config', `--config=${p}`, '--process_ancestry_cache_ttl=60']);
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, new RegExp(`^config file: ${p}\n`));
    assert.match(r.out, /^process_ancestry_cache_size +preset +500$/m);
    assert.match(r.out, /^process_ancestry_cache_ttl +flag +60$/m);
    assert.match(r.out, /^log_level +file +warn$/m);
    assert.match(r.out, /^specified_identifier +default +""$/m);
    const j = await cli(['config', `--config=${p}`, '--json']);
    const parsed = JSON.parse(j.out);
    assert.equal(parsed.config_file, p);
    assert.deepEqual(parsed.options.find((o: { name: string }) => o.name === 'log_level'), { name: 'log_level', value: 'warn', source: 'file' });
  });

  it('check: runs the preflight locally and exits 4 when a check fails', async () => {
    let seen: PreflightOptions | null = null;
    const ok = await cli(['check', '--config=', '--exec_failed_events=false'], { preflight: (o) => { seen = o; return OK_CHECKS; } });
    assert.equal(ok.code, EXIT.OK);
    const opts = seen as PreflightOptions | null;
    assert.match(opts!.objectPath, /\/build\/exec_trace\.bpf\.o$/);
    assert.deepEqual([opts!.execFailed, opts!.mountTracefs], [false, true]);
    assert.match(ok.out, /^✓ privileges  uid 0\n✓ tracefs     \/sys\/kernel\/tracing\nall checks passed\n$/);
    const bad: PreflightCheck[] = [...OK_CHECKS.slice(0, 1), { name: 'tracefs', ok: false, detail: 'not mounted', fix: 'mount it' }];
    const r = await cli(['check', '--config=', '--json'], { preflight: () => bad });
    assert.equal(r.code, EXIT.PREFLIGHT_FAILED);
    assert.deepEqual(JSON.parse(r.out), { ok: false, checks: bad });
  });
});

describe('ancestryd client commands', () => {
  let server: AdminServer;
  const socket = join(dir, 'run', 'admin.sock');
  const calls: unknown[] = [];
  before(async () => {
    const handlers = new AdminHandlers()
      .register('ancestry', ({ pid }) => {
        calls.push(['ancestry', pid]);
        if (pid !== 4242) throw new AdminRequestError('not_found', `pid ${pid} is not in the process table`);
        return ANCESTRY_FIXTURE;
      })
      .register('tree', (p) => { calls.push(['tree', p]); return TREE_FIXTURE; })
      .register('stats', () => ({ cache_hits: 10, cache_misses: 2, cache_size: 7 }))
      .register('events', (p) => { calls.push(['events', p]); return [{ pid: 4242, n: 1 }, { pid: 4242, n: 2 }]; });
    server = await startAdminServer({ path: socket, handlers });
  });
  after(async () => { await server.close(); });

  it('ancestry <pid> renders the lineage, --json prints the response', async () => {
    const r = await cli(['ancestry', '4242', '--admin_socket', socket]);
    assert.equal(r.code, EXIT.OK);
    assert.equal(r.out, renderAncestry(ANCESTRY_FIXTURE));
    const j = await cli(['ancestry', '4242', '--json', `--admin_socket=${socket}`]);
    assert.deepEqual(JSON.parse(j.out), ANCESTRY_FIXTURE);
  });

  it('ancestry of an unknown pid exits 1 with the daemon\'s message', async () => {
    const r = await cli(['ancestry', '77', '--admin_socket', socket]);
    assert.equal(r.code, EXIT.FAILURE);
    assert.equal(r.err, 'ancestryd: pid 77 is not in the process table\n');
  });

  it('tree, stats and events', async () => {
    assert.equal((await cli(['tree', '--admin_socket', socket])).out, renderTree(TREE_FIXTURE));
    await cli(['tree', '500', '--admin_socket', socket]);
    assert.deepEqual(calls.filter((c) => (c as string[])[0] === 'tree'), [['tree', {}], ['tree', { pid: 500 }]]);
    assert.equal((await cli(['stats', '--admin_socket', socket])).out, 'cache_hits:   10\ncache_misses: 2\ncache_size:   7\n');
    assert.deepEqual(JSON.parse((await cli(['stats', '--json', '--admin_socket', socket])).out), { cache_hits: 10, cache_misses: 2, cache_size: 7 });
    const ev = await cli(['events', '--pid', '4242', '--limit', '2', '--admin_socket', socket]);
    assert.equal(ev.out, '{"pid":4242,"n":1}\n{"pid":4242,"n":2}\n');
    assert.deepEqual(calls.at(-1), ['events', { pid: 4242, limit: 2 }]);
  });

  it('finds the socket through ANCESTRYD_ADMIN_SOCKET or the config file', async () => {
    assert.equal((await cli(['stats'], { env: { ANCESTRYD_ADMIN_SOCKET: socket } })).code, EXIT.OK);
    const p = join(dir, 'with-socket.conf');
    writeFileSync(p, JSON.stringify({ options: { admin_socket: socket } }));
    assert.equal((await cli(['stats', '--config', p])).code, EXIT.OK);
  });

  it('says the daemon is not running and exits 5', async () => {
    const missing = join(dir, 'none.sock');
    const r = await cli(['stats', '--admin_socket', missing]);
    assert.equal(r.code, EXIT.UNREACHABLE);
    assert.equal(r.err, `ancestryd: cannot reach ancestryd at ${missing}: is the daemon running? (ENOENT)\n`);
  });

  it('rejects bad arguments and unknown commands with exit 2', async () => {
    const r = await cli(['ancestry', 'abc']);
    assert.equal(r.code, EXIT.USAGE);
    assert.match(r.err, /pid: expected an integer in \[1, 4194304\], got "abc"/);
    assert.equal((await cli(['frobnicate'])).code, EXIT.USAGE);
    assert.equal((await cli(['events', '--limit', '0'])).code, EXIT.USAGE);
    assert.equal((await cli(['--version'])).code, EXIT.OK);
    assert.equal((await cli([])).code, EXIT.USAGE, 'no subcommand: help on stderr, usage error');
  });
});
