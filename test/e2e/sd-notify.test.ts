/**
 * Type=notify readiness from the real daemon (issue 10 item 14): READY=1
 * with its main pid once it collects (after preflight and attach), and
 * STOPPING=1 when it stops; a daemon that fails its preflight never says
 * READY=1, so `systemctl start` fails instead of reporting a dead service
 * as started. test/e2e/systemd.test.ts runs the unit under a real systemd.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { DaemonHarness, MAIN } from '../support/daemon-harness';

const dir = mkdtempSync(join(tmpdir(), 'anc-sdn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A datagram listener on `path`: every message it receives, in order. */
function listen(path: string): { messages: string[]; ready: Promise<void>; stop(): void } {
  const py = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    's.bind(sys.argv[1])',
    "print('bound', flush=True)",
    'while True: print(repr(s.recv(4096).decode()), flush=True)',
  ].join('\n'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let bound!: () => void;
  const ready = new Promise<void>((r) => { bound = r; });
  createInterface({ input: py.stdout }).on('line', (l) => (l === 'bound' ? bound() : messages.push(l)));
  return { messages, ready, stop: () => py.kill() };
}

describe('sd_notify from the daemon', () => {
  it('READY=1 with its pid once ready, STOPPING=1 when stopping', async () => {
    const sock = join(dir, 'notify');
    const l = listen(sock);
    await l.ready;
    process.env.NOTIFY_SOCKET = sock;
    const d = await DaemonHarness.create();
    try {
      await d.start();
      for (let i = 0; i < 50 && l.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(l.messages[0], `'READY=1\\nSTATUS=collecting\\nMAINPID=${d.child!.pid}'`);
      assert.equal(await d.stop(), 0);
      for (let i = 0; i < 50 && l.messages.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(l.messages[1] ?? '', /^'STOPPING=1\\n/);
    } finally {
      delete process.env.NOTIFY_SOCKET;
      l.stop();
      await d.close();
    }
  });

  it('a daemon that fails its preflight never says READY=1', async () => {
    const sock = join(dir, 'notify-fail');
    const l = listen(sock);
    await l.ready;
    try {
      const r = spawnSync(process.execPath, [MAIN, 'run', '--config=', `--bpf_object_path=${join(dir, 'missing.bpf.o')}`,
        `--logger_path=${join(dir, 'log')}`, `--pidfile=${join(dir, 'pid')}`, `--admin_socket=${join(dir, 'sock')}`, '--metrics_address='],
        { env: { ...process.env, NOTIFY_SOCKET: sock }, encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      await new Promise((res) => setTimeout(res, 200));
      assert.ok(!l.messages.some((m) => m.includes('READY=1')), l.messages.join(' '));
    } finally {
      l.stop();
    }
  });
});
