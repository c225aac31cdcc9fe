/**
 * Walks one exec's lineage: from the exec'ing process up its fork-time
 * parents to pid 1 (or kthreadd), bounded by process_ancestry_max_depth, and
 * says whether the result is complete and, if not, why.
 *
 * The table's parent links are object references, so a walk is pointer
 * chasing with no allocation. The kernel chain (current parents, nearest
 * first) is passed along so the table can verify a /proc read and name a
 * live ancestor exactly when its own link is missing.
 */
import type { ExecRecord } from '../collector/decode';
import type { KernelChain } from '../collector/kernel-chain';
import { PARENT_UNKNOWN, type ProcessEntry } from './process-entry';
import type { ExecLineage, IncompleteReason, MissingAncestor } from './process-view';

/** What the walk needs from the table. */
export interface LineageSource {
  readonly maxDepth: number;
  /**
   * The fork-time parent of `cur`, found and marked used; null when it cannot
   * be found. `chainIndex` is cur's position in `chain` when known (-1: the
   * exec'ing process, whose parent is chain[0]), else OFF_CHAIN.
   */
  parentOf(cur: ProcessEntry, chain: KernelChain, chainIndex: number): ProcessEntry | null;
  /** Why cur's parent could not be found. */
  gapReason(cur: ProcessEntry): IncompleteReason;
  /** cur's parent link is the kernel's current parent for a process whose fork we should have seen. */
  linkUncertain(cur: ProcessEntry): boolean;
  /** Why an ancestor in the lineage has no details (path, argv), or null when it has them. */
  detailsReason(e: ProcessEntry): IncompleteReason | null;
}

export const OFF_CHAIN = -2;

/** Where this process sits in a kernel chain, or OFF_CHAIN. */
export function findInChain(chain: KernelChain, tgid: number, startNs: bigint): number {
  const i = chain.indexOf(tgid, startNs);
  return i < 0 ? OFF_CHAIN : i;
}

/** The reused result of one exec; valid until the next record is applied, and its record's chain only while the drain pass runs (KernelChain). */
export class LineageResult implements ExecLineage {
  record: ExecRecord = null as unknown as ExecRecord;
  process: ProcessEntry = null as unknown as ProcessEntry;
  readonly ancestry: ProcessEntry[] = [];
  currentParent: ProcessEntry | null = null;
  complete = true;
  incompleteReason: IncompleteReason | null = null;
  missingAncestor: MissingAncestor | null = null;

  /** Whether the walk's first ancestor is this process; when it is not, the current parent is reported apart. */
  firstAncestorIs(pid: number, startNs: bigint): boolean {
    const a0 = this.ancestry.length > 0 ? this.ancestry[0] : null;
    return a0 !== null && a0.pid === pid && a0.startBoottimeNs === startNs;
  }
}

/**
 * Fill out.ancestry for process p. Reason precedence when several apply: a
 * gap (the walk had to stop) over a doubt the walk went past (a link that
 * may skip exited intermediates, or an ancestor whose details are missing;
 * the first one met) over the depth cap (a configured, known cut).
 */
export function walkLineage(src: LineageSource, p: ProcessEntry, chain: KernelChain, out: LineageResult): void {
  const anc = out.ancestry;
  // Overwrite in place and cut to length at the end: `length = 0` would drop
  // the backing store and regrow it, an allocation per exec.
  let n = 0;
  out.missingAncestor = null;
  const maxDepth = src.maxDepth;
  let gap: IncompleteReason | null = null;
  let doubt: IncompleteReason | null = null;
  let capped = false;
  let cur = p;
  let k = -1;
  while (cur.ppid !== 0) {
    if (n >= maxDepth) {
      capped = true;
      break;
    }
    if (doubt === null && src.linkUncertain(cur)) doubt = 'events_lost';
    const parent = src.parentOf(cur, chain, k);
    if (parent === null) {
      gap = src.gapReason(cur);
      // An unknown fork-time parent has no pid to name.
      out.missingAncestor = cur.parentFrom === PARENT_UNKNOWN ? null : { pid: cur.ppid, entityId: cur.parentEntityId };
      break;
    }
    if (n < anc.length) anc[n] = parent;
    else anc.push(parent);
    n++;
    if (doubt === null && parent.detailsMissing) doubt = src.detailsReason(parent);
    // Where cur sits in the kernel chain is worked out only on the rare path
    // that needs it (a parent known by pid alone): tracking it per step costs
    // two bigint compares per ancestor on every exec.
    k = OFF_CHAIN;
    cur = parent;
  }
  if (anc.length !== n) anc.length = n;
  const reason = gap ?? doubt ?? (capped ? 'depth_cap' : null);
  out.incompleteReason = reason;
  out.complete = reason === null;
}
