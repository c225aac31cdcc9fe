/**
 * Renders one lineage element (an ancestor) as the "ancestry" array carries
 * it. Stand-in until the ancestry engine publishes its own renderer: swap
 * both functions together; formats only call ancestorJson().
 *
 * Field names follow osquery's process ancestry (exe_name, pid, ppid, path,
 * cmdline, proc_time, proc_time_hr) plus our identity fields. Unknown strings
 * are "" (never null) so SQL-minded consumers need no null handling.
 */
import type { ProcessView } from '../ancestry/process-view';
import { embeddedJsonString, jsonString } from './json-text';
import type { EventClock } from './schema';

export interface AncestorFields {
  exe_name: string;
  pid: number;
  ppid: number;
  path: string;
  cmdline: string;
  /** Start, epoch seconds. */
  proc_time: number;
  /** Start, epoch ns: above 2^53, so serialized as exact digits. */
  proc_time_hr: bigint;
  entity_id: string;
  parent_entity_id: string;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  auid: number;
  /** start_boottime ns (CLOCK_BOOTTIME). */
  start_boottime: bigint;
  comm: string;
  cwd: string;
  argv_truncated: boolean;
  exited: boolean;
  source: ProcessView['source'];
}

const NS_PER_S = 1_000_000_000n;

export function exeName(view: ProcessView): string {
  const p = view.path;
  if (p === '') return view.comm;
  const slash = p.lastIndexOf('/');
  return slash < 0 ? p : p.slice(slash + 1);
}

/** The lineage element as an object (tests, non-hot-path consumers). */
export function ancestorFields(view: ProcessView, _clock?: EventClock): AncestorFields {
  return {
    exe_name: exeName(view),
    pid: view.pid,
    ppid: view.ppid,
    path: view.path,
    cmdline: view.cmdline,
    proc_time: Number(view.startEpochNs / NS_PER_S),
    proc_time_hr: view.startEpochNs,
    entity_id: view.entityId,
    parent_entity_id: view.parentEntityId ?? '',
    uid: view.uid,
    gid: view.gid,
    euid: view.euid,
    egid: view.egid,
    auid: view.loginuid,
    start_boottime: view.startBoottimeNs,
    comm: view.comm,
    cwd: view.cwd ?? '',
    argv_truncated: view.argvTruncated,
    exited: view.exitBootNs !== null,
    source: view.source,
  };
}

/**
 * Exactly ancestorFields() as JSON text, written directly (hot path: no
 * intermediate object, bigints as exact digits).
 */
export function ancestorJson(view: ProcessView, _clock?: EventClock): string {
  return writeAncestor(view, PLAIN_KEYS, jsonString);
}

/**
 * ancestorJson() already escaped for embedding in a JSON string (osquery's
 * ancestry column): equal to JSON.stringify(ancestorJson(v)) without its
 * outer quotes, but written in one pass.
 */
export function ancestorJsonEmbedded(view: ProcessView, _clock?: EventClock): string {
  return writeAncestor(view, EMBEDDED_KEYS, embeddedJsonString);
}

const KEYS = [
  'exe_name', 'pid', 'ppid', 'path', 'cmdline', 'proc_time', 'proc_time_hr', 'entity_id', 'parent_entity_id', 'uid',
  'gid', 'euid', 'egid', 'auid', 'start_boottime', 'comm', 'cwd', 'argv_truncated', 'exited', 'source',
];

/** `{"key":` then `,"key":` …, and the same with every quote escaped. */
function keyTable(q: string): string[] {
  return KEYS.map((k, i) => (i === 0 ? '{' : ',') + q + k + q + ':');
}
const PLAIN_KEYS = keyTable('"');
const EMBEDDED_KEYS = keyTable('\\"');

function writeAncestor(view: ProcessView, k: readonly string[], str: (s: string) => string): string {
  const q = k === PLAIN_KEYS ? '"' : '\\"';
  return k[0] + str(exeName(view))
    + k[1] + view.pid
    + k[2] + view.ppid
    + k[3] + str(view.path)
    + k[4] + str(view.cmdline)
    + k[5] + (view.startEpochNs / NS_PER_S)
    + k[6] + view.startEpochNs
    + k[7] + str(view.entityId)
    + k[8] + str(view.parentEntityId ?? '')
    + k[9] + view.uid
    + k[10] + view.gid
    + k[11] + view.euid
    + k[12] + view.egid
    + k[13] + view.loginuid
    + k[14] + view.startBoottimeNs
    + k[15] + str(view.comm)
    + k[16] + str(view.cwd ?? '')
    + k[17] + view.argvTruncated
    + k[18] + (view.exitBootNs !== null)
    + k[19] + q + view.source + q + '}';
}

/** The ancestry array as JSON text, nearest parent first. */
export function ancestryJson(ancestry: readonly ProcessView[], clock?: EventClock): string {
  const n = ancestry.length;
  if (n === 0) return '[]';
  let out = '[' + ancestorJson(ancestry[0], clock);
  for (let i = 1; i < n; i++) out += ',' + ancestorJson(ancestry[i], clock);
  return out + ']';
}

interface CachedText {
  entityId: string;
  parentEntityId: string | null;
  ppid: number;
  path: string;
  cmdline: string;
  comm: string;
  cwd: string | null;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  argvTruncated: boolean;
  exitBootNs: number | null;
  source: ProcessView['source'];
  text: string;
}

/**
 * Rendered text of lineage elements, reused while the element's rendered
 * fields are unchanged. The same shells and daemons are ancestors of most
 * execs, and rendering one costs far more than comparing its fields
 * (tools/loadgen/bench-sinks.ts: 1024 distinct lineages in rotation format
 * about 6× faster). Keyed by entity id, holding copies of the compared
 * values and never the view; checked field by field on every use, so an
 * ancestor that exec'd, exited, got its /proc details late or had its
 * credentials changed is rendered afresh. Bounded: past `maxEntries` the
 * oldest entries are evicted first. Every field `render` reads must be
 * compared in same().
 */
export class AncestorTextCache {
  private readonly map = new Map<string, CachedText>();

  constructor(private readonly render: (view: ProcessView) => string, private readonly maxEntries = 8192) {}

  get(v: ProcessView): string {
    const c = this.map.get(v.entityId);
    if (c !== undefined && same(c, v)) return c.text;
    const text = this.render(v);
    if (c === undefined) {
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
      this.map.set(v.entityId, {
        entityId: v.entityId, parentEntityId: v.parentEntityId, ppid: v.ppid, path: v.path, cmdline: v.cmdline,
        comm: v.comm, cwd: v.cwd, uid: v.uid, gid: v.gid, euid: v.euid, egid: v.egid, loginuid: v.loginuid,
        argvTruncated: v.argvTruncated, exitBootNs: v.exitBootNs, source: v.source, text,
      });
    } else {
      c.parentEntityId = v.parentEntityId;
      c.ppid = v.ppid;
      c.path = v.path;
      c.cmdline = v.cmdline;
      c.comm = v.comm;
      c.cwd = v.cwd;
      c.uid = v.uid;
      c.gid = v.gid;
      c.euid = v.euid;
      c.egid = v.egid;
      c.loginuid = v.loginuid;
      c.argvTruncated = v.argvTruncated;
      c.exitBootNs = v.exitBootNs;
      c.source = v.source;
      c.text = text;
    }
    return text;
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * A whole ancestry list as one flat string: `open` + elements joined by
 * `sep` + `close`. Consecutive execs from one shell share their ancestry,
 * so the list is cached by its nearest element's entity id and reused when
 * every element's text (validated by the element cache) is unchanged. The
 * result is flattened once when built, so formats add one piece, not 2n.
 */
export class AncestryTextCache {
  private readonly map = new Map<string, { texts: string[]; text: string }>();
  private readonly scratch: string[] = [];

  constructor(
    private readonly elements: AncestorTextCache,
    private readonly open: string,
    private readonly sep: string,
    private readonly close: string,
    private readonly maxEntries = 4096,
  ) {}

  get(a: readonly ProcessView[]): string {
    const n = a.length;
    if (n === 0) return this.open + this.close;
    const key = a[0].entityId;
    const c = this.map.get(key);
    const texts = this.scratch;
    texts.length = n;
    let same = c !== undefined && c.texts.length === n;
    for (let i = 0; i < n; i++) {
      texts[i] = this.elements.get(a[i]);
      if (same && texts[i] !== c!.texts[i]) same = false;
    }
    if (same) return c!.text;
    const text = flatten(this.open + texts.join(this.sep) + this.close);
    if (c === undefined) {
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, { texts: texts.slice(), text });
    } else {
      c.texts = texts.slice();
      c.text = text;
    }
    return text;
  }
}

/**
 * Makes V8 store `s` as one flat string now (ToNumber flattens its
 * argument), so a string cached for reuse is not re-flattened, piece by
 * piece, every time a line containing it is encoded.
 */
export function flatten(s: string): string {
  void Number(s);
  return s;
}

/** The entity id fixes pid, start time (and so proc_time) and boot; the rest can change. */
function same(c: CachedText, v: ProcessView): boolean {
  return c.entityId === v.entityId && c.path === v.path && c.cmdline === v.cmdline && c.comm === v.comm
    && c.exitBootNs === v.exitBootNs && c.uid === v.uid && c.euid === v.euid && c.gid === v.gid && c.egid === v.egid
    && c.loginuid === v.loginuid && c.cwd === v.cwd && c.argvTruncated === v.argvTruncated && c.source === v.source
    && c.parentEntityId === v.parentEntityId && c.ppid === v.ppid;
}
