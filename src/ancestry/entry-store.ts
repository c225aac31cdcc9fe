/**
 * The process table's entries: the pid index, the retention lists, pins and
 * tombstones, and the eviction that keeps them within
 * process_ancestry_cache_size and process_ancestry_cache_ttl. It knows
 * nothing of kernel records or /proc; the table's other parts fill entries
 * and hand them here, so its invariants can be tested alone
 * (test/ancestry/entry-store.test.ts), as Tetragon keeps its process cache
 * and reference counts (pkg/process cache.go, refcnt.go) apart from event
 * handling.
 *
 * Retention (issue 3), in eviction order under process_ancestry_cache_size:
 *  1. Exited processes nothing needs, least recently used first. They also
 *     expire process_ancestry_cache_ttl seconds after exit or last use.
 *  2. Then live processes and *pinned* exited ancestors together, least
 *     recently used first. Live processes are never evicted while the table
 *     is under the limit.
 *
 * An exited process that a live descendant still needs for its lineage is
 * pinned: it does not expire, and is not evicted while unneeded exited
 * entries remain. A daemonized grandchild keeps its whole lineage for as
 * long as it lives, whatever the TTL and the churn around it. Pins are
 * counts of needing children (live, or pinned themselves), propagated up
 * through exited ancestors, so taking and releasing one is O(exited
 * ancestors) and allocation-free.
 *
 * Why one LRU order for live and pinned: an evicted live process keeps a
 * small tombstone (identity and parent link, no strings) and is re-read from
 * /proc, start time verified, when next needed — which works as long as it
 * is still alive then. The processes least likely to be alive are the
 * youngest, and those are the most recently used; the oldest unused ones
 * (idle kernel threads, long-lived daemons) are the safest to re-read. An
 * order that put all live processes (or all leaves) before pinned ones
 * evicted a just-forked parent first, and it died before it could be
 * re-read, losing its children's lineage (found on the real kernel); one
 * that put pinned ancestors before live ones would let old pins starve new
 * lineages when the table is too small for what is needed.
 * A walk that reaches a removed ancestor reports `evicted`, honestly.
 *
 * Time is CLOCK_BOOTTIME from the records themselves, so unit tests are
 * deterministic and a stalled drain does not expire what it has not yet seen.
 */
import { EntryList } from './entry-list';
import {
  LIST_EVICTED_LIVE, LIST_EXITED, LIST_LIVE, LIST_PINNED, LIST_REMOVED, USE_TICK_NS, type ProcessEntry,
} from './process-entry';

/**
 * Bytes per entry besides its image strings: the object (~40 fields), its
 * boxed numbers, map slot, start-time bigint and entity id, plus an average
 * share of cached ancestor JSON. Calibrated so stats.estimatedBytes matches
 * the heap measured by tools/bench/bench-ancestry-memory.ts (within ~5%).
 */
const ENTRY_BYTES = 560;
/** A removed or evicted-live entry: the object and entity id, strings dropped. */
const TOMBSTONE_BYTES = 480;

export class EntryStore {
  /** tgid → newest entry; older incarnations of the pid hang off olderSamePid. */
  readonly index = new Map<number, ProcessEntry>();
  /** tgid → tombstone of a live process evicted under size pressure. */
  readonly evictedLive = new Map<number, ProcessEntry>();
  /** Live processes and pinned exited ancestors, least recently used first. */
  readonly retained = new EntryList();
  /** Exited, needed by nobody: TTL and first eviction. */
  readonly exited = new EntryList();

  private cacheSizeLimit = 0;
  /** process_ancestry_cache_ttl in USE_TICK_NS units. */
  private ttlTicks = 0;
  /** Latest CLOCK_BOOTTIME seen, and the same in USE_TICK_NS units, rounded down and up. */
  private latestNs = 0;
  private nowTick = 0;
  private useTick = 0;
  private pinnedCount = 0;
  private tombstoneCount = 0;
  /** Bytes of the image strings entries hold (imageBytes), kept current as images change. */
  private ownedBytes = 0;

  evictionsExited = 0;
  evictionsLive = 0;
  evictionsPinned = 0;
  expired = 0;
  /** Exits learned without an exit record: pid reuse or a resync snapshot. */
  exitsInferred = 0;

  constructor(cacheSize: number, cacheTtlSeconds: number) {
    this.setBounds(cacheSize, cacheTtlSeconds);
  }

  /** New bounds (SIGHUP); a smaller size takes effect at the next maintain(). */
  setBounds(cacheSize: number, cacheTtlSeconds: number): void {
    this.cacheSizeLimit = cacheSize;
    this.ttlTicks = cacheTtlSeconds * (1e9 / USE_TICK_NS);
  }

  get cacheSize(): number {
    return this.cacheSizeLimit;
  }

  /** Latest CLOCK_BOOTTIME seen: the time of exits the store infers. */
  get nowNs(): number {
    return this.latestNs;
  }

  /** Move the store's clock to nowNs, if that is later than the latest time seen. */
  advance(nowNs: number): void {
    if (nowNs > this.latestNs) {
      this.latestNs = nowNs;
      // A use stamps the tick after it and expiry compares with the tick
      // before now, so rounding never expires anything early.
      this.nowTick = Math.floor(nowNs / USE_TICK_NS);
      this.useTick = Math.ceil(nowNs / USE_TICK_NS);
    }
  }

  /** Entries with details: live + exited + pinned; bounded by cacheSize. */
  get size(): number {
    return this.retained.length + this.exited.length;
  }

  get live(): number {
    return this.retained.length - this.pinnedCount;
  }

  get pinned(): number {
    return this.pinnedCount;
  }

  get evictions(): number {
    return this.evictionsExited + this.evictionsLive + this.evictionsPinned;
  }

  /** Removed entries still referenced by a descendant. */
  get tombstones(): number {
    return this.tombstoneCount;
  }

  get estimatedBytes(): number {
    return this.size * ENTRY_BYTES + this.tombstoneBytes + this.ownedBytes;
  }

  /** Of estimatedBytes, what tombstones hold: evicted live processes, outside what the capacity bounds. */
  get tombstoneBytes(): number {
    return (this.evictedLive.size + this.tombstoneCount) * TOMBSTONE_BYTES;
  }

  // ---- lookup ------------------------------------------------------------------

  /** The indexed entry (with details) of this identity. */
  find(tgid: number, startNs: bigint): ProcessEntry | null {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      if (e.startBoottimeNs === startNs) return e;
      e = e.olderSamePid;
    }
    return null;
  }

  findEvictedLive(tgid: number, startNs: bigint): ProcessEntry | null {
    const t = this.evictedLive.get(tgid);
    return t !== undefined && t.startBoottimeNs === startNs ? t : null;
  }

  /** An entry of this identity the store holds in any form a child can link to: indexed or an evicted tombstone. */
  findHeld(tgid: number, startNs: bigint): ProcessEntry | null {
    return this.find(tgid, startNs) ?? this.findEvictedLive(tgid, startNs);
  }

  liveByPid(tgid: number): ProcessEntry | null {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      if (e.exitBootNs === null) return e;
      e = e.olderSamePid;
    }
    return null;
  }

  /** Every live entry with details. */
  *liveEntries(): IterableIterator<ProcessEntry> {
    for (const head of this.index.values()) {
      for (let e: ProcessEntry | null = head; e !== null; e = e.olderSamePid) {
        if (e.exitBootNs === null) yield e;
      }
    }
  }

  // ---- membership --------------------------------------------------------------

  /**
   * Index and list an entry, most recently used: a new one, or an evicted
   * live one read back. Link it to its parent after, so a live one pins it.
   */
  insert(e: ProcessEntry): void {
    e.olderSamePid = this.index.get(e.pid) ?? null;
    this.index.set(e.pid, e);
    e.lastUse = this.useTick;
    if (e.exitBootNs === null) {
      e.needing = true;
      e.list = LIST_LIVE;
      this.retained.push(e);
    } else {
      e.list = LIST_EXITED;
      this.exited.push(e);
    }
  }

  private unindex(e: ProcessEntry): void {
    const head = this.index.get(e.pid);
    if (head === e) {
      if (e.olderSamePid !== null) this.index.set(e.pid, e.olderSamePid);
      else this.index.delete(e.pid);
    } else {
      let p = head ?? null;
      while (p !== null && p.olderSamePid !== e) p = p.olderSamePid;
      if (p !== null) p.olderSamePid = e.olderSamePid;
    }
    e.olderSamePid = null;
  }

  private listOf(e: ProcessEntry): EntryList | null {
    switch (e.list) {
      case LIST_LIVE: return this.retained;
      case LIST_EXITED: return this.exited;
      case LIST_PINNED: return this.retained;
      default: return null;
    }
  }

  /** Mark used: least recently used goes first, and an exited entry's TTL restarts. */
  touch(e: ProcessEntry): void {
    e.lastUse = this.useTick;
    const l = this.listOf(e);
    if (l !== null) l.moveToTail(e);
  }

  /** Before an entry's image changes: its old strings leave the byte estimate. */
  releaseImage(e: ProcessEntry): void {
    this.ownedBytes -= imageBytes(e);
  }

  /** After: the new image's strings join it. */
  holdImage(e: ProcessEntry): void {
    this.ownedBytes += imageBytes(e);
  }

  // ---- exits -------------------------------------------------------------------

  /**
   * A new pid incarnation: any live entry with this pid but another start
   * time has exited unseen (its exit record was lost, or is the reason for the
   * reuse and got here late).
   */
  retirePid(tgid: number, startNs: bigint): void {
    let e = this.index.get(tgid) ?? null;
    while (e !== null) {
      const older = e.olderSamePid;
      if (e.exitBootNs === null && e.startBoottimeNs !== startNs) this.inferExit(e, this.latestNs);
      e = older;
    }
    const t = this.evictedLive.get(tgid);
    if (t !== undefined && t.startBoottimeNs !== startNs) this.killEvictedLive(t, this.latestNs);
  }

  /** An exit known without its exit record (no status). */
  inferExit(e: ProcessEntry, exitNs: number): void {
    this.exitsInferred++;
    this.markExited(e, exitNs, null, null);
  }

  markExited(e: ProcessEntry, exitNs: number, code: number | null, signal: number | null): void {
    e.exitBootNs = exitNs;
    e.exitCode = code;
    e.exitSignal = signal;
    if (e.list !== LIST_LIVE) return;
    e.lastUse = this.useTick;
    if (e.pins > 0) {
      e.list = LIST_PINNED;
      this.pinnedCount++;
      this.retained.moveToTail(e);
    } else {
      this.retained.remove(e);
      e.list = LIST_EXITED;
      this.exited.push(e);
      this.setNeeding(e, false);
    }
  }

  /** An evicted live process turned out dead: it becomes a plain tombstone. */
  killEvictedLive(t: ProcessEntry, exitNs: number): void {
    if (this.evictedLive.get(t.pid) === t) this.evictedLive.delete(t.pid);
    t.exitBootNs = exitNs;
    this.setNeeding(t, false);
    this.unlinkParent(t);
    t.list = LIST_REMOVED;
    if (t.refs > 0) this.tombstoneCount++;
  }

  // ---- links and pins ----------------------------------------------------------

  /** Point child at parent (or at nothing), moving its ref and, if it is needing, its pin. */
  link(child: ProcessEntry, parent: ProcessEntry | null): void {
    if (child.parent === parent) return;
    this.unlinkParent(child);
    if (parent === null) return;
    child.parent = parent;
    // Share the parent's bigint: the record's copy of the same value is then garbage (24 bytes per entry).
    if (child.parentStartNs === parent.startBoottimeNs) {
      if (child.currentParentStartNs === child.parentStartNs) child.currentParentStartNs = parent.startBoottimeNs;
      child.parentStartNs = parent.startBoottimeNs;
    }
    if (parent.refs === 0 && parent.list === LIST_REMOVED) this.tombstoneCount++;
    parent.refs++;
    if (child.needing) this.addPin(parent);
  }

  private unlinkParent(child: ProcessEntry): void {
    const p = child.parent;
    if (p === null) return;
    child.parent = null;
    if (child.needing) this.dropPin(p);
    p.refs--;
    if (p.refs === 0 && p.list === LIST_REMOVED) this.tombstoneCount--;
  }

  private setNeeding(e: ProcessEntry, needing: boolean): void {
    if (e.needing === needing) return;
    e.needing = needing;
    if (e.parent === null) return;
    if (needing) this.addPin(e.parent);
    else this.dropPin(e.parent);
  }

  /** One more needing child: an exited parent becomes pinned, and needs its own parent in turn. */
  private addPin(p: ProcessEntry | null): void {
    while (p !== null) {
      p.pins++;
      if (p.pins !== 1 || p.list !== LIST_EXITED) return;
      this.exited.remove(p);
      p.list = LIST_PINNED;
      this.pinnedCount++;
      this.retained.push(p);
      p.needing = true;
      p = p.parent;
    }
  }

  /** One fewer: a pinned parent with no needing child left starts its TTL and releases its own parent. */
  private dropPin(p: ProcessEntry | null): void {
    while (p !== null) {
      p.pins--;
      if (p.pins !== 0 || p.list !== LIST_PINNED) return;
      this.retained.remove(p);
      this.pinnedCount--;
      p.list = LIST_EXITED;
      p.lastUse = this.useTick;
      this.exited.push(p);
      p.needing = false;
      p = p.parent;
    }
  }

  // ---- bounds ------------------------------------------------------------------

  /** Expire what is due and evict down to the size limit, in the retention order above. */
  maintain(): void {
    const ttl = this.ttlTicks;
    const now = this.nowTick;
    for (let h = this.exited.head; h !== null && h.lastUse + ttl <= now; h = this.exited.head) {
      this.expired++;
      this.remove(h);
    }
    while (this.retained.length + this.exited.length > this.cacheSizeLimit) {
      if (this.exited.head !== null) {
        this.evictionsExited++;
        this.remove(this.exited.head);
        continue;
      }
      const h = this.retained.head;
      if (h === null) break;
      if (h.list === LIST_LIVE) {
        this.evictionsLive++;
        this.evictLive(h);
      } else {
        this.evictionsPinned++;
        this.remove(h);
      }
    }
  }

  /** Remove an exited entry; descendants that still point here find a tombstone and report `evicted`. */
  private remove(e: ProcessEntry): void {
    const l = this.listOf(e);
    if (l !== null) l.remove(e);
    if (e.list === LIST_PINNED) this.pinnedCount--;
    this.unindex(e);
    this.setNeeding(e, false);
    this.unlinkParent(e);
    this.ownedBytes -= imageBytes(e);
    e.stripDetails();
    e.list = LIST_REMOVED;
    if (e.refs > 0) this.tombstoneCount++;
  }

  /** Evict a live process: keep identity and parent link (it still needs its ancestors), drop strings. */
  private evictLive(e: ProcessEntry): void {
    this.listOf(e)?.remove(e);
    this.unindex(e);
    const old = this.evictedLive.get(e.pid);
    if (old !== undefined) this.killEvictedLive(old, this.latestNs);
    this.ownedBytes -= imageBytes(e);
    e.stripDetails();
    e.detailsMissing = true;
    e.list = LIST_EVICTED_LIVE;
    this.evictedLive.set(e.pid, e);
  }

  /** An evicted live process read back (its details filled again): indexed and listed as live. */
  reinstate(t: ProcessEntry): void {
    this.evictedLive.delete(t.pid);
    this.insert(t);
  }
}

/** V8 one-byte string: 16-byte header, rounded to 8. Two-byte strings are undercounted; it is an estimate. */
function strBytes(s: string): number {
  return (16 + s.length + 7) & ~7;
}

/** @internal The strings an image owns: path, argv, cwd, earlier images. */
export function imageBytes(e: ProcessEntry): number {
  if (!e.ownImage) return 0;
  let n = strBytes(e.path) + strBytes(e.argvText);
  if (e.cwd !== null) n += strBytes(e.cwd);
  for (const img of e.execChain) n += 48 + strBytes(img.path) + strBytes(img.cmdline);
  return n;
}
