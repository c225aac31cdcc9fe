/**
 * One process in the table: the ProcessView handed downstream plus the
 * entry store's bookkeeping (list links, pin counts).
 *
 * Laid out for memory (issue 3 asks ≤ 1 KB per process; measured with
 * tools/bench/bench-ancestry-memory.ts): every field is assigned in the
 * constructor so all entries share one hidden class; argv is one
 * NUL-joined string rather than an array of strings; booleans share one
 * integer; numbers that would not fit a small integer (namespace inodes,
 * an unset loginuid, times) are stored in forms that do, because V8 keeps
 * each such number in a separate 16-byte box.
 */
import { argvList, type ArgvStrings } from '../collector/byte-text';
import type { EntityIds } from './identity';
import type { IncompleteReason, ProcessView } from './process-view';

export interface ExecImage {
  readonly path: string;
  readonly cmdline: string;
}

/**
 * The ids every source of process details carries under the same names: an
 * exec or task record, a /proc read, the parent a child inherits them from.
 */
export type ProcessIds = Pick<ProcessView, 'uid' | 'gid' | 'euid' | 'egid' | 'loginuid' | 'pidNs' | 'mntNs'>;

/** What every entry of one table shares: one pointer per entry instead of several. */
export interface EntryContext {
  readonly ids: EntityIds;
  /** CLOCK_BOOTTIME ns → wall-clock epoch ns, with the current offset. */
  epochNs(bootNs: bigint): bigint;
}

/** Where the entry's parent link came from, most to least certain. */
export const PARENT_FROM_FORK = 0;
export const PARENT_FROM_SNAPSHOT = 1;
/** An exec record's real_parent or /proc's PPid: the parent *then*, possibly a reaper. */
export const PARENT_FROM_CHAIN = 2;
/**
 * No fork record, and the parent now is a reaper (ET_EXEC_PARENT_REAPER) that
 * may have adopted the process: the fork-time parent is unknown.
 */
export const PARENT_UNKNOWN = 3;

/** Which list the entry is on. */
export const LIST_NONE = 0;
/** Alive. */
export const LIST_LIVE = 1;
/** Exited and no live descendant needs it: TTL and first eviction. */
export const LIST_EXITED = 2;
/** Exited but a live descendant needs it for its lineage: no TTL. */
export const LIST_PINNED = 3;
/** Alive but evicted under size pressure: details dropped, identity and links kept. */
export const LIST_EVICTED_LIVE = 4;
/** Gone from the table; descendants that still point here see a tombstone. */
export const LIST_REMOVED = 5;

/** Earlier images kept per process; a process that re-execs in a loop must not grow without bound. */
export const EXEC_CHAIN_MAX = 8;

/** Time unit of lastUse: 100 ms keeps it a small integer for 6.8 years of uptime. */
export const USE_TICK_NS = 100_000_000;

export const NO_START = -1n;
const F_ARGV_TRUNCATED = 1;
const F_KTHREAD = 2;
const F_OWN_IMAGE = 4;
const F_DETAILS_MISSING = 8;
const F_NEEDING = 16;
/** Bits 5–7: the entry kind (entry-leader.ts), set at exec; a forked child starts with none. */
const ENTRY_SHIFT = 5;
const ENTRY_MASK = 7 << ENTRY_SHIFT;
/** Bits 8–9: interactive known, and its value (ET_EXEC_TTY_CHECKED, ET_EXEC_INTERACTIVE). */
const F_TTY_CHECKED = 256;
const F_INTERACTIVE = 512;
const EMPTY_CHAIN: readonly ExecImage[] = Object.freeze([]);

export class ProcessEntry implements ProcessView {
  // `declare`: no class-field definitions. A defined field starts as
  // undefined, which makes V8 store every later number boxed (a heap
  // allocation per timestamp write on the exec path); assigned first in
  // the constructor, number fields stay unboxed.
  declare readonly entityId: string;
  declare readonly pid: number;
  declare readonly startBoottimeNs: bigint;

  declare ppid: number;
  /** Start of the parent this entry links to; NO_START when only its pid is known. */
  declare parentStartNs: bigint;
  declare parent: ProcessEntry | null;
  declare parentFrom: number;
  /** Set when the parent is known to be unresolvable, so walks stop without retrying /proc. */
  declare parentMissing: IncompleteReason | null;

  declare currentPpid: number;
  declare currentParentStartNs: bigint;

  declare path: string;
  /** argv, every argument NUL-terminated (collector/byte-text.ts): decoded once, as the record carried it. */
  declare argvText: string;
  /** argv as a command line (osquery's cmdline column), made once with argvText. */
  declare cmdline: string;
  declare comm: string;
  declare cwd: string | null;
  /** An sshd session's entry: its client's address (ECS entry_meta.source.ip); null for every other process. */
  declare sourceIp: string | null;
  declare uid: number;
  declare gid: number;
  declare euid: number;
  declare egid: number;
  declare cgroupId: bigint;
  declare execCount: number;
  declare execChain: readonly ExecImage[];
  declare source: 'event' | 'bootstrap' | 'procfs';
  declare exitBootNs: number | null;
  declare exitCode: number | null;
  declare exitSignal: number | null;
  /** Booleans packed in one small integer (F_*). */
  declare flags: number;
  /** CLOCK_BOOTTIME ns the image is from: an exec record older than a /proc read must not replace it. */
  declare imageAtNs: number;
  /** loginuid, pid and mount namespace inodes as int32: above 2^31 a number is a 16-byte box. */
  private declare loginuidI32: number;
  private declare pidNsI32: number;
  private declare mntNsI32: number;

  declare list: number;
  declare prev: ProcessEntry | null;
  declare next: ProcessEntry | null;
  /** Exit or last lineage use, whichever is later, in USE_TICK_NS units: TTL counts from here. */
  declare lastUse: number;
  /** Older incarnations of the same pid (exited), newest first. */
  declare olderSamePid: ProcessEntry | null;
  /** Children that need this entry: alive, or exited and pinned themselves. */
  declare pins: number;
  /** Children whose `parent` points here; a removed entry is freed when it reaches 0. */
  declare refs: number;

  private declare readonly ctx: EntryContext;

  constructor(ctx: EntryContext, pid: number, startNs: bigint, source: ProcessEntry['source']) {
    this.ctx = ctx;
    this.entityId = ctx.ids.format(startNs, pid);
    this.pid = pid;
    this.startBoottimeNs = startNs;
    this.ppid = 0;
    this.parentStartNs = NO_START;
    this.parent = null;
    this.parentFrom = PARENT_FROM_CHAIN;
    this.parentMissing = null;
    this.currentPpid = 0;
    this.currentParentStartNs = NO_START;
    this.path = '';
    this.argvText = '';
    this.cmdline = '';
    this.comm = '';
    this.cwd = null;
    this.sourceIp = null;
    this.uid = 0;
    this.gid = 0;
    this.euid = 0;
    this.egid = 0;
    this.cgroupId = 0n;
    this.execCount = 0;
    this.execChain = EMPTY_CHAIN;
    this.source = source;
    this.exitBootNs = null;
    this.exitCode = null;
    this.exitSignal = null;
    this.flags = 0;
    this.imageAtNs = -1;
    this.loginuidI32 = -1;
    this.pidNsI32 = 0;
    this.mntNsI32 = 0;
    this.list = LIST_NONE;
    this.prev = null;
    this.next = null;
    this.lastUse = 0;
    this.olderSamePid = null;
    this.pins = 0;
    this.refs = 0;
  }

  /** Wall-clock start, from the boot-to-wall offset now (not stored: 32 bytes per entry). */
  get startEpochNs(): bigint {
    return this.ctx.epochNs(this.startBoottimeNs);
  }

  /** A fresh array per call: callers serialize it, the entry keeps one string. */
  get argv(): readonly string[] {
    return argvList(this.argvText);
  }

  get loginuid(): number {
    return this.loginuidI32 >>> 0;
  }

  set loginuid(v: number) {
    this.loginuidI32 = v | 0;
  }

  get pidNs(): number {
    return this.pidNsI32 >>> 0;
  }

  set pidNs(v: number) {
    this.pidNsI32 = v | 0;
  }

  get mntNs(): number {
    return this.mntNsI32 >>> 0;
  }

  set mntNs(v: number) {
    this.mntNsI32 = v | 0;
  }

  get argvTruncated(): boolean {
    return (this.flags & F_ARGV_TRUNCATED) !== 0;
  }

  get kernelThread(): boolean {
    return (this.flags & F_KTHREAD) !== 0;
  }

  set kernelThread(v: boolean) {
    this.flags = v ? this.flags | F_KTHREAD : this.flags & ~F_KTHREAD;
  }

  /** The image is this process's own (exec'd or read from /proc), not inherited at fork. */
  get ownImage(): boolean {
    return (this.flags & F_OWN_IMAGE) !== 0;
  }

  set ownImage(v: boolean) {
    this.flags = v ? this.flags | F_OWN_IMAGE : this.flags & ~F_OWN_IMAGE;
  }

  /** Details could not be read (gone or unreadable before we saw them). */
  get detailsMissing(): boolean {
    return (this.flags & F_DETAILS_MISSING) !== 0;
  }

  set detailsMissing(v: boolean) {
    this.flags = v ? this.flags | F_DETAILS_MISSING : this.flags & ~F_DETAILS_MISSING;
  }

  /** This entry counts in its parent's pins. */
  get needing(): boolean {
    return (this.flags & F_NEEDING) !== 0;
  }

  set needing(v: boolean) {
    this.flags = v ? this.flags | F_NEEDING : this.flags & ~F_NEEDING;
  }

  get entryKind(): number {
    return (this.flags & ENTRY_MASK) >>> ENTRY_SHIFT;
  }

  set entryKind(v: number) {
    this.flags = (this.flags & ~ENTRY_MASK) | ((v << ENTRY_SHIFT) & ENTRY_MASK);
  }

  get interactive(): boolean | null {
    return (this.flags & F_TTY_CHECKED) === 0 ? null : (this.flags & F_INTERACTIVE) !== 0;
  }

  set interactive(v: boolean | null) {
    this.flags = (this.flags & ~(F_TTY_CHECKED | F_INTERACTIVE)) | (v === null ? 0 : v ? F_TTY_CHECKED | F_INTERACTIVE : F_TTY_CHECKED);
  }

  get parentEntityId(): string | null {
    if (this.parent !== null) return this.parent.entityId;
    if (this.ppid === 0 || this.parentStartNs < 0n) return null;
    return this.ctx.ids.format(this.parentStartNs, this.ppid);
  }

  get currentParentEntityId(): string | null {
    if (this.currentPpid === this.ppid && this.currentParentStartNs === this.parentStartNs) return this.parentEntityId;
    if (this.currentPpid === 0 || this.currentParentStartNs < 0n) return null;
    return this.ctx.ids.format(this.currentParentStartNs, this.currentPpid);
  }

  /** Credentials and namespaces, all from one source. The cgroup id is not here: not every source has one. */
  setIds(from: ProcessIds): void {
    this.uid = from.uid;
    this.gid = from.gid;
    this.euid = from.euid;
    this.egid = from.egid;
    this.loginuid = from.loginuid;
    this.pidNs = from.pidNs;
    this.mntNs = from.mntNs;
  }

  /**
   * The parent the lineage follows, by identity, and how sure that is. The
   * `parent` reference is the store's to set (it counts refs and pins); a pid
   * of 0 has no start time.
   */
  setParent(ppid: number, startNs: bigint, from: number): void {
    this.ppid = ppid;
    this.parentStartNs = ppid === 0 ? NO_START : startNs;
    this.parentFrom = from;
    this.parentMissing = null;
  }

  /** The parent now; the bigint is shared with the lineage parent's when they are the same process. */
  setCurrentParent(ppid: number, startNs: bigint): void {
    this.currentPpid = ppid;
    this.currentParentStartNs = ppid === this.ppid && startNs === this.parentStartNs ? this.parentStartNs : startNs;
  }

  /** Replace the image (exec, /proc read); the entity stays. */
  setImage(path: string, argv: ArgvStrings, argvTruncated: boolean): void {
    this.path = path;
    this.argvText = argv.argvText;
    this.cmdline = argv.cmdline;
    this.flags = argvTruncated ? this.flags | F_ARGV_TRUNCATED : this.flags & ~F_ARGV_TRUNCATED;
  }

  /** Share the parent's image after fork: the child runs the same program until it execs. */
  inheritImage(from: ProcessEntry): void {
    const IMAGE = F_ARGV_TRUNCATED | F_KTHREAD;
    this.path = from.path;
    this.argvText = from.argvText;
    this.cmdline = from.cmdline;
    this.flags = (this.flags & ~(IMAGE | F_OWN_IMAGE)) | (from.flags & IMAGE);
    this.cwd = from.cwd;
  }

  pushExecImage(): void {
    const img: ExecImage = { path: this.path, cmdline: this.cmdline };
    const prev = this.execChain;
    const next = prev.length < EXEC_CHAIN_MAX ? prev.slice() : prev.slice(prev.length - EXEC_CHAIN_MAX + 1);
    next.push(img);
    this.execChain = next;
  }

  /** Drop what eviction frees; identity and links stay for descendants that still point here. */
  stripDetails(): void {
    this.path = '';
    this.argvText = '';
    this.cmdline = '';
    this.flags = this.flags & ~(F_ARGV_TRUNCATED | F_OWN_IMAGE);
    this.cwd = null;
    this.execChain = EMPTY_CHAIN;
  }
}
