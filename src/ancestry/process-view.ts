/**
 * What the ancestry engine hands downstream: live, read-only views of the
 * process table's entries, and the lineage of one exec.
 *
 * Views are the table's own entries, not copies: formats must serialize an
 * event before the next kernel record is applied (the pipeline does so
 * synchronously), and must never hold on to a view.
 */
import type { ExecRecord, ExitRecord, ForkRecord } from '../collector/decode';

export interface ProcessView {
  /** Deterministic across daemon restarts on one boot: boot id + start_boottime + tgid. */
  readonly entityId: string;
  readonly pid: number;
  /** start_boottime of the thread-group leader, ns since boot. */
  readonly startBoottimeNs: bigint;
  /** Wall-clock start, epoch ns. */
  readonly startEpochNs: bigint;
  /** Parent at fork time (the lineage follows this one). */
  readonly ppid: number;
  readonly parentEntityId: string | null;
  /** Parent now, after any reparenting to init or a subreaper. */
  readonly currentPpid: number;
  readonly currentParentEntityId: string | null;
  /** Executable path of the current image ("" if never seen exec'ing and unreadable). */
  readonly path: string;
  readonly argv: readonly string[];
  /** argv joined with spaces, as osquery's cmdline column. */
  readonly cmdline: string;
  readonly argvTruncated: boolean;
  readonly comm: string;
  readonly cwd: string | null;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  /** Audit login uid; 4294967295 when unset. */
  readonly loginuid: number;
  readonly cgroupId: bigint;
  readonly pidNs: number;
  readonly mntNs: number;
  /** Number of execs this process has done since we first saw it. */
  readonly execCount: number;
  /** Earlier images of this process, oldest first, when it exec'd more than once. */
  readonly execChain: readonly { readonly path: string; readonly cmdline: string }[];
  /** Where the details came from: kernel events, the start-up snapshot, or a late /proc read. */
  readonly source: 'event' | 'bootstrap' | 'procfs';
  readonly kernelThread: boolean;
  /** How a session entered the host through this process (entry-leader.ts ENTRY_*); 0 for most. */
  readonly entryKind: number;
  /**
   * stdin and stderr were the controlling terminal (ECS process.interactive)
   * at its last exec, or when read from /proc; a forked child starts with its
   * creator's. Null when unknown.
   */
  readonly interactive: boolean | null;
  /**
   * An sshd session's entry leader: the client's address, from the
   * connection its parent holds when it execs; null for every other process.
   */
  readonly sourceIp: string | null;
  /** CLOCK_BOOTTIME ns of the exit, or null while alive. */
  readonly exitBootNs: number | null;
  readonly exitCode: number | null;
  readonly exitSignal: number | null;
}

/** Basename of the executable path, or comm when the path is unknown: osquery's exe_name. */
export function exeName(v: ProcessView): string {
  return baseName(v.path, v.comm);
}

/** The last component of a path, or `unknown` for an empty path. */
export function baseName(path: string, unknown: string): string {
  if (path === '') return unknown;
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

export type IncompleteReason =
  /** process_ancestry_max_depth reached before init. */
  | 'depth_cap'
  /** An ancestor was evicted from the cache (size limit or TTL) before this exec. */
  | 'evicted'
  /** An ancestor started before the daemon and was gone before it could be read. */
  | 'exited_before_start'
  /** Kernel records were lost (ring buffer full) and the gap could not be repaired. */
  | 'events_lost';

export interface ExecLineage {
  readonly record: ExecRecord;
  readonly process: ProcessView;
  /** Ancestors, nearest (fork-time) parent first, up to max depth, ending at pid 1 when it fits. */
  readonly ancestry: readonly ProcessView[];
  /** The parent now, when it differs from ancestry[0] (reparented). */
  readonly currentParent: ProcessView | null;
  readonly complete: boolean;
  readonly incompleteReason: IncompleteReason | null;
  /**
   * When the walk stopped at an ancestor it could not find: that ancestor's
   * pid and, when its start time is known, entity id — an analyst can look
   * up its earlier events by entity id even though its details are gone.
   */
  readonly missingAncestor: MissingAncestor | null;
}

export interface MissingAncestor {
  readonly pid: number;
  readonly entityId: string | null;
}

export interface ForkEventView {
  readonly record: ForkRecord;
  readonly process: ProcessView;
  readonly parent: ProcessView | null;
}

export interface ExitEventView {
  readonly record: ExitRecord;
  readonly process: ProcessView;
}
