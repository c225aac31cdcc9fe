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
 * - `path` is the file that ran, as the kernel resolved it from the
 *   process's root (the interpreter of a #! script; through symlinks,
 *   relative names and PATH lookups); `execve_path` is the name exec was
 *   given (the script), `interpreted` 1 when an interpreter runs it, and
 *   `exe_deleted` 1 when the file has no name left (unlinked, memfd).
 *   Earlier versions put the name exec was given in `path`.
 * - `ancestry` is a JSON string (array, nearest parent first; elements as
 *   ancestor-json.ts renders them at process_ancestry_detail). When the walk stopped at an ancestor it could not
 *   find, missing_ancestor_pid/_entity_id name it. Epoch-ns values exceed 2^53 and are written as exact
 *   digits: quoted in string mode, raw in numerics mode.
 * - `overflows` lists what was cut: cmdline (argv over bpf_argv_max_bytes),
 *   ancestry (an ancestor's path, cmdline or cwd over
 *   process_ancestry_field_max_bytes; that element says "truncated":true),
 *   event (the line was over event_max_bytes and was written again with
 *   entity ids for ancestry and every text field cut).
 */
import type { ExecLineage, ExitEventView, ForkEventView } from '../ancestry/process-view';
import { argvTruncated } from '../collector/decode';
import { ExecFlags } from '../collector/layout';
import { AncestrydError } from '../errors';
import type { AncestryDetail } from './ancestor-json';
import { jsonContent } from './json-text';
import { LineBuffer } from './line-buffer';
import { AncestorTextCache, ancestorJsonEmbedded, flatten } from './lineage-element';
import {
  bootPrefix, CUT_ANCESTRY, eventId, execCmdline, execPath, type EventClock, type EventFormat, type EventType,
  type FieldCaps, type HostIdentity, type LineCaps, lineCaps, writeEventId,
} from './schema';
import { asctimeUtc, epochSeconds } from './time-text';

export interface OsqueryFormatOptions extends FieldCaps {
  host: HostIdentity;
  clock: EventClock;
  /** Query name per event type; defaults in DEFAULT_OSQUERY_NAMES. */
  names?: Partial<Record<EventType, string>>;
  /** osquery's --log_numerics_as_numbers; default false. */
  numerics?: boolean;
  /** osquery decorations (string → string); omitted from the line when empty. */
  decorations?: Readonly<Record<string, string>>;
  /** How much of each ancestor the lines carry (process_ancestry_detail); default full. */
  ancestryDetail?: AncestryDetail;
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
  ['env', 'empty'], ['env_count', 'empty'], ['env_size', 'empty'], ['euid', 'num'], ['exe_deleted', 'num'],
  ['execve_path', 'str'], ['fsgid', 'empty'], ['fsuid', 'empty'], ['gid', 'num'], ['interpreted', 'num'],
  ['missing_ancestor_entity_id', 'str'], ['missing_ancestor_pid', 'raw'],
  ['mnt_ns', 'num'], ['mode', 'empty'], ['mtime', 'empty'], ['overflows', 'str'], ['owner_gid', 'empty'],
  ['owner_uid', 'empty'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['pid_ns', 'num'], ['sgid', 'empty'], ['status', 'num'], ['suid', 'empty'], ['syscall', 'str'], ['tid', 'num'],
  ['time', 'num'], ['uid', 'num'], ['uptime', 'num'],
];

const FORK_COLUMNS: Columns = [
  ['clone_flags', 'num'], ['cmdline', 'str'], ['comm', 'str'], ['creator_pid', 'num'], ['eid', 'str'],
  ['entity_id', 'str'], ['overflows', 'str'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['time', 'num'], ['uid', 'num'], ['uptime', 'num'],
];

const EXIT_COLUMNS: Columns = [
  ['cmdline', 'str'], ['comm', 'str'], ['core_dumped', 'num'], ['eid', 'str'], ['entity_id', 'str'],
  ['exit_code', 'num'], ['overflows', 'str'], ['parent', 'num'], ['parent_entity_id', 'str'], ['path', 'str'], ['pid', 'num'],
  ['signal', 'num'], ['status', 'num'], ['time', 'num'], ['uptime', 'num'],
];

/**
 * The constant text between variable values: sep[0] + v0 + sep[1] + v1 …
 * + sep[n]. Names, quotes and always-empty columns are folded in here once,
 * so an event's line is about two pieces per value. Building it from fewer,
 * larger pieces matters: the line is flattened when it is encoded, at a
 * cost per piece (tools/bench/bench-sinks.ts).
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

const NS_PER_S = 1e9;

/**
 * The overflows column by what was cut: bit 0 argv (cmdline, over
 * bpf_argv_max_bytes), bit 1 an ancestor's field (ancestry), bit 2 the
 * whole line (event: over event_max_bytes, written again reduced).
 */
const OVERFLOWS: readonly string[] = Array.from({ length: 8 }, (_, bits) =>
  ['cmdline', 'ancestry', 'event'].filter((_n, i) => (bits & (1 << i)) !== 0).join(','));
const ANCESTRY_OPEN = Buffer.from('"[');
const ANCESTRY_CLOSE = Buffer.from(']"');
const COMMA = Buffer.from(',');

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
  /** EXEC_COLUMNS' separators as bytes: the exec line is written, not concatenated. */
  private readonly execSep: readonly Buffer[];
  private readonly forkSep: readonly string[];
  private readonly exitSep: readonly string[];
  /** Lineage elements as UTF-8, pre-escaped: the column is a JSON string holding the array. */
  private readonly ancestors: AncestorTextCache<Buffer>;
  private readonly prefixSec: Record<EventType, number> = { exec: NaN, exec_failed: NaN, fork: NaN, exit: NaN };
  private readonly prefixText: Record<EventType, string> = { exec: '', exec_failed: '', fork: '', exit: '' };
  private readonly prefixBytes: Record<EventType, Buffer> = {
    exec: Buffer.alloc(0), exec_failed: Buffer.alloc(0), fork: Buffer.alloc(0), exit: Buffer.alloc(0),
  };
  /** For exec(): the string form of writeExec(). */
  private readonly scratch = new LineBuffer(16 * 1024);
  /** Ancestors' and the event's own text fields. */
  private readonly caps: LineCaps;
  lastCut = 0;

  constructor(opts: OsqueryFormatOptions) {
    const detail = opts.ancestryDetail ?? 'full';
    const caps = lineCaps(opts);
    this.caps = caps;
    this.ancestors = new AncestorTextCache((v) => Buffer.from(ancestorJsonEmbedded(v, detail, caps.ancestor), 'utf8'), 8192, caps.ancestor);
    this.clock = opts.clock;
    this.boot = bootPrefix(opts.clock.bootId);
    const numerics = opts.numerics ?? false;
    this.q = numerics ? '' : '"';
    this.execSep = separators(EXEC_COLUMNS, numerics).map((t) => Buffer.from(t, 'utf8'));
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
      this.prefixBytes[type] = Buffer.from(this.prefixText[type], 'utf8');
      this.prefixSec[type] = sec;
    }
    return this.prefixText[type];
  }

  exec(l: ExecLineage): string {
    const b = this.scratch;
    b.reset();
    this.writeExec(l, b);
    b.end(0);
    return b.text(0);
  }

  writeExec(l: ExecLineage, out: LineBuffer): void {
    const r = l.record;
    const p = l.process;
    const S = this.execSep;
    const failed = r.kind === 'exec_failed';
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    const own = this.caps.own;
    const path = own.text(execPath(l));
    const fullCmdline = execCmdline(l);
    const cmdline = own.text(fullCmdline);
    const truncated = failed ? argvTruncated(r) : p.argvTruncated;
    const missing = l.missingAncestor;
    this.prefix(r.kind, sec);
    out.bytes(this.prefixBytes[r.kind]);
    // Values in EXEC_COLUMNS order; S[k] is the text before the k-th value.
    let k = 0;
    out.bytes(S[k++]);
    out.bytes(ANCESTRY_OPEN);
    const a = l.ancestry;
    const cache = this.ancestors;
    cache.truncated = false;
    for (let i = 0; i < a.length; i++) {
      if (i > 0) out.bytes(COMMA);
      out.bytes(cache.get(a[i]));
    }
    out.bytes(ANCESTRY_CLOSE);
    const cut = (cache.truncated ? CUT_ANCESTRY : 0) | this.caps.reduced;
    this.lastCut = cut;
    out.bytes(S[k++]); out.int(l.complete ? 1 : 0);
    out.bytes(S[k++]); out.ascii(l.incompleteReason ?? '');
    out.bytes(S[k++]); out.int(truncated ? 1 : 0);
    out.bytes(S[k++]); out.int(r.loginuid);
    out.bytes(S[k++]); out.u64(r.cgroupId);
    out.bytes(S[k++]); const written = out.json(cmdline);
    // osquery's cmdline_size: the command line's own size, also when the column holds less of it.
    out.bytes(S[k++]); out.int(cmdline === fullCmdline ? written : Buffer.byteLength(fullCmdline, 'utf8'));
    out.bytes(S[k++]); out.json(r.comm);
    out.bytes(S[k++]); out.int(p.currentPpid);
    out.bytes(S[k++]); out.json(p.currentParentEntityId ?? '');
    out.bytes(S[k++]); out.json(own.text(p.cwd ?? ''));
    out.bytes(S[k++]); out.int(r.egid);
    out.bytes(S[k++]); writeEventId(out, this.boot, r.kind, r.ktimeNs, r.tid);
    out.bytes(S[k++]); out.json(p.entityId);
    out.bytes(S[k++]); out.int(r.euid);
    out.bytes(S[k++]); out.int(r.flags & ExecFlags.ET_EXEC_EXE_DELETED ? 1 : 0);
    out.bytes(S[k++]); out.json(own.text(r.filename));
    out.bytes(S[k++]); out.int(r.gid);
    out.bytes(S[k++]); out.int(r.flags & ExecFlags.ET_EXEC_INTERPRETED ? 1 : 0);
    out.bytes(S[k++]); out.json(missing === null ? '' : missing.entityId ?? '');
    out.bytes(S[k++]);
    if (missing === null) out.ascii('""');
    else {
      out.ascii(this.q);
      out.int(missing.pid);
      out.ascii(this.q);
    }
    out.bytes(S[k++]); out.int(r.mntNs);
    out.bytes(S[k++]); out.ascii(OVERFLOWS[(truncated ? 1 : 0) | (cut << 1)]);
    out.bytes(S[k++]); out.int(p.ppid);
    out.bytes(S[k++]); out.json(p.parentEntityId ?? '');
    out.bytes(S[k++]); out.json(path);
    out.bytes(S[k++]); out.int(r.tgid);
    out.bytes(S[k++]); out.int(r.pidNs);
    out.bytes(S[k++]); out.int(failed ? -r.ret : 0);
    out.bytes(S[k++]); out.ascii('exec');
    out.bytes(S[k++]); out.int(r.tid);
    out.bytes(S[k++]); out.int(sec);
    out.bytes(S[k++]); out.int(r.uid);
    out.bytes(S[k++]); out.int(Math.floor(r.ktimeNs / NS_PER_S));
    out.bytes(S[k]);
  }

  writeFork(f: ForkEventView, out: LineBuffer): void {
    out.utf8(this.fork(f));
  }

  writeExit(e: ExitEventView, out: LineBuffer): void {
    out.utf8(this.exit(e));
  }

  fork(f: ForkEventView): string {
    const r = f.record;
    const p = f.process;
    const S = this.forkSep;
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    this.lastCut = this.caps.reduced;
    return this.prefix('fork', sec)
      + S[0] + r.cloneFlags
      + S[1] + jsonContent(this.caps.own.text(p.cmdline))
      + S[2] + jsonContent(r.comm)
      + S[3] + r.creatorTgid
      + S[4] + eventId(this.boot, 'fork', r.ktimeNs, r.childTgid)
      + S[5] + jsonContent(p.entityId)
      + S[6] + OVERFLOWS[this.caps.reduced << 1]
      + S[7] + r.parentTgid
      + S[8] + jsonContent(f.parent?.entityId ?? p.parentEntityId ?? '')
      + S[9] + jsonContent(this.caps.own.text(p.path))
      + S[10] + r.childTgid
      + S[11] + sec
      + S[12] + r.uid
      + S[13] + Math.floor(r.ktimeNs / NS_PER_S)
      + S[14];
  }

  exit(e: ExitEventView): string {
    const r = e.record;
    const p = e.process;
    const S = this.exitSep;
    const sec = epochSeconds(this.clock.epochNs(BigInt(r.ktimeNs)));
    this.lastCut = this.caps.reduced;
    return this.prefix('exit', sec)
      + S[0] + jsonContent(this.caps.own.text(p.cmdline))
      + S[1] + jsonContent(r.comm)
      + S[2] + (r.coreDumped ? 1 : 0)
      + S[3] + eventId(this.boot, 'exit', r.ktimeNs, r.tgid)
      + S[4] + jsonContent(p.entityId)
      + S[5] + r.exitCode
      + S[6] + OVERFLOWS[this.caps.reduced << 1]
      + S[7] + r.ppid
      + S[8] + jsonContent(p.parentEntityId ?? '')
      + S[9] + jsonContent(this.caps.own.text(p.path))
      + S[10] + r.tgid
      + S[11] + r.signal
      + S[12] + r.status
      + S[13] + sec
      + S[14] + Math.floor(r.ktimeNs / NS_PER_S)
      + S[15];
  }
}
