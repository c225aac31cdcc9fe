/**
 * osquery result log format: one JSON line per event, as osqueryd logs a row
 * of an evented query ("action":"added"), so pipelines and FleetDM that
 * ingest osquery results take ours unchanged.
 *
 *   {"name","hostIdentifier","calendarTime","unixTime","epoch","counter",
 *    "numerics","decorations"?,"columns":{...},"action":"added"}
 *
 * - unixTime/calendarTime are the event's time (osquery uses the time the
 *   scheduled query ran, at most a few seconds later; the event's own time is
 *   more useful and is also in the `time` column).
 * - epoch and counter are 0: osquery uses them for differential results of
 *   scheduled queries; evented rows are always "added" with counter 0.
 * - columns come sorted by name, as osquery's row map emits them. Values are
 *   strings, or numbers when `numerics` is on (osquery's
 *   --log_numerics_as_numbers). An unknown value is "" in both modes.
 * - `ancestry` is a JSON string (array, nearest parent first; see
 *   lineage-element.ts). When the walk stopped at an ancestor it could not
 *   find, missing_ancestor_pid/_entity_id name it. Epoch-ns values exceed 2^53 and are written as exact
 *   digits: quoted in string mode, raw in numerics mode.
 */
import type { ExecLineage, ExitEventView, ForkEventView } from '../ancestry/process-view';
import { argvTruncated } from '../collector/decode';
import { AncestrydError } from '../errors';
import { jsonString } from './json-text';
import { AncestorTextCache, ancestorJsonEmbedded, flatten, joinAncestry } from './lineage-element';
import {
  bootPrefix, eventId, type EventClock, type EventFormat, type EventType, type HostIdentity,
} from './schema';
import { asctimeUtc, epochSeconds } from './time-text';

export interface OsqueryFormatOptions {
  host: HostIdentity;
  clock: EventClock;
  /** Query name per event type; defaults in DEFAULT_OSQUERY_NAMES. */
  names?: Partial<Record<EventType, string>>;
  /** osquery's --log_numerics_as_numbers; default false. */
  numerics?: boolean;
  /** osquery decorations (string → string); omitted from the line when empty. */
  decorations?: Readonly<Record<string, string>>;
}

export const DEFAULT_OSQUERY_NAMES: Readonly<Record<EventType, string>> = {
  exec: 'process_events',
  exec_failed: 'process_events',
  fork: 'process_fork_events',
  exit: 'process_exit_events',
};

/**
 * A column's value kind, which decides the constant text around it:
 * str  escaped string content (jsonContent), always quoted
 * num  a number, quoted unless numerics
 * raw  a complete JSON value (the ancestry string, "" or a number)
 * empty  always "" (folded into the constant text)
 */
type ColumnKind = 'str' | 'num' | 'raw' | 'empty';
type Columns = readonly (readonly [string, ColumnKind])[];

const EXEC_COLUMNS: Columns = [
  ['ancestry', 'raw'], ['ancestry_complete', 'num'], ['ancestry_incomplete_reason', 'str'], ['argv_truncated', 'num'],
  ['atime', 'empty'], ['auid', 'num'], ['btime', 'empty'], ['cgroup_id', 'num'], ['cmdline', 'str'],
  ['cmdline_size', 'num'], ['comm', 'str'], ['ctime', 'empty'], ['current_parent', 'num'],
  ['current_parent_entity_id', 'str'], ['cwd', 'str'], ['egid', 'num'], ['eid', 'str'], ['entity_id', 'str'],
  ['env', 'empty'], ['env_count', 'empty'], ['env_size', 'empty'], ['euid', 'num'], ['fsgid', 'empty'],
  ['fsuid', 'empty'], ['gid', 'num'], ['missing_ancestor_entity_id', 'str'], ['missing_ancestor_pid', 'raw'],
  ['mnt_ns', 'num'], ['mode', 'empty'], ['mtime', 'empty'], ['overflows', 'str'], ['owner_gid', 'empty'],
  ['owner_uid', 'empty'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['pid_ns', 'num'], ['sgid', 'empty'], ['status', 'num'], ['suid', 'empty'], ['syscall', 'str'], ['tid', 'num'],
  ['time', 'num'], ['uid', 'num'], ['uptime', 'num'],
];

const FORK_COLUMNS: Columns = [
  ['clone_flags', 'num'], ['cmdline', 'str'], ['comm', 'str'], ['creator_pid', 'num'], ['eid', 'str'],
  ['entity_id', 'str'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['time', 'num'], ['uid', 'num'], ['uptime', 'num'],
];

const EXIT_COLUMNS: Columns = [
  ['cmdline', 'str'], ['comm', 'str'], ['core_dumped', 'num'], ['eid', 'str'], ['entity_id', 'str'],
  ['exit_code', 'num'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['signal', 'num'], ['status', 'num'], ['time', 'num'], ['uptime', 'num'],
];

/** Every column name of process_events rows we emit, in emitted (sorted) order. */
export const OSQUERY_EXEC_COLUMNS: readonly string[] = EXEC_COLUMNS.map(([n]) => n);

/**
 * The constant text between variable values: sep[0] + v0 + sep[1] + v1 …
 * + sep[n]. Names, quotes and always-empty columns are folded in here once,
 * so an event's line is about two pieces per value. Building it from fewer,
 * larger pieces matters: the line is flattened when it is encoded, at a
 * cost per piece (tools/loadgen/bench-sinks.ts).
 */
function separators(columns: Columns, numerics: boolean): string[] {
  const out: string[] = [];
  let pending = '';
  let close = '';
  columns.forEach(([name, kind], i) => {
    const key = close + (i === 0 ? '' : ',') + '"' + name + '":';
    close = '';
    if (kind === 'empty') {
      pending += key + '""';
      return;
    }
    const quoted = kind === 'str' || (kind === 'num' && !numerics);
    out.push(pending + key + (quoted ? '"' : ''));
    pending = '';
    close = quoted ? '"' : '';
  });
  out.push(pending + close + '},"action":"added"}');
  return out;
}

/** Escaped content of a JSON string, without its quotes. */
function jsonContent(s: string): string {
  const j = jsonString(s);
  return j.length === s.length + 2 ? s : j.slice(1, j.length - 1);
}

const NS_PER_S = 1e9;

export class OsqueryResultFormat implements EventFormat {
  readonly name = 'osquery' as const;
  private readonly clock: EventClock;
  private readonly boot: string;
  /** '"' in string mode, '' in numerics mode, for numbers inside raw columns. */
  private readonly q: string;
  /** Everything before calendarTime's value, per event type. */
  private readonly head: Readonly<Record<EventType, string>>;
  /** From after unixTime's value up to and including `"columns":{`. */
  private readonly mid: string;
  private readonly execSep: readonly string[];
  private readonly forkSep: readonly string[];
  private readonly exitSep: readonly string[];
  /** Lineage elements, pre-escaped: the column is a JSON string holding the array. */
  private readonly ancestors = new AncestorTextCache(ancestorJsonEmbedded);
  private readonly prefixSec: Record<EventType, number> = { exec: NaN, exec_failed: NaN, fork: NaN, exit: NaN };
  private readonly prefixText: Record<EventType, string> = { exec: '', exec_failed: '', fork: '', exit: '' };

  constructor(opts: OsqueryFormatOptions) {
    this.clock = opts.clock;
    this.boot = bootPrefix(opts.clock.bootId);
    const numerics = opts.numerics ?? false;
    this.q = numerics ? '' : '"';
    this.execSep = separators(EXEC_COLUMNS, numerics);
    this.forkSep = separators(FORK_COLUMNS, numerics);
    this.exitSep = separators(EXIT_COLUMNS, numerics);
    const names = { ...DEFAULT_OSQUERY_NAMES, ...opts.names };
    const host = ',"hostIdentifier":' + JSON.stringify(opts.host.hostIdentifier) + ',"calendarTime":"';
    const head = {} as Record<EventType, string>;
    for (const t of Object.keys(DEFAULT_OSQUERY_NAMES) as EventType[]) {
      if (typeof names[t] !== 'string' || names[t] === '') {
        throw new AncestrydError('ANC_CONFIG_INVALID', `osquery result name for ${t} events must be a non-empty string`);
      }
      head[t] = '{"name":' + JSON.stringify(names[t]) + host;
    }
    this.head = head;
    let decorations = '';
    const entries = Object.entries(opts.decorations ?? {});
    if (entries.length > 0) {
      for (const [k, v] of entries) {
        if (typeof v !== 'string') {
          throw new AncestrydError('ANC_CONFIG_INVALID', `decorations.${k}: expected a string, got ${typeof v}`);
        }
      }
      decorations = ',"decorations":{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + JSON.stringify(v)).join(',') + '}';
    }
    this.mid = ',"epoch":0,"counter":0,"numerics":' + numerics + decorations + ',"columns":{';
  }

  /** `{"name":…,"calendarTime":…,"unixTime":…,…,"columns":{` for an event at `sec`; one flat string per second. */
  private prefix(type: EventType, sec: number): string {
    if (this.prefixSec[type] !== sec) {
      this.prefixText[type] = flatten(this.head[type] + asctimeUtc(sec) + '","unixTime":' + sec + this.mid);
      this.prefixSec[type] = sec;
    }
    return this.prefixText[type];
  }

  exec(l: ExecLineage): string {
    const r = l.record;
    const p = l.process;
    const S = this.execSep;
    const failed = r.kind === 'exec_failed';
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    const path = failed || p.path === '' ? r.filename : p.path;
    const cmdline = failed ? r.argv.join(' ') : p.cmdline;
    const truncated = failed ? argvTruncated(r) : p.argvTruncated;
    const missing = l.missingAncestor;
    // Values in EXEC_COLUMNS order.
    return this.prefix(r.kind, sec)
      + S[0] + joinAncestry(this.ancestors, l.ancestry, '"[', ',', ']"')
      + S[1] + (l.complete ? 1 : 0)
      + S[2] + (l.incompleteReason ?? '')
      + S[3] + (truncated ? 1 : 0)
      + S[4] + r.loginuid
      + S[5] + r.cgroupId
      + S[6] + jsonContent(cmdline)
      + S[7] + Buffer.byteLength(cmdline, 'utf8')
      + S[8] + jsonContent(r.comm)
      + S[9] + p.currentPpid
      + S[10] + jsonContent(p.currentParentEntityId ?? '')
      + S[11] + jsonContent(p.cwd ?? '')
      + S[12] + r.egid
      + S[13] + eventId(this.boot, r.kind, r.ktimeNs, r.tid)
      + S[14] + jsonContent(p.entityId)
      + S[15] + r.euid
      + S[16] + r.gid
      + S[17] + (missing === null ? '' : jsonContent(missing.entityId ?? ''))
      + S[18] + (missing === null ? '""' : this.q + missing.pid + this.q)
      + S[19] + r.mntNs
      + S[20] + (truncated ? 'cmdline' : '')
      + S[21] + p.ppid
      + S[22] + jsonContent(p.parentEntityId ?? '')
      + S[23] + jsonContent(path)
      + S[24] + r.tgid
      + S[25] + r.pidNs
      + S[26] + (failed ? -r.ret : 0)
      + S[27] + 'exec'
      + S[28] + r.tid
      + S[29] + sec
      + S[30] + r.uid
      + S[31] + Math.floor(r.ktimeNs / NS_PER_S)
      + S[32];
  }

  fork(f: ForkEventView): string {
    const r = f.record;
    const p = f.process;
    const S = this.forkSep;
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    return this.prefix('fork', sec)
      + S[0] + r.cloneFlags
      + S[1] + jsonContent(p.cmdline)
      + S[2] + jsonContent(r.comm)
      + S[3] + r.creatorTgid
      + S[4] + eventId(this.boot, 'fork', r.ktimeNs, r.childTgid)
      + S[5] + jsonContent(p.entityId)
      + S[6] + r.parentTgid
      + S[7] + jsonContent(f.parent?.entityId ?? p.parentEntityId ?? '')
      + S[8] + jsonContent(p.path)
      + S[9] + r.childTgid
      + S[10] + sec
      + S[11] + r.uid
      + S[12] + Math.floor(r.ktimeNs / NS_PER_S)
      + S[13];
  }

  exit(e: ExitEventView): string {
    const r = e.record;
    const p = e.process;
    const S = this.exitSep;
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    return this.prefix('exit', sec)
      + S[0] + jsonContent(p.cmdline)
      + S[1] + jsonContent(r.comm)
      + S[2] + (r.coreDumped ? 1 : 0)
      + S[3] + eventId(this.boot, 'exit', r.ktimeNs, r.tgid)
      + S[4] + jsonContent(p.entityId)
      + S[5] + r.exitCode
      + S[6] + r.ppid
      + S[7] + jsonContent(p.parentEntityId ?? '')
      + S[8] + jsonContent(p.path)
      + S[9] + r.tgid
      + S[10] + r.signal
      + S[11] + r.status
      + S[12] + sec
      + S[13] + Math.floor(r.ktimeNs / NS_PER_S)
      + S[14];
  }
}
