/**
 * The daemon under measurement: either one started here (`ancestryd run`
 * with every path in a directory of ours and no config file), or one already
 * running, reached through its admin socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { adminRequest } from '../../src/daemon/admin/admin-client';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';
import { freePort } from './free-port';
import { ROOT } from './paths';

export const MAIN = join(ROOT, 'dist', 'src', 'daemon', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DaemonHandle {
  pid: number;
  adminSocket: string;
  logDir: string;
  /** Whether we started it (and so stop it). */
  owned: boolean;
  /** Options it was started with (empty when attached). */
  args: string[];
  stop(timeoutMs?: number): Promise<number | null>;
}

/** `ancestryd run` with logs, spool, socket and pidfile under `dir`; resolves once /readyz says 200. */
export async function startDaemon(dir: string, extra: string[] = [], timeoutMs = 60_000, build: string = ROOT): Promise<DaemonHandle> {
  // build: the tree whose dist/ and BPF object run (another build's: an upgrade).
  const main = join(build, 'dist', 'src', 'daemon', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run "make"`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logDir = join(dir, 'log');
  const adminSocket = join(dir, 'run', 'admin.sock');
  const args = [
    '--config=', `--logger_path=${logDir}`, `--spool_path=${join(dir, 'spool')}`, `--admin_socket=${adminSocket}`,
    `--pidfile=${join(dir, 'run', 'ancestryd.pid')}`, `--metrics_address=127.0.0.1:${port}`,
    `--bpf_object_path=${join(build, 'build', 'exec_trace.bpf.o')}`, '--log_format=json',
    // Pins would outlive the run and hand its ring to the next daemon: a caller that wants them passes --bpf_pin=true.
    '--bpf_pin=false', ...extra,
  ];
  const errFd = openSync(join(dir, 'daemon.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, main, 'run', ...args], { stdio: ['ignore', 'ignore', errFd] });
  } finally {
    closeSync(errFd);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ancestryd exited with ${child.exitCode} before it was ready: see ${join(dir, 'daemon.log')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ancestryd was not ready after ${timeoutMs} ms: see ${join(dir, 'daemon.log')}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid!, adminSocket, logDir, owned: true, args,
    async stop(stopTimeoutMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A daemon that runs already: its pid from the admin API's ping. */
export async function attachDaemon(adminSocket: string, logDir: string): Promise<DaemonHandle> {
  const ping = await adminRequest(adminSocket, 'ping', {});
  return { pid: ping.pid, adminSocket, logDir, owned: false, args: [], stop: async () => null };
}
