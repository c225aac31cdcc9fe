/**
 * A small model of the kernel's process tree for unit tests: fork, exec,
 * exit with reparenting to init or the nearest subreaper, and the records
 * and task snapshots bpf/exec_trace.bpf.c would emit for them, chain
 * included. Also a fake /proc and clock, so the table runs without a kernel.
 */
import type { ExecRecord, ExitRecord, ForkRecord, Peer, ProcessRef, TaskRecord } from '../../src/collector/decode';
import { KernelChain } from '../../src/collector/kernel-chain';
import { ExecFlags } from '../../src/collector/layout';
import { startTicks } from '../../src/ancestry/identity';
import type { HostNamespaces, ProcfsProcess, ProcfsReader, ProcfsResult, ProcfsFailureReason } from '../../src/ancestry/procfs-reader';
import type { TcpPeerRead } from '../../src/ancestry/tcp-peer';
import { ProcessTable, type ProcessTableOptions, type TableClock } from '../../src/ancestry/table';
import { argvOf } from '../support/argv';

export const BOOT_ID = '0123456789abcdef0123456789abcdef';
export const EPOCH_OFFSET_NS = 1_700_000_000_000_000_000n;

export interface KProc {
  pid: number;
  startNs: bigint;
  /** real_parent: changes when the parent exits. */
  parent: KProc | null;
  /** The parent at fork time: what a lineage must show. */
  readonly forkParent: KProc | null;
  alive: boolean;
  subreaper: boolean;
  kthread: boolean;
  path: string;
  argv: string[];
  comm: string;
  uid: number;
  /** Session and controlling terminal (kernel dev_t), inherited at fork; setsid() changes them. */
  sid: number;
  tty: number;
  /** stdin and stderr are on the terminal: inherited at fork; setsid() with a terminal sets it, redirect() clears it. */
  stdioOnTty: boolean;
  /** The far end of an established TCP connection it holds (an sshd's client). */
  tcpPeer: Peer | null;
  /** Mount namespace inode: HOST_MNT_NS unless a test moves it. */
  mntNs: number;
}

export const HOST_MNT_NS = 4026531841;
export const HOST_NET_NS = 4026531840;
/** Bytes before each exec's chain, as a record's chain sits inside the ring: the table's reads of it use the offset. */
const CHAIN_PAD = 40;

export class FakeClock implements TableClock {
  readonly bootId = BOOT_ID;
  constructor(private readonly k: SyntheticKernel) {}
  epochNs(bootNs: bigint): bigint {
    return bootNs + EPOCH_OFFSET_NS;
  }
  nowBootNs(): number {
    return this.k.nowNs;
  }
}

/** /proc as the model sees it; tests can break individual pids. */
export class FakeProcfs implements ProcfsReader {
  reads = 0;
  /** pid → failure to report instead of the process. */
  readonly failures = new Map<number, ProcfsFailureReason>();
  /** pid → tick offset, to simulate a reused pid behind a stale identity. */
  readonly tickSkew = new Map<number, number>();
  /** Exited, not yet reaped: /proc shows the pid with neither exe nor cmdline. */
  readonly zombies = new Set<number>();
  /** Live, with an optional file refused (its cwd here): a partial read. */
  readonly partial = new Set<number>();
  /** Part of what could hold its TCP connection was refused (TcpPeerRead.partial). */
  readonly partialPeer = new Set<number>();
  constructor(private readonly k: SyntheticKernel) {}

  read(pid: number): ProcfsResult {
    this.reads++;
    const f = this.failures.get(pid);
    if (f !== undefined) return { ok: false, pid, reason: f };
    const p = this.k.live.get(pid);
    if (p === undefined) return { ok: false, pid, reason: 'gone' };
    if (this.zombies.has(pid)) {
      return {
        ok: true, pid, ppid: p.parent?.pid ?? 0, startTicks: startTicks(p.startNs), state: 'Z', comm: p.comm, kernelThread: false,
        path: '', argvText: '', cmdline: '', argvTruncated: false, cwd: null, uid: p.uid, gid: p.uid, euid: p.uid, egid: p.uid,
        loginuid: 0xffffffff, pidNs: 4026531836, mntNs: p.mntNs, sid: p.sid, tty: p.tty, interactive: false, partial: false,
      };
    }
    const res: ProcfsProcess = {
      ok: true, pid, ppid: p.parent?.pid ?? 0, startTicks: startTicks(p.startNs) + (this.tickSkew.get(pid) ?? 0),
      state: 'S', comm: p.comm, kernelThread: p.kthread, path: p.kthread ? '' : p.path, ...argvOf(p.kthread ? [] : p.argv),
      argvTruncated: false, cwd: p.kthread || this.partial.has(pid) ? null : '/work', uid: p.uid, gid: p.uid, euid: p.uid, egid: p.uid,
      loginuid: 0xffffffff, pidNs: 4026531836, mntNs: p.mntNs, sid: p.sid, tty: p.tty,
      interactive: !p.kthread && p.tty !== 0 && p.stdioOnTty, partial: this.partial.has(pid),
    };
    return res;
  }

  tcpPeer(pid: number): TcpPeerRead {
    return { peer: this.k.live.get(pid)?.tcpPeer ?? null, partial: this.partialPeer.has(pid) };
  }

  hostNamespaces(): HostNamespaces {
    return { mntNs: HOST_MNT_NS, netNs: HOST_NET_NS };
  }

  readStartTicks(pid: number): number | ProcfsFailureReason {
    const f = this.failures.get(pid);
    if (f !== undefined) return f;
    const p = this.k.live.get(pid);
    return p === undefined ? 'gone' : startTicks(p.startNs) + (this.tickSkew.get(pid) ?? 0);
  }
}

export class SyntheticKernel {
  /** CLOCK_BOOTTIME; starts at 100 s so start times are realistic. */
  nowNs = 100_000_000_000;
  readonly live = new Map<number, KProc>();
  readonly all: KProc[] = [];
  private nextPid = 300;
  chainDepth = 32;
  readonly init: KProc;
  readonly kthreadd: KProc;
  readonly clock = new FakeClock(this);
  readonly procfs = new FakeProcfs(this);

  constructor() {
    this.init = this.spawn(null, 1, '/sbin/init', ['/sbin/init'], 'systemd');
    this.kthreadd = this.spawn(null, 2, '', [], 'kthreadd', true);
  }

  /** Advance time; each operation also advances 1 ms so start times differ. */
  tick(ns = 1_000_000): number {
    this.nowNs += ns;
    return this.nowNs;
  }

  private spawn(parent: KProc | null, pid: number, path: string, argv: string[], comm: string, kthread = false): KProc {
    const p: KProc = {
      pid, startNs: BigInt(this.tick()), parent, forkParent: parent, alive: true, subreaper: false, kthread,
      path, argv, comm, uid: parent?.uid ?? 0, sid: parent?.sid ?? (kthread ? 0 : pid), tty: parent?.tty ?? 0,
      stdioOnTty: parent?.stdioOnTty ?? false, tcpPeer: null, mntNs: parent?.mntNs ?? HOST_MNT_NS,
    };
    this.live.set(pid, p);
    this.all.push(p);
    return p;
  }

  /** setsid(): p leads a new session; `tty` is the terminal it then opens (0: none). No record. */
  setsid(p: KProc, tty = 0): void {
    p.sid = p.pid;
    p.tty = tty;
    p.stdioOnTty = tty !== 0;
  }

  /** stdin and stderr away from the terminal (a redirect, a daemon closing them). No record. */
  redirect(p: KProc): void {
    p.stdioOnTty = false;
  }

  /** A process created without any record (before the daemon started). */
  preexisting(parent: KProc, path: string, argv: string[], pid = this.allocPid()): KProc {
    return this.spawn(parent, pid, path, argv, basename(path));
  }

  /** Pids wrap here (like /proc/sys/kernel/pid_max) so tests can force reuse. */
  pidMax = 4_194_304;

  allocPid(): number {
    for (let tries = 0; tries < this.pidMax; tries++) {
      if (this.nextPid >= this.pidMax) this.nextPid = 300;
      const pid = this.nextPid++;
      if (!this.live.has(pid)) return pid;
    }
    throw new Error('pid space exhausted');
  }

  fork(parent: KProc, pid = this.allocPid()): { proc: KProc; record: ForkRecord } {
    if (this.live.has(pid)) throw new Error(`pid ${pid} is in use`);
    const child = this.spawn(parent, pid, parent.path, [...parent.argv], parent.comm, parent.kthread);
    const record: ForkRecord = {
      kind: 'fork', ktimeNs: this.nowNs, parentTgid: parent.pid, childTgid: pid,
      parentStartNs: parent.startNs, childStartNs: child.startNs, cloneFlags: 0,
      creatorTgid: parent.pid, uid: child.uid, comm: child.comm,
    };
    return { proc: child, record };
  }

  exec(p: KProc, path: string, argv: string[], opts: { tid?: number; kind?: 'exec' | 'exec_failed' } = {}): ExecRecord {
    this.tick();
    const failed = opts.kind === 'exec_failed';
    if (!failed) {
      p.path = path;
      p.argv = argv;
      p.comm = basename(path).slice(0, 15);
      p.kthread = false;
    }
    let flags = 0;
    const chain: ProcessRef[] = [];
    for (let a = p.parent; a !== null; a = a.parent) {
      if (chain.length >= this.chainDepth) {
        flags |= ExecFlags.ET_EXEC_CHAIN_TRUNCATED;
        break;
      }
      chain.push({ tgid: a.pid, startNs: a.startNs });
    }
    const tid = opts.tid ?? p.pid;
    if (tid !== p.pid) flags |= ExecFlags.ET_EXEC_FROM_THREAD;
    // As the kernel side: the parent now is init or a child subreaper.
    if (p.parent !== null && (p.parent.pid === 1 || p.parent.subreaper)) flags |= ExecFlags.ET_EXEC_PARENT_REAPER;
    flags |= ExecFlags.ET_EXEC_TTY_CHECKED | (p.tty !== 0 && p.stdioOnTty ? ExecFlags.ET_EXEC_INTERACTIVE : 0);
    // As the kernel side: a session leader's exec carries its parent's connection.
    const peer = !failed && p.sid === p.pid ? p.parent?.tcpPeer ?? null : null;
    if (peer !== null) flags |= ExecFlags.ET_EXEC_PEER;
    return {
      kind: failed ? 'exec_failed' : 'exec', ktimeNs: this.nowNs, tgid: p.pid, tid, ppid: p.parent?.pid ?? 0,
      uid: p.uid, gid: p.uid, euid: p.uid, egid: p.uid, loginuid: 0xffffffff, sessionid: 0xffffffff, pgid: p.pid, sid: p.sid, tty: p.tty,
      ret: failed ? -2 : 0, flags, pidNs: 4026531836, mntNs: p.mntNs,
      startNs: p.startNs, parentStartNs: p.parent?.startNs ?? 0n, cgroupId: 1n, comm: p.comm,
      filename: path, exe: failed ? '' : path, ...argvOf(argv), chain: KernelChain.of(chain, CHAIN_PAD), peer,
    };
  }

  exit(p: KProc, code = 0): ExitRecord {
    this.tick();
    const record: ExitRecord = {
      kind: 'exit', ktimeNs: this.nowNs, tgid: p.pid, ppid: p.parent?.pid ?? 0, startNs: p.startNs,
      parentStartNs: p.parent?.startNs ?? 0n, status: code << 8, exitCode: code, signal: 0, coreDumped: false, comm: p.comm,
    };
    p.alive = false;
    this.live.delete(p.pid);
    // forget_original_parent(): children go to the nearest live subreaper ancestor, else init.
    for (const c of this.live.values()) {
      if (c.parent !== p) continue;
      let reaper: KProc | null = p.parent;
      while (reaper !== null && !(reaper.alive && reaper.subreaper)) reaper = reaper.parent;
      c.parent = reaper ?? this.init;
    }
    return record;
  }

  /** What the task iterator would return now. */
  snapshot(): TaskRecord[] {
    this.tick();
    const out: TaskRecord[] = [];
    for (const p of this.live.values()) {
      out.push({
        kind: 'task', ktimeNs: this.nowNs, tgid: p.pid, ppid: p.parent?.pid ?? 0, startNs: p.startNs,
        parentStartNs: p.parent?.startNs ?? 0n, uid: p.uid, gid: p.uid, euid: p.uid, egid: p.uid,
        loginuid: 0xffffffff, kthread: p.kthread, pidNs: 4026531836, mntNs: p.mntNs, cgroupId: 1n, comm: p.comm,
      });
    }
    this.tick();
    return out;
  }

  table(opts: Partial<ProcessTableOptions> = {}): ProcessTable {
    return new ProcessTable({
      clock: this.clock, procfs: this.procfs, cacheSize: 10_000, cacheTtlSeconds: 60, maxDepth: 32, ...opts,
    });
  }

  /** Fork-time ancestors of p, nearest first: the truth a lineage must match. */
  lineage(p: KProc): KProc[] {
    const out: KProc[] = [];
    for (let a = p.forkParent; a !== null; a = a.forkParent) out.push(a);
    return out;
  }
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** pid:start pairs, the shape assertions compare. */
export function ids(views: readonly { pid: number; startBoottimeNs: bigint }[]): string[] {
  return views.map((v) => `${v.pid}:${v.startBoottimeNs}`);
}

export function idsOf(procs: readonly KProc[]): string[] {
  return procs.map((p) => `${p.pid}:${p.startNs}`);
}
