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
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { argvFromBytes, commandLine, text, type ArgvStrings } from '../collector/byte-text';
import { ttyName } from './entry-leader';
import { ipText } from '../collector/decode';
import { Limits } from '../collector/layout';

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
  /** Some optional file (exe, cwd, cmdline, ns) could not be read; the rest is valid. */
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
   * exec (et_peer): for a session older than the daemon. Null when none.
   */
  tcpPeerIp(pid: number): string | null;
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
    if (!kernelThread) {
      interactive = stdioOnTty(dir, first.tty);
      const exe = readLinkBytes(`${dir}/exe`);
      if (exe !== null) path = text(exe, 0, exe.length);
      else if (first.state !== 'Z') partial = true;
      const cmd = readBytes(`${dir}/cmdline`);
      if (cmd !== null) {
        const len = Math.min(cmd.length, this.argvMaxBytes);
        argvTruncated = cmd.length > this.argvMaxBytes;
        argv.argvText = argvFromBytes(cmd, 0, len);
        argv.cmdline = commandLine(argv.argvText);
        this.redactor?.redact(argv);
      } else partial = true;
      const c = readLinkBytes(`${dir}/cwd`);
      if (c !== null) cwd = text(c, 0, c.length);
      else partial = true;
      const lu = readBytes(`${dir}/loginuid`);
      if (lu !== null) {
        const v = Number(lu.toString('latin1').trim());
        if (Number.isInteger(v)) loginuid = v >>> 0;
      }
    }
    pidNs = nsInode(`${dir}/ns/pid`);
    mntNs = nsInode(`${dir}/ns/mnt`);
    if (pidNs === 0 || mntNs === 0) partial = true;

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

  /**
   * Socket inodes of descriptors 0..ET_PEER_FDS_MAX-1 by readlink (which,
   * unlike stat, asks no filesystem), then the process's network namespace
   * tables, /proc/PID/net/tcp and tcp6, for the first of them that is
   * established. Those tables list every connection of the namespace: each is
   * read up to TCP_TABLE_MAX_BYTES, past which the answer is null.
   */
  tcpPeerIp(pid: number): string | null {
    const dir = `${this.root}/${pid}`;
    const inodes: string[] = [];
    for (let fd = 0; fd < Limits.ET_PEER_FDS_MAX; fd++) {
      let target: string;
      try {
        target = readlinkSync(`${dir}/fd/${fd}`, 'latin1');
      } catch {
        continue;
      }
      if (target.startsWith('socket:[') && target.endsWith(']')) inodes.push(target.slice(8, -1));
    }
    if (inodes.length === 0) return null;
    let best: string | null = null;
    let bestRank = inodes.length;
    for (const [file, family] of [['tcp', AF_INET], ['tcp6', AF_INET6]] as const) {
      const table = readCapped(`${dir}/net/${file}`, TCP_TABLE_MAX_BYTES);
      if (table === null) continue;
      for (const line of table.split('\n')) {
        // "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..."
        const f = line.trim().split(/\s+/);
        if (f.length < 10 || f[3] !== TCP_ESTABLISHED_HEX) continue;
        const rank = inodes.indexOf(f[9]);
        if (rank < 0 || rank >= bestRank) continue;
        const ip = remoteIp(f[2], family);
        if (ip !== null) {
          best = ip;
          bestRank = rank;
        }
      }
    }
    return best;
  }
}

const AF_INET = 2;
const AF_INET6 = 10;
/** The st column of /proc/net/tcp for TCP_ESTABLISHED. */
const TCP_ESTABLISHED_HEX = '01';
/** ~27 000 connections of /proc/net/tcp (150 bytes a line). */
const TCP_TABLE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * rem_address of /proc/net/tcp{,6} ("0100007F:1F90"): the address as 32-bit
 * words, each printed as the host reads it (little-endian here), so each
 * word's bytes come out reversed.
 */
function remoteIp(col: string, family: number): string | null {
  const colon = col.indexOf(':');
  const hex = colon < 0 ? '' : col.slice(0, colon);
  const words = family === AF_INET ? 1 : 4;
  if (hex.length !== words * 8 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes = Buffer.alloc(16);
  for (let w = 0; w < words; w++) bytes.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  return ipText(bytes, 0, family);
}

/** Up to `max` bytes of a file as latin1 text; null when it cannot be read. */
function readCapped(path: string, max: number): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.allocUnsafe(max);
    let n = 0;
    for (let got = 1; got > 0 && n < max;) {
      got = readSync(fd, buf, n, max - n, null);
      n += got;
    }
    return buf.toString('latin1', 0, n);
  } catch {
    return null;
  } finally {
    closeSync(fd);
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

function readBytes(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Whether descriptors 0 and 2 are the terminal `tty`, as the kernel side
 * tells for an exec (ET_EXEC_INTERACTIVE). Compared by name: readlink of
 * /proc/PID/fd/N names the file without asking its filesystem, where stat()
 * would follow the link into it, and a FUSE server the process controls
 * could keep that waiting. Null when the terminal has no name we know, or
 * a descriptor cannot be read. A container's pty outside the daemon's view
 * does not read as its name: such a process shows as not interactive until
 * it execs.
 */
function stdioOnTty(dir: string, tty: number): boolean | null {
  if (tty === 0) return false;
  const name = ttyName(tty);
  if (name.includes(':')) return null;
  const want = '/dev/' + name;
  for (const fd of [0, 2]) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/fd/${fd}`, 'latin1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // closed (or the process is gone: the read fails anyway)
      return null;
    }
    if (target !== want) return false;
  }
  return true;
}

function readLinkBytes(path: string): Buffer | null {
  try {
    return readlinkSync(path, { encoding: 'buffer' });
  } catch {
    return null;
  }
}

/** "pid:[4026531836]" → 4026531836; 0 when unreadable. */
function nsInode(path: string): number {
  const b = readLinkBytes(path);
  if (b === null) return 0;
  const s = b.toString('latin1');
  const open = s.indexOf('[');
  const v = open < 0 ? NaN : Number(s.slice(open + 1, s.length - 1));
  return Number.isInteger(v) ? v : 0;
}

function failureOf(err: unknown): ProcfsFailureReason {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'gone';
}
