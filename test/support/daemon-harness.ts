/**
 * Runs the real `ancestryd run` as a child process with its files in a
 * temporary directory, for e2e tests: start, wait for /readyz, talk to it
 * through the CLI and HTTP, stop it, read what it wrote.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from './daemon-process';
import { freePort } from './free-port';
import { BPF_OBJECT, requireBuilt } from './paths';
import { requireRootAndBpf } from './root';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';

export { MAIN };

export class DaemonHarness {
  readonly dir: string;
  readonly port: number;
  readonly args: string[];
  child: ChildProcess | null = null;
  stderr = '';
  exit: Promise<number | null> = Promise.resolve(null);

  private constructor(dir: string, port: number, extra: string[]) {
    this.dir = dir;
    this.port = port;
    this.args = [
      `--logger_path=${join(dir, 'log')}`,
      `--spool_path=${join(dir, 'spool')}`,
      `--admin_socket=${join(dir, 'run', 'admin.sock')}`,
      `--pidfile=${join(dir, 'run', 'ancestryd.pid')}`,
      `--metrics_address=127.0.0.1:${port}`,
      `--bpf_object_path=${requireBuilt(BPF_OBJECT)}`,
      '--log_format=json',
      // Pins would outlive the test and hand its ring to the next test's daemon: the pin tests opt in with a root of their own.
      '--bpf_pin=false',
      ...extra,
    ];
  }

  static async create(extra: string[] = []): Promise<DaemonHarness> {
    requireRootAndBpf();
    requireBuilt(MAIN);
    return new DaemonHarness(mkdtempSync(join(tmpdir(), 'anc-daemon-')), await freePort(), extra);
  }

  /** Start `ancestryd run` and wait until /readyz answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, MAIN, 'run', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    child.stdout!.resume();
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ancestryd exited with ${child.exitCode} before it was ready:\n${this.stderr}`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/readyz`);
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`ancestryd was not ready after ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Run an ancestryd subcommand against this daemon's socket. */
  cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [MAIN, ...args, `--admin_socket=${join(this.dir, 'run', 'admin.sock')}`], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
    if (!line) throw new Error(`metric ${name}${labels} not exposed`);
    return Number(line.split(' ').pop());
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    return this.exit;
  }

  /** SIGKILL (no shutdown at all) and wait until it is gone. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** Every line of the results log and its rotations, oldest file first. */
  resultLines(): string[] {
    const dir = join(this.dir, 'log');
    const files = readdirSync(dir).filter((f) => f.startsWith('ancestryd.results.log'))
      .sort((a, b) => rotation(b) - rotation(a));
    return files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
  }

  async close(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function rotation(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}
