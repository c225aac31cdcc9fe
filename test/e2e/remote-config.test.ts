/**
 * config_plugin=tls (issue 12 part 1) against the project's Fleet-like HTTPS
 * server (test/sinks/tls/fake-fleet.ts, a real HTTPS server with its own
 * CA): options fetched at start apply before the collector starts; later
 * ones apply live where they can and are reported as pending where a
 * restart is needed; a reply with a bad value changes nothing and is
 * counted; node_invalid re-enrolls; 5xx windows are retried; a gzip'd reply
 * is read; local-only options are refused; `ancestryd config --running`
 * shows what came from the server.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';
import { removeDir, tempDir } from '../sinks/sink-test-helpers';
import { FakeFleet } from '../sinks/tls/fake-fleet';
import { makeTestCerts, type TestCerts } from '../sinks/tls/test-certs';

const SECRET = 'remote-config-secret-0123';
let dir: string;
let certs: TestCerts;
let fleet: FakeFleet;

before(async () => {
  dir = tempDir('remote-config');
  certs = makeTestCerts(dir);
  writeFileSync(join(dir, 'secret'), SECRET, { mode: 0o600 });
  fleet = new FakeFleet({ certs, enrollSecret: SECRET });
  await fleet.start();
});

after(async () => {
  await fleet.stop();
  removeDir(dir);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Running { options: { name: string; value: unknown; source: string }[]; pending: string[] }

function running(d: DaemonHarness): Running {
  const r = d.cli(['config', '--running', '--json', '--config=']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Running;
}

function option(r: Running, name: string): { value: unknown; source: string } {
  const o = r.options.find((x) => x.name === name);
  assert.ok(o, name);
  return { value: o.value, source: o.source };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('config_plugin=tls, against a Fleet-like HTTPS server', () => {
  it('applies the server\'s options at start, live, or as pending; refuses bad ones whole; re-enrolls; rides out 5xx; reads gzip', async () => {
    fleet.config = {
      options: {
        log_numerics_as_numbers: true, // osquery's name for logger_numerics: needs a restart, so it must apply at start
        process_ancestry_cache_ttl: 77,
        distributed_interval: 10, // an osquery option Fleet sends: not ours, ignored
        bpf_object_path: '/tmp/evil.bpf.o', // local only: refused
      },
      decorators: { load: ['SELECT uuid AS host_uuid FROM system_info;'] },
    };
    const d = await DaemonHarness.create([
      '--config_plugin=tls', `--tls_hostname=127.0.0.1:${fleet.port}`, `--enroll_secret_path=${join(dir, 'secret')}`,
      `--tls_server_certs=${certs.caPath}`, '--config_refresh=1', '--tls_request_timeout_ms=2000',
    ]);
    try {
      await d.start();
      const tag = `remote-${process.pid}`;
      assert.equal(spawnSync('/bin/true', [tag]).status, 0);
      let r = running(d);
      assert.deepEqual(option(r, 'logger_numerics'), { value: true, source: 'remote' });
      assert.deepEqual(option(r, 'process_ancestry_cache_ttl'), { value: 77, source: 'remote' });
      assert.notEqual(option(r, 'bpf_object_path').value, '/tmp/evil.bpf.o');
      assert.deepEqual(r.pending, []);
      assert.match(d.stderr, /the TLS server's option bpf_object_path is ignored: it can only be set on the host/);
      assert.match(d.stderr, /the TLS server's options distributed_interval are not ancestryd options: ignored/);
      assert.equal(await d.metric('ancestryd_remote_config_total', '{result="applied"}'), 1);

      // Live: event_types (reloadable) applies, logger_numerics (restart) waits.
      fleet.config = { options: { event_types: 'exec,exec_failed,fork', logger_numerics: false } };
      await until('event_types from the server', () => option(running(d), 'event_types').source === 'remote');
      r = running(d);
      assert.deepEqual(option(r, 'event_types').value, ['exec', 'exec_failed', 'fork']);
      assert.deepEqual(r.pending, ['logger_numerics']);
      assert.equal(spawnSync('/bin/sh', ['-c', `(/bin/true ${tag}-forked)`]).status, 0);

      // A bad value: the whole reply is refused, the running configuration stays.
      const invalidBefore = await d.metric('ancestryd_remote_config_total', '{result="invalid"}');
      fleet.config = { options: { process_ancestry_cache_size: -5, event_types: 'exec' } };
      await until('an invalid reply counted', async () => await d.metric('ancestryd_remote_config_total', '{result="invalid"}') > invalidBefore);
      assert.deepEqual(option(running(d), 'event_types').value, ['exec', 'exec_failed', 'fork']);
      assert.match(d.stderr, /process_ancestry_cache_size=-5 is out of range/);

      // node_invalid: enroll again, then fetch.
      fleet.config = { options: { event_types: 'exec,exec_failed,fork' } };
      const enrolled = fleet.enrollments;
      fleet.invalidateNodeKeys();
      await until('a new enrollment', () => fleet.enrollments > enrolled);

      // A 5xx window: counted as failed, then fetched again.
      const failedBefore = await d.metric('ancestryd_remote_config_total', '{result="failed"}');
      fleet.configFailNext = 2;
      await until('two failed fetches', async () => await d.metric('ancestryd_remote_config_total', '{result="failed"}') >= failedBefore + 2);

      // gzip'd reply: read and applied.
      fleet.gzipConfig = true;
      fleet.config = { options: { event_types: 'exec,exec_failed', process_ancestry_cache_ttl: 78 } };
      await until('the gzip\'d options', () => option(running(d), 'process_ancestry_cache_ttl').value === 78);
      assert.deepEqual(option(running(d), 'event_types').value, ['exec', 'exec_failed']);

      assert.equal(await d.stop(), 0);
      const rows = d.resultLines().map((l) => JSON.parse(l) as { name: string; numerics: boolean; columns: Record<string, unknown> });
      const first = rows.find((x) => x.columns.cmdline === `/bin/true ${tag}`);
      assert.ok(first, 'the first exec');
      assert.equal(first.numerics, true, 'logger_numerics from the server applied from the start');
      assert.ok(rows.some((x) => x.name === 'process_fork_events'), 'fork events once the server enabled them');
    } finally {
      await d.close();
    }
  });

  it('the server down at start: the daemon starts on its local configuration and takes the options once it answers', async () => {
    fleet.gzipConfig = false;
    fleet.config = { options: { process_ancestry_cache_ttl: 91 } };
    fleet.configFailNext = 1_000_000;
    const d = await DaemonHarness.create([
      '--config_plugin=tls', `--tls_hostname=127.0.0.1:${fleet.port}`, `--enroll_secret_path=${join(dir, 'secret')}`,
      `--tls_server_certs=${certs.caPath}`, '--config_refresh=1',
    ]);
    try {
      await d.start();
      assert.equal(option(running(d), 'process_ancestry_cache_ttl').source, 'default');
      fleet.configFailNext = 0;
      await until('the options after the outage', () => option(running(d), 'process_ancestry_cache_ttl').value === 91);
      assert.equal(await d.stop(), 0);
    } finally {
      fleet.configFailNext = 0;
      await d.close();
    }
  });

  it('with the tls output too, both share one enrollment: one node key, no enrolling by turns', async () => {
    fleet.config = { options: { process_ancestry_cache_ttl: 92 } };
    const enrolled = fleet.enrollments;
    const d = await DaemonHarness.create([
      '--config_plugin=tls', '--logger_plugin=filesystem,tls', `--tls_hostname=127.0.0.1:${fleet.port}`,
      `--enroll_secret_path=${join(dir, 'secret')}`, `--tls_server_certs=${certs.caPath}`, '--config_refresh=1', '--logger_tls_period=0.2',
    ]);
    try {
      await d.start();
      const tag = `shared-${process.pid}`;
      assert.equal(spawnSync('/bin/true', [tag]).status, 0);
      await until('the exec at the server', () => fleet.results.some((x) => (x.columns as { cmdline?: string }).cmdline === `/bin/true ${tag}`));
      const configs = fleet.configRequests.length;
      await until('three more config fetches', () => fleet.configRequests.length >= configs + 3);
      assert.equal(fleet.enrollments, enrolled + 1, 'one enrollment for both');
      const keys = new Set(fleet.configRequests.slice(configs));
      assert.equal(keys.size, 1, 'the same node key throughout');
      assert.ok(fleet.logRequests.some((x) => keys.has(x.nodeKey)), 'the tls output uses that key');
      assert.equal(await d.stop(), 0);
    } finally {
      await d.close();
    }
  });

  it('tls_hostname at the ends of its port range: ports 1 and 65535 reach the server; 0 and 65536 stop run with exit 2', async () => {
    for (const port of [1, 65535]) {
      const edge = new FakeFleet({ certs, enrollSecret: SECRET });
      await edge.start(port);
      edge.config = { options: { process_ancestry_cache_ttl: 61 } };
      const d = await DaemonHarness.create([
        '--config_plugin=tls', `--tls_hostname=127.0.0.1:${port}`, `--enroll_secret_path=${join(dir, 'secret')}`,
        `--tls_server_certs=${certs.caPath}`, '--tls_request_timeout_ms=2000',
      ]);
      try {
        await d.start();
        assert.equal(edge.enrollments, 1, `enrolled at port ${port}`);
        assert.deepEqual(option(running(d), 'process_ancestry_cache_ttl'), { value: 61, source: 'remote' });
        assert.equal(await d.stop(), 0);
      } finally {
        await d.close();
        await edge.stop();
      }
    }
    const d = await DaemonHarness.create();
    try {
      for (const port of [0, 65536]) {
        const r = d.cli(['run', '--config=', '--config_plugin=tls', `--tls_hostname=127.0.0.1:${port}`, `--enroll_secret_path=${join(dir, 'secret')}`]);
        assert.equal(r.code, 2, `port ${port}: ${r.stderr}`);
        assert.match(r.stderr, /tls_hostname/);
      }
    } finally {
      await d.close();
    }
  });
});
