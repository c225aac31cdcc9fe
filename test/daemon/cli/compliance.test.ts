/** `ancestryd check --compliance`: every control, failing and passing, on real files. */
import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PreflightCheck } from '../../../src/collector/preflight';
import { EXIT } from '../../../src/daemon/exit-codes';
import { complianceChecks } from '../../../src/daemon/cli/compliance';
import { ConfigInvalidError, loadConfig } from '../../../src/daemon/config/config';
import { runCli } from '../../../src/daemon/cli/cli';
import { BPF_OBJECT, ROOT } from '../../support/paths';
import { fexitRefusal } from '../../../src/collector/load';

const SHIPPED = join(ROOT, 'deploy', 'ancestryd.service');

describe('ancestryd check --compliance', () => {
  let dir: string;
  let conf: string;
  let unit: string;
  let secret: string;
  /** bpf_pin_path: a directory of its own on the host's bpffs. */
  const pinRoot = `/sys/fs/bpf/anc-compliance-${process.pid}`;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'anc-compliance-'));
    conf = join(dir, 'ancestryd.conf');
    unit = join(dir, 'ancestryd.service');
    secret = join(dir, 'enroll.secret');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pinRoot, { recursive: true, force: true });
  });

  /** A host where every control passes, changed by `flags` and `prepare`. */
  function run(flags: string[] = [], prepare: () => void = () => {}): Map<string, PreflightCheck> {
    writeFileSync(conf, JSON.stringify({ options: {} }), { mode: 0o644 });
    chmodSync(conf, 0o644);
    chownSync(conf, 0, 0);
    writeFileSync(secret, 'sekrit', { mode: 0o600 });
    chmodSync(secret, 0o600);
    writeFileSync(unit, readFileSync(SHIPPED, 'utf8'));
    for (const d of ['log', 'spool', 'run']) {
      rmSync(join(dir, d), { recursive: true, force: true });
      mkdirSync(join(dir, d), { mode: 0o700 });
    }
    prepare();
    const config = loadConfig({
      argv: [`--config=${conf}`, `--logger_path=${join(dir, 'log')}`, `--spool_path=${join(dir, 'spool')}`,
        `--pidfile=${join(dir, 'run', 'a.pid')}`, `--admin_socket=${join(dir, 'run', 'a.sock')}`, `--bpf_pin_path=${pinRoot}`, ...flags],
      env: {}, checkFiles: false,
    });
    return new Map(complianceChecks(config, { unitPath: unit, shippedUnitPath: SHIPPED, ownerUid: 0 }).map((c) => [c.name, c]));
  }
  const passes = (m: Map<string, PreflightCheck>, name: string) => assert.equal(m.get(name)?.ok, true, JSON.stringify(m.get(name)));
  const fails = (m: Map<string, PreflightCheck>, name: string, detail: RegExp) => {
    const c = m.get(name);
    assert.equal(c?.ok, false, `${name} should fail: ${JSON.stringify(c)}`);
    assert.match(c!.detail, detail);
    assert.ok(c!.fix && c!.fix.length > 0, `${name} says how to fix it`);
  };

  it('a host set up as shipped passes every control', () => {
    const m = run([`--enroll_secret_path=${secret}`]);
    assert.deepEqual([...m.keys()], ['config-file', 'bpf-object', 'secrets', 'directories', 'tls-verification', 'metrics-bind', 'ancestry', 'bpf-pins', 'kernel-features', 'unit-hardening', 'memory-limit']);
    for (const name of m.keys()) passes(m, name);
  });

  it('bpf-object: writable by others, or missing (the daemon refuses to load such an object)', () => {
    const obj = join(dir, 'objdir', 'exec_trace.bpf.o');
    const prepare = (mode: number) => () => {
      mkdirSync(join(dir, 'objdir'), { recursive: true, mode: 0o755 });
      chmodSync(join(dir, 'objdir'), 0o755);
      writeFileSync(obj, 'x');
      chmodSync(obj, mode);
    };
    passes(run([`--bpf_object_path=${obj}`], prepare(0o644)), 'bpf-object');
    fails(run([`--bpf_object_path=${obj}`], prepare(0o666)), 'bpf-object', /mode 0666/);
    fails(run([`--bpf_object_path=${join(dir, 'nope.o')}`]), 'bpf-object', /is missing/);
  });

  it('config-file: writable by others, or owned by another user, or none at all', () => {
    fails(run([], () => chmodSync(conf, 0o666)), 'config-file', /has mode 0666/);
    fails(run([], () => chownSync(conf, 65534, 65534)), 'config-file', /owned by uid 65534/);
    const none = complianceChecks(loadConfig({ argv: ['--config='], env: {}, checkFiles: false }), { unitPath: unit, shippedUnitPath: SHIPPED, ownerUid: 0 });
    assert.equal(none.find((c) => c.name === 'config-file')?.ok, false);
  });

  it('config-file: in a directory others may write, refused alike by the daemon and the control (issue 11)', () => {
    try {
      const m = run([], () => chmodSync(dir, 0o777));
      fails(m, 'config-file', new RegExp(`config file's directory ${dir} \\(owner uid 0, mode 0777\\) may be written by another user`));
      assert.throws(() => loadConfig({ argv: [`--config=${conf}`], env: {} }), (err: unknown) => {
        assert.ok(err instanceof ConfigInvalidError, String(err));
        assert.ok(err.problems.some((p) => p.startsWith(`config file's directory ${dir} (owner uid 0, mode 0777) may be written`)), err.message);
        return true;
      });
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('secrets: readable by others, or missing', () => {
    fails(run([`--enroll_secret_path=${secret}`], () => chmodSync(secret, 0o644)), 'secrets', /enroll_secret_path .* has mode 0644/);
    fails(run([`--tls_client_cert=${join(dir, 'client.pem')}`, `--tls_client_key=${join(dir, 'absent.key')}`]), 'secrets', /tls_client_key .*absent\.key is missing/);
    passes(run([]), 'secrets');
  });

  it('directories: another user\'s, or writable by others', () => {
    fails(run([], () => chmodSync(join(dir, 'log'), 0o777)), 'directories', /logger_path .*log: uid 0, mode 0777/);
    fails(run([], () => chownSync(join(dir, 'spool'), 65534, 65534)), 'directories', /spool_path .*spool: uid 65534/);
  });

  it('tls-verification: a TLS output without a CA to verify its server, SASL plain in clear', () => {
    const tls = ['--logger_plugin=tls', '--tls_hostname=fleet.example:8080', `--enroll_secret_path=${secret}`];
    fails(run(tls), 'tls-verification', /without tls_server_certs/);
    passes(run([...tls, `--tls_server_certs=${join(dir, 'ca.pem')}`]), 'tls-verification');
    fails(run(['--logger_plugin=kafka', '--logger_kafka_brokers=k:9092', '--logger_kafka_topic=t', '--logger_kafka_sasl_mechanism=plain',
      '--logger_kafka_sasl_username=u', `--logger_kafka_sasl_password_file=${secret}`]), 'tls-verification', /password crosses the network in clear/);
    // Given as a flag, logger_kafka_tls is the text "true" until the Kafka sink's parser reads it: the check must see it on.
    const kafkaTls = ['--logger_plugin=kafka', '--logger_kafka_brokers=k:9092', '--logger_kafka_topic=t', '--logger_kafka_tls=true'];
    fails(run(kafkaTls), 'tls-verification', /logger_kafka_tls without logger_kafka_tls_server_certs/);
    passes(run([...kafkaTls, `--logger_kafka_tls_server_certs=${join(dir, 'ca.pem')}`, '--logger_kafka_sasl_mechanism=plain',
      '--logger_kafka_sasl_username=u', `--logger_kafka_sasl_password_file=${secret}`]), 'tls-verification');
  });

  it('bpf-pins: pinning off, no bpffs, or a set of another build left attached', () => {
    fails(run(['--bpf_pin=false']), 'bpf-pins', /bpf_pin=false: whatever runs while the daemon is down/);
    fails(run([`--bpf_pin_path=${join(dir, 'pins')}`]), 'bpf-pins', /is not on a bpffs mount/);
    // A set's directory as an older build names it (bpffs holds directories as any filesystem does).
    const foreign = join(pinRoot, 'w1-0123456789abcdef');
    fails(run([], () => mkdirSync(foreign, { recursive: true })), 'bpf-pins', /w1-0123456789abcdef/);
    rmSync(foreign, { recursive: true });
    passes(run([]), 'bpf-pins');
  });

  it('kernel-features: each feature in use and its cost; a missing one fails', () => {
    const m = run([]);
    passes(m, 'kernel-features');
    const detail = m.get('kernel-features')!.detail;
    // Failed execs: fexit where this kernel loads it, else the tracepoints and their cost.
    const failed = fexitRefusal(BPF_OBJECT) === null ? /✓ fexit on the execve and execveat syscalls/
      : /✓ syscall tracepoints .*\(this kernel refuses fexit\).*\+55–72 ns per syscall/;
    for (const f of [/✓ BTF tracepoints/, /✓ a BPF ring buffer/, /✓ bpf_loop/, failed, /✓ bpffs under/]) {
      assert.match(detail, f);
    }
    assert.doesNotMatch(run(['--exec_failed_events=false']).get('kernel-features')!.detail, /syscall tracepoints|fexit/);
    fails(run([`--bpf_pin_path=${join(dir, 'pins')}`]), 'kernel-features', /missing: bpffs under/);
  });

  it('metrics-bind: beyond loopback', () => {
    fails(run(['--metrics_address=0.0.0.0:9393']), 'metrics-bind', /reachable from the network/);
    passes(run(['--metrics_address=[::1]:9393']), 'metrics-bind');
  });

  it('ancestry: below the smallest preset', () => {
    fails(run(['--process_ancestry_max_depth=4']), 'ancestry', /process_ancestry_max_depth 4 < 16/);
    fails(run(['--process_ancestry_cache_size=100']), 'ancestry', /process_ancestry_cache_size 100 < 500/);
  });

  it('unit-hardening: a weakened or missing unit', () => {
    const weaken = () => writeFileSync(unit, readFileSync(SHIPPED, 'utf8').replace(/^ProtectSystem=.*$/m, 'ProtectSystem=false')
      .replace(/^NoNewPrivileges=.*$/m, ''));
    fails(run([], weaken), 'unit-hardening', /ProtectSystem=false \(shipped: strict\).*NoNewPrivileges=\(unset\)|NoNewPrivileges=\(unset\).*ProtectSystem=false/);
    fails(run([], () => rmSync(unit)), 'unit-hardening', /no unit at .* \(ENOENT\)/);
  });

  it('memory-limit: no MemoryMax, or too little for the cache', () => {
    fails(run([], () => writeFileSync(unit, readFileSync(SHIPPED, 'utf8').replace(/^MemoryMax=.*$/m, ''))), 'memory-limit', /no MemoryMax/);
    fails(run([], () => writeFileSync(unit, readFileSync(SHIPPED, 'utf8').replace(/^MemoryMax=.*$/m, 'MemoryMax=infinity'))), 'memory-limit', /no MemoryMax/);
    fails(run(['--process_ancestry_preset=enterprise'], () => writeFileSync(unit, readFileSync(SHIPPED, 'utf8').replace(/^MemoryMax=.*$/m, 'MemoryMax=200M'))),
      'memory-limit', /MemoryMax 200 MiB < \d+ MiB needed for process_ancestry_cache_size 10000/);
  });

  it('the CLI prints each control and exits 4 on any failure, 0 when all pass', async () => {
    const out: string[] = [];
    const io = { run: async () => {}, env: {}, stdout: { write: (s: string) => { out.push(s); return true; } }, stderr: { write: () => true } };
    run([]);
    const ok = await runCli(['check', '--compliance', `--config=${conf}`, `--logger_path=${join(dir, 'log')}`, `--spool_path=${join(dir, 'spool')}`,
      `--pidfile=${join(dir, 'run', 'a.pid')}`, `--admin_socket=${join(dir, 'run', 'a.sock')}`, '--unit', unit], io as never);
    assert.equal(ok, EXIT.OK, out.join(''));
    assert.match(out.join(''), /✓ unit-hardening +.*\nall checks passed\n$/s);
    out.length = 0;
    const bad = await runCli(['check', '--compliance', '--config=', '--metrics_address=0.0.0.0:9393', `--unit=${join(dir, 'none')}`, '--json'], io as never);
    assert.equal(bad, EXIT.PREFLIGHT_FAILED);
    const parsed = JSON.parse(out.join('')) as { ok: boolean; checks: PreflightCheck[] };
    assert.equal(parsed.ok, false);
    assert.equal(parsed.checks.find((c) => c.name === 'metrics-bind')?.ok, false);
  });
});
