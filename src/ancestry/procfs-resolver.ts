/**
 * Finds a process by identity for the table: in the store, else read from
 * /proc with its start time verified.
 *
 * /proc is the fallback for every process the kernel records did not give
 * the table: started before the daemon and missing from its snapshot, lost
 * with dropped records, or evicted live (a tombstone that keeps identity and
 * parent link but no strings). A pid alone names whichever process holds it
 * now, so every read is checked against the start time the table expects; a
 * reused pid is counted (`pid_reused`) and never taken for the process.
 */
import type { Peer } from '../collector/decode';
import type { KernelChain } from '../collector/kernel-chain';
import { ENTRY_SSHD, entryKindOf, trustedPeer } from './entry-leader';
import type { EntryStore } from './entry-store';
import { startTicks } from './identity';
import type { Interner } from './interner';
import { NO_START, PARENT_FROM_CHAIN, ProcessEntry, type EntryContext } from './process-entry';
import type { HostNamespaces, ProcfsFailureReason, ProcfsProcess, ProcfsReader } from './procfs-reader';
import type { ProcessView } from './process-view';

export class ProcfsResolver {
  /** Ancestor lookups answered by the store. */
  hits = 0;
  /** Ancestor lookups the store could not answer itself (/proc was tried). */
  misses = 0;
  reads = 0;
  /**
   * Reads that found the process but not every optional field (ProcfsProcess.partial, or an ssh session's
   * connection, TcpPeerRead.partial): those may be empty or unknown.
   */
  partialReads = 0;
  readonly failures: Record<ProcfsFailureReason | 'pid_reused', number> = { gone: 0, denied: 0, raced: 0, malformed: 0, pid_reused: 0 };
  private hostNs: HostNamespaces | null = null;

  constructor(
    private readonly store: EntryStore,
    private readonly procfs: ProcfsReader,
    private readonly ctx: EntryContext,
    private readonly strings: Interner<string>,
    /** CLOCK_BOOTTIME now: stamps /proc reads, which have no record time. */
    private readonly nowBootNs: () => number,
  ) {}

  /** Find a process by identity: the store, then an evicted tombstone, then /proc. Counts hit or miss. */
  resolve(tgid: number, startNs: bigint, chain: KernelChain | null): ProcessEntry | null {
    if (tgid === 0) return null;
    const e = this.store.find(tgid, startNs);
    if (e !== null) return this.hit(e);
    this.misses++;
    const t = this.store.findEvictedLive(tgid, startNs);
    if (t !== null) return this.refill(t);
    return this.load(tgid, startNs, chain);
  }

  /** An ancestor the store holds with details: counted, and marked used. */
  hit(e: ProcessEntry): ProcessEntry {
    this.hits++;
    this.store.touch(e);
    return e;
  }

  /** Bring an evicted live process back from /proc; null when it has died (it stays a tombstone). */
  refill(t: ProcessEntry): ProcessEntry | null {
    const res = this.read(t.pid, t.startBoottimeNs);
    if (res === null) {
      this.store.killEvictedLive(t, this.store.nowNs);
      return null;
    }
    this.fill(t, res);
    this.store.reinstate(t);
    return t;
  }

  /** Read a process we never held; its identity is exact, /proc only confirms it. */
  private load(tgid: number, startNs: bigint, chain: KernelChain | null): ProcessEntry | null {
    const res = this.read(tgid, startNs);
    if (res === null) return null;
    this.store.retirePid(tgid, startNs);
    const e = new ProcessEntry(this.ctx, tgid, startNs, 'procfs');
    this.fill(e, res);
    e.setIds(res);
    e.setParent(res.ppid, res.ppid === 0 ? NO_START : this.parentStartOf(tgid, startNs, res.ppid, chain), PARENT_FROM_CHAIN);
    e.setCurrentParent(e.ppid, e.parentStartNs);
    this.store.insert(e);
    if (e.parentStartNs >= 0n) this.store.link(e, this.store.findHeld(e.ppid, e.parentStartNs));
    this.classify(e, res, e.parent);
    return e;
  }

  /** The entry kind /proc shows (entry-leader.ts); `parent` is the parent now, when held. */
  classify(e: ProcessEntry, res: ProcfsProcess, parent: ProcessEntry | null): void {
    const held = parent !== null && parent.pid === res.ppid ? parent : null;
    e.entryKind = entryKindOf(e, res.sid, res.tty, res.ppid, held, this.hostNamespaces());
    // As an exec record's et_peer: the connection sshd holds for this session.
    e.sourceIp = null;
    if (e.entryKind === ENTRY_SSHD && held !== null) {
      const read = this.procfs.tcpPeer(res.ppid);
      // One read of this session that missed something, counted once.
      if (read.partial && !res.partial) this.partialReads++;
      e.sourceIp = this.sourceIp(held, read.peer);
    }
  }

  /** An sshd session leader's source: the parent's connection, when trustedPeer() says it may stand. */
  sourceIp(parent: ProcessView | null, peer: Peer | null): string | null {
    return parent !== null && peer !== null && trustedPeer(parent, peer.netNs, this.hostNamespaces()) ? peer.ip : null;
  }

  /** The host's namespaces, read once. */
  hostNamespaces(): HostNamespaces {
    this.hostNs ??= this.procfs.hostNamespaces();
    return this.hostNs;
  }

  /** The exact start of a live parent known by pid only: from the kernel chain, else a tick-verified store entry. */
  private parentStartOf(tgid: number, startNs: bigint, ppid: number, chain: KernelChain | null): bigint {
    if (chain !== null) {
      const at = chain.indexOf(tgid, startNs);
      if (at >= 0 && at + 1 < chain.length && chain.tgid(at + 1) === ppid) return chain.startNs(at + 1);
      for (let i = 0; i < chain.length; i++) if (chain.tgid(i) === ppid) return chain.startNs(i);
    }
    const p = this.store.liveByPid(ppid) ?? this.store.evictedLive.get(ppid) ?? null;
    if (p !== null && this.isAlive(p)) return p.startBoottimeNs;
    return NO_START;
  }

  /** Whether the process still runs: its pid's start time in /proc is still its own. */
  isAlive(e: ProcessEntry): boolean {
    this.reads++;
    return this.procfs.readStartTicks(e.pid) === startTicks(e.startBoottimeNs);
  }

  /** One /proc read, counted; null unless it is the process with this start time. */
  read(tgid: number, startNs: bigint): ProcfsProcess | null {
    this.reads++;
    const res = this.procfs.read(tgid);
    if (!res.ok) {
      this.failures[res.reason]++;
      return null;
    }
    if (res.startTicks !== startTicks(startNs)) {
      this.failures.pid_reused++;
      return null;
    }
    if (res.partial) this.partialReads++;
    return res;
  }

  /** Give an entry the image /proc shows; keepOldImage files the one it had in its exec chain. */
  fill(e: ProcessEntry, res: ProcfsProcess, keepOldImage = false): void {
    this.store.releaseImage(e);
    if (keepOldImage) e.pushExecImage();
    e.setImage(this.strings.intern(res.path), res, res.argvTruncated);
    e.cwd = res.cwd;
    e.comm = this.strings.intern(res.comm);
    e.kernelThread = res.kernelThread;
    e.interactive = res.interactive;
    e.ownImage = true;
    // A zombie has neither exe nor cmdline; an exe we may not read (init on
    // some VMs, EACCES even for root) still leaves the command line.
    e.detailsMissing = res.path === '' && res.argvText === '' && !res.kernelThread;
    e.source = 'procfs';
    // An empty read is no image: an exec record older than it (a pinned
    // ring's backlog, applied after the snapshot that found the zombie) must still apply.
    e.imageAtNs = e.detailsMissing ? -1 : this.nowBootNs();
    this.store.holdImage(e);
  }
}
