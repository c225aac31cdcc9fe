/**
 * Entry leaders (ECS process.entry_leader): the process through which work
 * entered the host, and how. A login on a terminal or the console, a shell
 * that sshd or AWS SSM started, a container's first process, a service that
 * init started.
 *
 * Each process gets a kind when it execs (or is first read from /proc), from
 * what the kernel reports then: whether it leads its session, its
 * controlling terminal, its parent now and that parent's program, which
 * counts only if it is the system's (systemProgram). Only a session leader
 * has a kind. A process's entry leader is then the nearest of
 * its lineage, itself included, with a known kind. Failing that, the oldest
 * session leader, of kind unknown. Inheriting the leader from parent to
 * child, as Elastic's session view does, gives the same answer: the lineage
 * is the chain of fork-time parents.
 *
 * The kind is kept in three bits of the entry (ProcessEntry.entryKind), so
 * that the table grows by nothing; an exec that leads no session (almost
 * every exec) costs one comparison.
 */
import type { HostNamespaces } from './procfs-reader';
import { exeName, type ProcessView } from './process-view';

export const ENTRY_NONE = 0;
export const ENTRY_INIT = 1;
export const ENTRY_SSHD = 2;
export const ENTRY_SSM = 3;
export const ENTRY_CONTAINER = 4;
export const ENTRY_TERMINAL = 5;
export const ENTRY_CONSOLE = 6;
/** A session leader none of the rules recognise. */
export const ENTRY_UNKNOWN = 7;

/** process.entry_leader.entry_meta.type, by kind; ECS lists init, sshd, ssm, terminal and console. */
export const ENTRY_TYPE_NAMES: readonly string[] = ['', 'init', 'sshd', 'ssm', 'container', 'terminal', 'console', 'unknown'];

/** Terminal major numbers (Documentation/admin-guide/devices.txt): tty0–63 virtual consoles, 64–255 serial. */
const TTY_MAJOR = 4;
const VT_MINOR_MAX = 63;
const TTY_MINOR_MAX = 255;
/** Unix98 pty slaves: majors 136–143. */
const PTS_MAJOR_MIN = 136;
const PTS_MAJOR_MAX = 143;

/** Major and minor of a dev_t in the kernel's encoding (et_exec.tty). */
export function ttyMajor(tty: number): number {
  return tty >>> 20;
}

export function ttyMinor(tty: number): number {
  return tty & 0xfffff;
}

/** The terminal's name under /dev: pts/3, tty1, ttyS0, console, else major:minor. */
export function ttyName(tty: number): string {
  const major = ttyMajor(tty);
  const minor = ttyMinor(tty);
  if (major >= PTS_MAJOR_MIN && major <= PTS_MAJOR_MAX) return 'pts/' + ((major - PTS_MAJOR_MIN) * 256 + minor);
  if (major === TTY_MAJOR && minor <= VT_MINOR_MAX) return 'tty' + minor;
  if (major === TTY_MAJOR && minor <= TTY_MINOR_MAX) return 'ttyS' + (minor - VT_MINOR_MAX - 1);
  if (major === 5 && minor === 1) return 'console';
  return major + ':' + minor;
}

/** Entered over the network: an sshd or SSM session. */
export function isRemoteEntry(kind: number): boolean {
  return kind === ENTRY_SSHD || kind === ENTRY_SSM;
}

/**
 * Runtime programs that are a session leader under containerd-shim or conmon
 * for their own ends (runc init, a shim's child): not a container's entry.
 */
function isRuntimeProgram(name: string): boolean {
  return name.startsWith('containerd-shim') || name === 'runc' || name === 'crun' || name === 'conmon';
}

/** sshd, and sshd-session, the per-connection program of OpenSSH 9.8 and later. */
function isSshd(name: string): boolean {
  return name === 'sshd' || name === 'sshd-session';
}

/**
 * The kind of one process, from the facts at its exec: `sid` its session,
 * `tty` its controlling terminal (0: none), `ppid` its parent then, `name`
 * its program and `parentName` its parent's (null when the parent is not
 * known, '' when its name is not to be believed).
 */
export function entryKind(pid: number, sid: number, tty: number, ppid: number, name: string, parentName: string | null): number {
  // init leads its session but is not entered through; kernel threads have session 0.
  if (pid !== sid || pid === 1) return ENTRY_NONE;
  const major = ttyMajor(tty);
  const minor = ttyMinor(tty);
  if (tty !== 0 && major === TTY_MAJOR && minor > VT_MINOR_MAX && minor <= TTY_MINOR_MAX) return ENTRY_TERMINAL;
  if (tty !== 0 && major === TTY_MAJOR && minor <= VT_MINOR_MAX && name === 'login') return ENTRY_CONSOLE;
  if (ppid === 1) return ENTRY_INIT;
  if (parentName === null || isRuntimeProgram(name)) return ENTRY_UNKNOWN;
  if (parentName === 'ssm-session-worker' && major >= PTS_MAJOR_MIN && major <= PTS_MAJOR_MAX) return ENTRY_SSM;
  if (isSshd(parentName) && !isSshd(name)) return ENTRY_SSHD;
  if (isRuntimeProgram(parentName)) return ENTRY_CONTAINER;
  return ENTRY_UNKNOWN;
}

/** Directories only root writes on a standard host. */
const SYSTEM_DIRS = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/', '/opt/', '/snap/'];

/**
 * Whether `v` runs a program of the system's: from a system directory, in
 * the host's mount namespace. Any user can name a copy sshd or
 * containerd-shim, or bind-mount one over /usr/sbin/sshd in a mount
 * namespace of their own; only root puts a program under /usr on the host.
 * A program in a container is not one, whatever its name.
 */
export function systemProgram(v: ProcessView, host: HostNamespaces): boolean {
  return host.mntNs !== 0 && v.mntNs === host.mntNs && !v.path.includes('/../')
    && SYSTEM_DIRS.some((d) => v.path.startsWith(d));
}

/**
 * Whether the address of the connection an sshd `parent` holds may stand as
 * where its session came from (ECS entry_meta.source.ip): sshd is the
 * system's, and the socket is in the host's network namespace, since anyone
 * may give any address to a network namespace of their own.
 */
export function trustedPeer(parent: ProcessView, peerNetNs: number, host: HostNamespaces): boolean {
  return systemProgram(parent, host) && host.netNs !== 0 && peerNetNs === host.netNs;
}

/**
 * entryKind with the names taken from the entries: the process after its
 * exec, its parent now. The parent's name tells how the session came in only
 * when the parent runs a system program; any other parent reads as nameless,
 * so its sessions are of kind unknown.
 */
export function entryKindOf(p: ProcessView, sid: number, tty: number, ppid: number, parent: ProcessView | null, host: HostNamespaces): number {
  if (p.pid !== sid) return ENTRY_NONE;
  const parentName = parent === null ? null : systemProgram(parent, host) ? exeName(parent) : '';
  return entryKind(p.pid, sid, tty, ppid, exeName(p), parentName);
}

/**
 * The entry leader of `p`, whose lineage is `a` (nearest parent first):
 * -1 for p itself, i for a[i], or -2 when none of them leads a session.
 * Reads one small integer per element and allocates nothing.
 */
export function entryLeaderIndex(p: ProcessView, a: readonly ProcessView[]): number {
  if (p.entryKind !== ENTRY_NONE && p.entryKind !== ENTRY_UNKNOWN) return -1;
  let unknown = p.entryKind === ENTRY_UNKNOWN ? -1 : -2;
  for (let i = 0; i < a.length; i++) {
    const k = a[i].entryKind;
    if (k === ENTRY_NONE) continue;
    if (k !== ENTRY_UNKNOWN) return i;
    unknown = i;
  }
  return unknown;
}
