/**
 * Turns wire-format bytes (bpf/exec_trace.h) into typed records. Never
 * throws on bad input: a malformed record comes back as a DecodeFailure with
 * a reason, which the caller counts.
 */
import { readU64, readU64BigInt } from '../u64-le';
import { argvFromBytes, commandLine, text, type ArgvStrings } from './byte-text';
import { ipText } from './ip-text';
import { KernelChain } from './kernel-chain';
import {
  EtAncestor, EtExec, EtExit, EtPeer, EtFork, EtHeader, EtTask, ExecFlags, Kind, Limits, TaskFlags,
} from './layout';

/** A process: thread-group id plus the leader's start_boottime in ns. */
export interface ProcessRef {
  tgid: number;
  startNs: bigint;
}

const ANC_SIZE = EtAncestor.size;

interface RecordBase {
  /** CLOCK_BOOTTIME ns when the kernel wrote the record (exact below ~104 days of uptime). */
  ktimeNs: number;
}

export interface ExecRecord extends RecordBase, ArgvStrings {
  kind: 'exec' | 'exec_failed';
  tgid: number;
  /** The thread that called exec; differs from tgid when a non-leader thread did. */
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  sessionid: number;
  /** 0, or -errno of a failed exec. */
  ret: number;
  flags: number;
  pidNs: number;
  mntNs: number;
  startNs: bigint;
  parentStartNs: bigint;
  cgroupId: bigint;
  comm: string;
  /** Process group and session leaders (global pids; 0 when the kernel has none). */
  pgid: number;
  sid: number;
  /** Controlling terminal, (major << 20) | minor as the kernel's dev_t; 0 for none. */
  tty: number;
  /** The name exec was given (relative, a symlink, /dev/fd/N: as passed). */
  filename: string;
  /**
   * The file that runs, resolved by the kernel from the process's root: the
   * interpreter for a script (flags ET_EXEC_INTERPRETED; filename is then
   * the script). '' for a failed exec, or when the kernel could not resolve
   * it (ET_EXEC_EXE_UNAVAILABLE).
   */
  exe: string;
  /** Kernel ancestor chain, nearest parent first, from real_parent; valid while the record's handler runs (KernelChain). */
  chain: KernelChain;
  /**
   * A session leader's exec (ET_EXEC_PEER): the far end of its parent's
   * first established TCP connection, the ssh client when the parent is
   * sshd; null otherwise.
   */
  peer: Peer | null;
}

/** An address as text (ip-text.ts), its port, and the network namespace of the socket. */
export interface Peer {
  ip: string;
  port: number;
  netNs: number;
}

export interface ForkRecord extends RecordBase {
  kind: 'fork';
  parentTgid: number;
  childTgid: number;
  parentStartNs: bigint;
  childStartNs: bigint;
  cloneFlags: number;
  creatorTgid: number;
  uid: number;
  comm: string;
}

export interface ExitRecord extends RecordBase {
  kind: 'exit';
  tgid: number;
  ppid: number;
  startNs: bigint;
  parentStartNs: bigint;
  /** Raw wait status: (code << 8) | signal. */
  status: number;
  exitCode: number;
  signal: number;
  coreDumped: boolean;
  comm: string;
}

export interface TaskRecord extends RecordBase {
  kind: 'task';
  tgid: number;
  ppid: number;
  startNs: bigint;
  parentStartNs: bigint;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  kthread: boolean;
  pidNs: number;
  mntNs: number;
  cgroupId: bigint;
  comm: string;
}

export type KernelRecord = ExecRecord | ForkRecord | ExitRecord | TaskRecord;

export type DecodeFailureReason =
  | 'short_record'
  | 'bad_version'
  | 'unknown_kind'
  | 'size_mismatch'
  | 'tail_overflow'
  /** ET_EXEC_PEER with an address family the kernel side never writes. */
  | 'bad_peer';

export interface DecodeFailure {
  kind: 'invalid';
  reason: DecodeFailureReason;
  rawKind: number;
}

export type Decoded = KernelRecord | DecodeFailure;

const H_KIND = EtHeader.fields.kind[0];
const H_VERSION = EtHeader.fields.version[0];
const H_SIZE = EtHeader.fields.size[0];
const H_KTIME = EtHeader.fields.ktime_ns[0];
const X = EtExec.fields;
const F = EtFork.fields;
const E = EtExit.fields;
const T = EtTask.fields;
const PEER_PORT = EtPeer.fields.port[0];
const PEER_FAMILY = EtPeer.fields.family[0];
const PEER_NET_NS = EtPeer.fields.net_ns[0];

/**
 * Older wire versions this decoder still reads, so that an upgrade drains the
 * ring the old programs filled (a pinned set of another build,
 * src/collector/pins.ts). A layout change bumps ET_FORMAT_VERSION, lists
 * the version before it here and teaches decodeRecord its layout;
 * scripts/build-wire-next.sh makes such a build (same layout, the next
 * number) for the upgrade test.
 *
 * 2: the layout of 3, with et_exec.tty as padding its programs zeroed, which
 * reads as "no terminal": right for every process but a terminal's, whose
 * entry leader then shows as type unknown until the old ring is drained.
 */
const EARLIER_READABLE: readonly number[] = [2];
export const READABLE_VERSIONS: readonly number[] = [Limits.ET_FORMAT_VERSION, ...EARLIER_READABLE];

function fail(reason: DecodeFailureReason, rawKind: number): DecodeFailure {
  return { kind: 'invalid', reason, rawKind };
}

/**
 * Decode the record at [off, off + len) of `buf`; `len` is what the ring
 * buffer header says, which must cover the record's own `size`.
 */
export function decodeRecord(buf: Buffer, off: number, len: number): Decoded {
  if (len < EtHeader.size) return fail('short_record', 0);
  const kind = buf.readUInt16LE(off + H_KIND);
  const version = buf.readUInt16LE(off + H_VERSION);
  if (version !== Limits.ET_FORMAT_VERSION && !EARLIER_READABLE.includes(version)) return fail('bad_version', kind);
  const size = buf.readUInt32LE(off + H_SIZE);
  if (size > len) return fail('size_mismatch', kind);
  const ktimeNs = readU64(buf, off + H_KTIME);
  switch (kind) {
    case Kind.ET_KIND_EXEC:
    case Kind.ET_KIND_EXEC_FAILED:
      return decodeExec(buf, off, size, kind, ktimeNs);
    case Kind.ET_KIND_FORK:
      if (size < EtFork.size) return fail('short_record', kind);
      return {
        kind: 'fork',
        ktimeNs,
        parentTgid: buf.readUInt32LE(off + F.parent_tgid[0]),
        childTgid: buf.readUInt32LE(off + F.child_tgid[0]),
        parentStartNs: readU64BigInt(buf, off + F.parent_start_ns[0]),
        childStartNs: readU64BigInt(buf, off + F.child_start_ns[0]),
        cloneFlags: buf.readUInt32LE(off + F.clone_flags[0]),
        creatorTgid: buf.readUInt32LE(off + F.creator_tgid[0]),
        uid: buf.readUInt32LE(off + F.uid[0]),
        comm: cString(buf, off + F.comm[0], Limits.ET_COMM_LEN),
      };
    case Kind.ET_KIND_EXIT: {
      if (size < EtExit.size) return fail('short_record', kind);
      const status = buf.readUInt32LE(off + E.exit_code[0]);
      return {
        kind: 'exit',
        ktimeNs,
        tgid: buf.readUInt32LE(off + E.tgid[0]),
        ppid: buf.readUInt32LE(off + E.ppid[0]),
        startNs: readU64BigInt(buf, off + E.start_ns[0]),
        parentStartNs: readU64BigInt(buf, off + E.parent_start_ns[0]),
        status,
        exitCode: (status >> 8) & 0xff,
        signal: status & 0x7f,
        coreDumped: (status & 0x80) !== 0,
        comm: cString(buf, off + E.comm[0], Limits.ET_COMM_LEN),
      };
    }
    case Kind.ET_KIND_TASK:
      if (size < EtTask.size) return fail('short_record', kind);
      return {
        kind: 'task',
        ktimeNs,
        tgid: buf.readUInt32LE(off + T.tgid[0]),
        ppid: buf.readUInt32LE(off + T.ppid[0]),
        startNs: readU64BigInt(buf, off + T.start_ns[0]),
        parentStartNs: readU64BigInt(buf, off + T.parent_start_ns[0]),
        uid: buf.readUInt32LE(off + T.uid[0]),
        gid: buf.readUInt32LE(off + T.gid[0]),
        euid: buf.readUInt32LE(off + T.euid[0]),
        egid: buf.readUInt32LE(off + T.egid[0]),
        loginuid: buf.readUInt32LE(off + T.loginuid[0]),
        kthread: (buf.readUInt32LE(off + T.flags[0]) & TaskFlags.ET_TASK_KTHREAD) !== 0,
        pidNs: buf.readUInt32LE(off + T.pid_ns[0]),
        mntNs: buf.readUInt32LE(off + T.mnt_ns[0]),
        cgroupId: readU64BigInt(buf, off + T.cgroup_id[0]),
        comm: cString(buf, off + T.comm[0], Limits.ET_COMM_LEN),
      };
    default:
      return fail('unknown_kind', kind);
  }
}

function decodeExec(buf: Buffer, off: number, size: number, kind: number, ktimeNs: number): Decoded {
  if (size < EtExec.size) return fail('short_record', kind);
  const chainLen = buf.readUInt16LE(off + X.chain_len[0]);
  const filenameLen = buf.readUInt16LE(off + X.filename_len[0]);
  const argvLen = buf.readUInt16LE(off + X.argv_len[0]);
  const exeLen = buf.readUInt16LE(off + X.exe_len[0]);
  const flags = buf.readUInt32LE(off + X.flags[0]);
  const peerLen = (flags & ExecFlags.ET_EXEC_PEER) === 0 ? 0 : EtPeer.size;
  if (chainLen > Limits.ET_CHAIN_MAX || filenameLen > Limits.ET_FILENAME_MAX || argvLen > Limits.ET_ARGV_MAX
    || exeLen > Limits.ET_EXE_MAX || EtExec.size + chainLen * ANC_SIZE + filenameLen + exeLen + argvLen + peerLen > size) {
    return fail('tail_overflow', kind);
  }
  let p = off + EtExec.size;
  const chain = chainLen === 0 ? KernelChain.EMPTY : new KernelChain(buf, p, chainLen);
  p += chainLen * ANC_SIZE;
  const filename = text(buf, p, p + filenameLen);
  p += filenameLen;
  const exe = exeLen === 0 ? '' : text(buf, p, p + exeLen);
  p += exeLen;
  // Every output prints the command line (osquery's cmdline, ECS's command_line, OCSF's cmd_line): made here, once.
  const argvText = argvFromBytes(buf, p, p + argvLen);
  p += argvLen;
  let peer: Peer | null = null;
  if (peerLen !== 0) {
    const ip = ipText(buf, p, buf.readUInt16LE(p + PEER_FAMILY));
    if (ip === null) return fail('bad_peer', kind);
    peer = { ip, port: buf.readUInt16LE(p + PEER_PORT), netNs: buf.readUInt32LE(p + PEER_NET_NS) };
  }
  return {
    kind: kind === Kind.ET_KIND_EXEC ? 'exec' : 'exec_failed',
    ktimeNs,
    tgid: buf.readUInt32LE(off + X.tgid[0]),
    tid: buf.readUInt32LE(off + X.tid[0]),
    ppid: buf.readUInt32LE(off + X.ppid[0]),
    uid: buf.readUInt32LE(off + X.uid[0]),
    gid: buf.readUInt32LE(off + X.gid[0]),
    euid: buf.readUInt32LE(off + X.euid[0]),
    egid: buf.readUInt32LE(off + X.egid[0]),
    loginuid: buf.readUInt32LE(off + X.loginuid[0]),
    sessionid: buf.readUInt32LE(off + X.sessionid[0]),
    pgid: buf.readUInt32LE(off + X.pgid[0]),
    sid: buf.readUInt32LE(off + X.sid[0]),
    tty: buf.readUInt32LE(off + X.tty[0]),
    ret: buf.readInt32LE(off + X.ret[0]),
    flags,
    pidNs: buf.readUInt32LE(off + X.pid_ns[0]),
    mntNs: buf.readUInt32LE(off + X.mnt_ns[0]),
    startNs: readU64BigInt(buf, off + X.start_ns[0]),
    parentStartNs: readU64BigInt(buf, off + X.parent_start_ns[0]),
    cgroupId: readU64BigInt(buf, off + X.cgroup_id[0]),
    comm: cString(buf, off + X.comm[0], Limits.ET_COMM_LEN),
    filename,
    exe,
    argvText,
    cmdline: commandLine(argvText),
    chain,
    peer,
  };
}

/**
 * A record to hold past its handler: an exec's chain copied out of the ring
 * (KernelChain says why it must be).
 */
export function keepRecord(r: KernelRecord): KernelRecord {
  return r.kind === 'exec' || r.kind === 'exec_failed' ? { ...r, chain: r.chain.keep() } : r;
}

export function argvTruncated(r: ExecRecord): boolean {
  return (r.flags & ExecFlags.ET_EXEC_ARGV_TRUNCATED) !== 0;
}

/** stdin and stderr were the controlling terminal; null from programs that did not look (wire 3 before the flag). */
export function execInteractive(r: ExecRecord): boolean | null {
  if ((r.flags & ExecFlags.ET_EXEC_TTY_CHECKED) === 0) return null;
  return (r.flags & ExecFlags.ET_EXEC_INTERACTIVE) !== 0;
}

/** A NUL-terminated string in a fixed-size field. */
function cString(buf: Buffer, start: number, max: number): string {
  let end = start;
  const limit = start + max;
  while (end < limit && buf[end] !== 0) end++;
  return text(buf, start, end);
}
