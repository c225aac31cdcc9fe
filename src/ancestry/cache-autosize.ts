/**
 * process_ancestry_cache_size=auto: the table's capacity follows what the
 * daemon measures instead of a number an operator re-tunes by hand (the
 * replaced system's hourly tune_cache.sh raised it when the hit rate fell
 * below 90 %, an hour late).
 *
 * What must fit is known exactly: live processes and exited ancestors that
 * live descendants still need (pinned). Evicting one of those costs a /proc
 * read or an incomplete lineage; evicting a finished exited process costs
 * nothing. So the capacity aims at needed × 1.5 plus room for recently
 * exited processes, grows at once — doubling — when a needed entry was
 * evicted, and shrinks only after a minute of being twice too large, by a
 * fifth at a time, so a burst's churn does not make it flap. It never
 * exceeds what the memory budget (process_ancestry_cache_max_bytes) holds
 * at the table's measured bytes per entry. The budget bounds the entries
 * with details; a live process evicted for want of room keeps a ~0.5 KB
 * tombstone outside it (it is re-read from /proc when needed).
 */
import { CACHE_SIZE_RANGE } from './table';

/** Room for exited, unneeded entries (recent exits stay for process_ancestry_cache_ttl). */
const EXITED_ROOM = 1024;
const MIN_CAPACITY = 4096;
/** Ticks (housekeeping seconds) a capacity must be twice too large before it shrinks. */
const SHRINK_AFTER_TICKS = 60;
/** Bytes per entry assumed before the table has entries to measure (its own estimate's base). */
const FALLBACK_ENTRY_BYTES = 700;

/** What the sizer reads from the table's stats each tick. */
export interface CacheLoad {
  live: number;
  pinned: number;
  /** Entries held (live + exited + pinned). */
  size: number;
  /** Evictions of live and pinned entries so far (monotonic). */
  neededEvictions: number;
  estimatedBytes: number;
  /** Of estimatedBytes, what the capacity does not bound (tombstones of evicted live processes). */
  outsideBytes: number;
}

export interface CacheSizeChange {
  from: number;
  to: number;
  reason: 'needed_evicted' | 'grow' | 'shrink' | 'budget';
}

export class CacheAutoSizer {
  capacity: number;
  /** The memory budget bounded the last change (or holds the capacity below what is needed). */
  limitedByBudget = false;
  private lastNeededEvictions = 0;
  private oversizedTicks = 0;

  /** `budgetBytes`: process_ancestry_cache_max_bytes (SIGHUP may change it). */
  constructor(public budgetBytes: number, initialCapacity = MIN_CAPACITY) {
    this.capacity = clampCapacity(initialCapacity);
  }

  /** Capacity before a bootstrap of `processes` live processes: all of them, with room. */
  forBootstrap(processes: number): number {
    this.capacity = this.bounded(Math.max(this.capacity, target(processes, 0)), FALLBACK_ENTRY_BYTES);
    return this.capacity;
  }

  /** One housekeeping tick: the new capacity and why, or null when it stays. */
  tick(load: CacheLoad): CacheSizeChange | null {
    const evicted = load.neededEvictions - this.lastNeededEvictions;
    this.lastNeededEvictions = load.neededEvictions;
    const perEntry = load.size > 0 ? Math.max(64, (load.estimatedBytes - load.outsideBytes) / load.size) : FALLBACK_ENTRY_BYTES;
    const want = target(load.live, load.pinned);
    let next = this.capacity;
    let reason: CacheSizeChange['reason'] = 'grow';
    if (evicted > 0) {
      next = Math.max(want, this.capacity * 2);
      reason = 'needed_evicted';
    } else if (want > this.capacity) {
      next = want;
    } else if (this.capacity > 2 * want && this.capacity > MIN_CAPACITY) {
      if (++this.oversizedTicks >= SHRINK_AFTER_TICKS) {
        next = Math.max(want, MIN_CAPACITY, Math.floor(this.capacity * 0.8));
        reason = 'shrink';
        this.oversizedTicks = 0;
      }
    } else {
      this.oversizedTicks = 0;
    }
    const bounded = this.bounded(next, perEntry);
    this.limitedByBudget = bounded < next || bounded < want;
    if (bounded < next && bounded !== this.capacity) reason = 'budget';
    if (bounded === this.capacity) return null;
    const change = { from: this.capacity, to: bounded, reason };
    this.capacity = bounded;
    return change;
  }

  private bounded(n: number, perEntry: number): number {
    return clampCapacity(Math.min(n, Math.floor(this.budgetBytes / perEntry)));
  }
}

function target(live: number, pinned: number): number {
  return Math.max(MIN_CAPACITY, Math.ceil((live + pinned) * 1.5) + EXITED_ROOM);
}

function clampCapacity(n: number): number {
  return Math.min(CACHE_SIZE_RANGE[1], Math.max(CACHE_SIZE_RANGE[0], Math.floor(n)));
}
