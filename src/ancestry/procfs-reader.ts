/**
 * Reads one live process from /proc: the slow path for processes the table
 * has not seen (started before the daemon, or evicted), never per exec.
 *
 * /proc is racy: the pid can exit or be reused between two reads. read()
 * takes the start time (stat field 22) first and last and reports `raced`
 * when they differ, so everything in between belongs to one process. The
 * caller compares that start time with the one it expects (exact ns from the
 * kernel) before trusting the rest: /proc ticks only verify identity, they
 * are too coarse to be one (issue 3: the replaced system read the wrong stat
 * field and trusted it).
 */
import type { ArgvRedactor } from './argv-redaction';
import { readFileSync, readlinkSync } from 'node:fs';
import { argvFromBytes, commandLine, text, type ArgvStrings } from '../collector/byte-text';
import { ttyName } from './entry-leader';
import { readTcpPeer, type TcpPeerRead } from './tcp-peer';

export interface ProcfsProcess extends Readonly<ArgvStrings> {
  readonly ok: true;
  readonly pid: number;
  readonly ppid: number;
  /** stat field 22: start_boottime in USER_HZ ticks. */
  readonly startTicks: number;
  /** stat field 3: R, S, D, Z, … */
  readonly state: string;
  readonly comm: string;
  readonly kernelThread: boolean;
  /** readlink exe; "" for kernel threads, zombies and unreadable links. */
  readonly path: string;
  readonly argvTruncated: boolean;
  readonly cwd: string | null;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  readonly loginuid: number;
  readonly pidNs: number;
  readonly mntNs: number;
  /** stat field 6: the session (0 when the process has none, as kernel threads). */
  readonly sid: number;
  /** stat field 7, the controlling terminal, as the kernel's dev_t: the encoding of et_exec.tty. */
  readonly tty: number;
  /** stdin and stderr are that terminal (ECS process.interactive); null when that cannot be told (stdioOnTty). */
  readonly interactive: boolean | null;
  /** Some optional file of a live process (exe, cwd, cmdline, ns, fd 0 or 2) was refused, not merely gone; the rest is valid. */
  readonly partial: boolean;
}

export type ProcfsFailureReason =
  /** ENOENT/ESRCH: the process is gone. */
  | 'gone'
  /** EACCES/EPERM on stat or status. */
  | 'denied'
  /** The start time changed while reading: the pid was reused. */
  | 'raced'
  /** A file did not have the expected format. */
  | 'malformed';

export interface ProcfsFailure {
  readonly ok: false;
  readonly pid: number;
  readonly reason: ProcfsFailureReason;
}

export type ProcfsResult = ProcfsProcess | ProcfsFailure;

/** Injected into the table so unit tests can feed a synthetic /proc. */
export interface ProcfsReader {
  read(pid: number): ProcfsResult;
  /** Only stat field 22, for a cheap identity check; a failure reason when unreadable. */
  readStartTicks(pid: number): number | ProcfsFailureReason;
  /**
   * The far end of the first established TCP connection among the process's
   * first ET_PEER_FDS_MAX descriptors, as the kernel side reads it for an
   * exec (et_peer): for a session older than the daemon. peer null when
   * none; partial when part of what could hold it was not read.
   */
  tcpPeer(pid: number): TcpPeerRead;
  /** The host's mount and network namespaces, the kernel's initial ones. */
  hostNamespaces(): HostNamespaces;
}

export interface HostNamespaces {
  readonly mntNs: number;
  readonly netNs: number;
}

const PF_KTHREAD = 0x00200000;

interface StatFields {
  ppid: number;
  sid: number;
  tty: number;
  startTicks: number;
  state: string;
  comm: string;
  flags: number;
}

export class LinuxProcfsReader implements ProcfsReader {
  constructor(
    private readonly root = '/proc',
    /** Same cap as the kernel side's argv_max_bytes, so both sources look alike. */
    private readonly argvMaxBytes = 4096,
    /** cmdline_redaction_patterns, as exec records get them: no secret enters the table from /proc either. */
    private readonly redactor: ArgvRedactor | null = null,
  ) {}

  read(pid: number): ProcfsResult {
    const dir = `${this.root}/${pid}`;
    const first = readStat(dir);
    if (typeof first === 'string') return { ok: false, pid, reason: first };
    let statusText: string;
    try {
      statusText = readFileSync(`${dir}/status`, 'latin1');
    } catch (err) {
      return { ok: false, pid, reason: failureOf(err) };
    }
    const uids = idLine(statusText, 'Uid:');
    const gids = idLine(statusText, 'Gid:');
    if (uids === null || gids === null) return { ok: false, pid, reason: 'malformed' };

    let partial = false;
    const kernelThread = (first.flags & PF_KTHREAD) !== 0;
    let path = '';
    const argv: ArgvStrings = { argvText: '', cmdline: '' };
    let argvTruncated = false;
    let cwd: string | null = null;
    let pidNs = 0;
    let mntNs = 0;
    let loginuid = 0xffffffff;
    let interactive: boolean | null = false;
    // Partial counts what was refused (EACCES, a hung link): ENOENT is what a
    // zombie or a process on its way out shows, nothing there to miss.
    if (!kernelThread) {
      // A zombie has no descriptors left to tell.
      const onTty = first.state === 'Z' ? null : stdioOnTty(dir, first.tty);
      interactive = onTty === UNREADABLE ? null : onTty;
      if (onTty === UNREADABLE) partial = true;
      const exe = readLinkBytes(`${dir}/exe`);
      if (exe instanceof Buffer) path = text(exe, 0, exe.length);
      else if (exe === UNREADABLE) partial = true;
      const cmd = readBytes(`${dir}/cmdline`);
      if (cmd instanceof Buffer) {
        const len = Math.min(cmd.length, this.argvMaxBytes);
        argvTruncated = cmd.length > this.argvMaxBytes;
        argv.argvText = argvFromBytes(cmd, 0, len);
        argv.cmdline = commandLine(argv.argvText);
        this.redactor?.redact(argv);
      } else if (cmd === UNREADABLE) partial = true;
      const c = readLinkBytes(`${dir}/cwd`);
      if (c instanceof Buffer) cwd = text(c, 0, c.length);
      else if (c === UNREADABLE) partial = true;
      const lu = readBytes(`${dir}/loginuid`);
      if (lu instanceof Buffer) {
        const v = Number(lu.toString('latin1').trim());
        if (Number.isInteger(v)) loginuid = v >>> 0;
      }
    }
    const pidLink = nsLink(`${dir}/ns/pid`);
    const mntLink = nsLink(`${dir}/ns/mnt`);
    pidNs = pidLink === UNREADABLE ? 0 : pidLink;
    mntNs = mntLink === UNREADABLE ? 0 : mntLink;
    if (pidLink === UNREADABLE || mntLink === UNREADABLE) partial = true;

    const last = readStat(dir);
    if (typeof last === 'string') return { ok: false, pid, reason: last === 'gone' ? 'raced' : last };
    if (last.startTicks !== first.startTicks) return { ok: false, pid, reason: 'raced' };
    return {
      ok: true, pid, ppid: first.ppid, startTicks: first.startTicks, state: last.state, comm: first.comm,
      kernelThread, path, argvText: argv.argvText, cmdline: argv.cmdline, argvTruncated, cwd,
      uid: uids[0], euid: uids[1], gid: gids[0], egid: gids[1], loginuid, pidNs, mntNs, sid: first.sid, tty: first.tty, interactive,
      partial,
    };
  }

  readStartTicks(pid: number): number | ProcfsFailureReason {
    const s = readStat(`${this.root}/${pid}`);
    return typeof s === 'string' ? s : s.startTicks;
  }

  tcpPeer(pid: number): TcpPeerRead {
    const read = readTcpPeer(`${this.root}/${pid}`);
    if (read.peer !== null) {
      const net = nsLink(`${this.root}/${pid}/ns/net`);
      // Without its namespace the address is not trusted (trustedPeer): as good as missing.
      if (net === UNREADABLE) read.partial = true;
      read.peer.netNs = net === UNREADABLE ? 0 : net;
    }
    return read;
  }

  /**
   * kthreadd's (pid 2): every kernel thread runs in the initial namespaces,
   * and root may read them where init's links can be refused (EACCES on this
   * development VM). 0 where unreadable, which trusts nothing.
   */
  hostNamespaces(): HostNamespaces {
    return { mntNs: nsInode(`${this.root}/2/ns/mnt`), netNs: nsInode(`${this.root}/2/ns/net`) };
  }
}

/**
 * "pid (comm) state ppid pgrp session tty tpgid flags … starttime …".
 * comm may hold spaces and ')', so fields are counted from the last ')'.
 */
function readStat(dir: string): StatFields | ProcfsFailureReason {
  let buf: Buffer;
  try {
    buf = readFileSync(`${dir}/stat`);
  } catch (err) {
    return failureOf(err);
  }
  const open = buf.indexOf(0x28); // '('
  const close = buf.lastIndexOf(0x29); // ')'
  if (open < 0 || close < open) return 'malformed';
  const rest = buf.toString('latin1', close + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  if (rest.length < 20) return 'malformed';
  const ppid = Number(rest[1]);
  const sid = Number(rest[3]);
  const ttyNr = Number(rest[4]);
  const flags = Number(rest[6]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(ppid) || !Number.isInteger(startTicks) || !Number.isInteger(flags)
    || !Number.isInteger(sid) || !Number.isInteger(ttyNr)) return 'malformed';
  return { ppid, sid, tty: devFromTtyNr(ttyNr), startTicks, state: rest[0], comm: text(buf, open + 1, close), flags };
}

/**
 * stat's tty_nr is new_encode_dev(): minor's low byte, then 12 bits of major,
 * then minor's upper bits. Back to the kernel's (major << 20) | minor.
 */
export function devFromTtyNr(nr: number): number {
  const major = (nr >>> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >>> 12) & 0xfff00);
  return ((major << 20) | minor) >>> 0;
}

/** "Uid:\treal\teffective\tsaved\tfs" → [real, effective]. */
function idLine(status: string, key: string): [number, number] | null {
  const at = status.indexOf('\n' + key);
  if (at < 0) return null;
  const end = status.indexOf('\n', at + 1);
  const parts = status.slice(at + 1 + key.length, end < 0 ? undefined : end).trim().split(/\s+/);
  const real = Number(parts[0]);
  const eff = Number(parts[1]);
  if (!Number.isInteger(real) || !Number.isInteger(eff)) return null;
  return [real, eff];
}

/** What a read of an optional file gives instead of its bytes. */
type Missed = typeof GONE | typeof UNREADABLE;
/** ENOENT: the file, or the part of the process it shows, is not there (a zombie's exe, an exiting process's cwd). */
const GONE = 'gone';
/** Any other error: there was something to read and it was refused. */
const UNREADABLE = 'unreadable';

function missed(err: unknown): Missed {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? GONE : UNREADABLE;
}

function readBytes(path: string): Buffer | Missed {
  try {
    return readFileSync(path);
  } catch (err) {
    return missed(err);
  }
}

/**
 * Whether descriptors 0 and 2 are the terminal `tty`, as the kernel side
 * tells for an exec (ET_EXEC_INTERACTIVE). Compared by name: readlink of
 * /proc/PID/fd/N names the file without asking its filesystem, where stat()
 * would follow the link into it, and a FUSE server the process controls
 * could keep that waiting. Null when the terminal has no name we know,
 * UNREADABLE when a descriptor cannot be read (the read is partial); a
 * closed one is not the terminal.
 */
function stdioOnTty(dir: string, tty: number): boolean | null | typeof UNREADABLE {
  if (tty === 0) return false;
  const name = ttyName(tty);
  if (name.includes(':')) return null;
  const want = '/dev/' + name;
  for (const fd of [0, 2]) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/fd/${fd}`, 'latin1');
    } catch (err) {
      // Gone: closed (or the process is gone, and the read fails anyway).
      return missed(err) === GONE ? false : UNREADABLE;
    }
    if (target !== want) return false;
  }
  return true;
}

function readLinkBytes(path: string): Buffer | Missed {
  try {
    return readlinkSync(path, { encoding: 'buffer' });
  } catch (err) {
    return missed(err);
  }
}

/** "pid:[4026531836]" → 4026531836; 0 when gone or not in that form, UNREADABLE when refused. */
function nsLink(path: string): number | typeof UNREADABLE {
  const b = readLinkBytes(path);
  if (b === UNREADABLE) return UNREADABLE;
  if (b === GONE) return 0;
  const s = b.toString('latin1');
  const open = s.indexOf('[');
  const v = open < 0 ? NaN : Number(s.slice(open + 1, s.length - 1));
  return Number.isInteger(v) ? v : 0;
}

/** nsLink with refusal as 0: for the host's namespaces, where 0 trusts nothing. */
function nsInode(path: string): number {
  const v = nsLink(path);
  return v === UNREADABLE ? 0 : v;
}

function failureOf(err: unknown): ProcfsFailureReason {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'gone';
}
