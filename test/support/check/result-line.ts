/**
 * Reads one line of the daemon's osquery result log (src/events/osquery-result.ts)
 * into what the checker compares: the exec'ing process, its ancestry as
 * (pid, ticks) pairs, the completeness flags, the current parent, and the
 * kernel timestamp carried by the eid. Works with logger_numerics on or off.
 *
 * Ticks come from start_boottime (ns) as floor(ns / 1e7). Every element's
 * entity_id ("<boot>-<start ns>-<tgid>", test/support/entity-id.ts) must be
 * in that form and agree with its pid and start_boottime; a disagreement is
 * reported, not resolved.
 */
import { parseEntityId } from '../entity-id';
import { NS_PER_TICK } from '../proc-stat';
import type { PidTicks } from './truth';

export interface ObservedExec {
  /** The generator's tag: the last word of cmdline. */
  tag: string;
  kind: 'exec' | 'exec_failed';
  pid: number;
  /** Start ticks of the exec'ing process, from its entity_id; null when unreadable. */
  startTicks: number | null;
  ancestry: PidTicks[];
  /** Elements whose entity_id disagrees with their pid or start_boottime ("index: detail"). */
  inconsistent: string[];
  complete: boolean;
  incompleteReason: string;
  currentParent: number;
}

export interface ResultLine {
  /** The eid's CLOCK_BOOTTIME ns; null when the line has no eid. */
  ktimeNs: bigint | null;
  /** The query name ("process_events", …). */
  name: string;
  /** Set when the line is an exec / exec_failed of a process tagged `<tagPrefix>-…`. */
  exec: ObservedExec | null;
}

type Columns = Record<string, string | number | undefined>;

function num(v: string | number | undefined): number {
  return typeof v === 'number' ? v : v === undefined || v === '' ? NaN : Number(v);
}

/** The kernel time of an eid "<boot8>-<ktime ns>-<tid>-<kind>". */
export function eidKtimeNs(eid: string): bigint | null {
  const m = /^[0-9a-f]+-(\d+)-\d+-\d+$/.exec(eid);
  return m ? BigInt(m[1]) : null;
}

function ticksOf(ns: bigint): number {
  return Number(ns / NS_PER_TICK);
}

/** start_boottime as exact ns: decimal strings always; JSON numbers only while exact. */
function exactNs(v: unknown): bigint | null {
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return null;
}

/**
 * The tag: the last space-separated word of the command line, when it is
 * procgen's "<prefix>-<worker>-<seq>-<pid>" (procgen's own command line may
 * end with "--tag <prefix>": not a tag).
 */
export function tagOf(cmdline: string, tagPrefix: string): string | null {
  const word = cmdline.slice(cmdline.lastIndexOf(' ') + 1);
  return word.startsWith(tagPrefix + '-') && /-\d+-\d+-\d+$/.test(word) ? word : null;
}

/** Parses one result-log line; throws on a line that is not JSON (the caller counts it). */
export function parseResultLine(line: string, tagPrefix: string): ResultLine {
  const row = JSON.parse(line) as { name?: string; columns?: Columns };
  const c = row.columns ?? {};
  const eid = typeof c.eid === 'string' ? c.eid : '';
  const out: ResultLine = { ktimeNs: eid === '' ? null : eidKtimeNs(eid), name: row.name ?? '', exec: null };
  if (c.syscall !== 'exec' || typeof c.cmdline !== 'string') return out;
  const tag = tagOf(c.cmdline, tagPrefix);
  if (tag === null) return out;

  const self = typeof c.entity_id === 'string' ? parseEntityId(c.entity_id) : null;
  const ancestry: PidTicks[] = [];
  const inconsistent: string[] = [];
  const elements = JSON.parse(typeof c.ancestry === 'string' && c.ancestry !== '' ? c.ancestry : '[]') as Record<string, unknown>[];
  elements.forEach((e, i) => {
    const pid = Number(e.pid);
    const ent = typeof e.entity_id === 'string' ? parseEntityId(e.entity_id) : null;
    if (typeof e.entity_id === 'string' && ent === null) inconsistent.push(`${i}: entity_id ${e.entity_id} is not <boot id>-<start ns>-<tgid>`);
    let ns = exactNs(e.start_boottime);
    if (ent !== null) {
      if (ent.tgid !== pid) inconsistent.push(`${i}: entity_id ${String(e.entity_id)} names pid ${ent.tgid}, element pid ${pid}`);
      if (ns !== null && ns !== ent.startNs) inconsistent.push(`${i}: entity_id start ${ent.startNs} != start_boottime ${ns}`);
      if (ns === null) ns = ent.startNs; // a JSON number past 2^53: the entity id holds the exact value
    }
    ancestry.push([pid, ns === null ? NaN : ticksOf(ns)]);
  });
  const status = num(c.status);
  out.exec = {
    tag,
    kind: status !== 0 && !Number.isNaN(status) ? 'exec_failed' : 'exec',
    pid: num(c.pid),
    startTicks: self === null ? null : ticksOf(self.startNs),
    ancestry,
    inconsistent,
    complete: num(c.ancestry_complete) === 1,
    incompleteReason: typeof c.ancestry_incomplete_reason === 'string' ? c.ancestry_incomplete_reason : '',
    currentParent: num(c.current_parent),
  };
  return out;
}
