/**
 * The one cache of lineage element texts: each format keeps one, holding
 * for every recent ancestor the text it renders for it (already escaped for
 * where it goes), so that an exec line is built by concatenation. The same
 * shells and daemons are ancestors of most execs.
 *
 * It lives here, with the formats, and compares the fields it renders on
 * every use, rather than trusting the table to invalidate a text on the
 * entry: the table changes entries in many places (exec, exit, reparenting,
 * resync, late /proc reads), and a missed invalidation once left an
 * ancestor's uid stale after a resync (issue 11).
 */
import { ancestorJson, type AncestryDetail } from './ancestor-json';
import type { ProcessView } from '../ancestry/process-view';
import { FieldCap } from './field-cap';
import { embedJson } from './json-text';

/**
 * ancestorJson() escaped for embedding in a JSON string (osquery's ancestry
 * column): equal to JSON.stringify(ancestorJson(v)) without its outer quotes.
 */
export function ancestorJsonEmbedded(view: ProcessView, detail: AncestryDetail = 'full', cap = FieldCap.NONE): string {
  return embedJson(ancestorJson(view, detail, cap));
}

interface CachedText<T> {
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
  text: T;
  /** The render cut a field to the cap. */
  truncated: boolean;
}

/**
 * Rendered text of lineage elements, reused while the element's rendered
 * fields are unchanged. The same shells and daemons are ancestors of most
 * execs, and rendering one costs far more than comparing its fields
 * (tools/bench/bench-sinks.ts: 1024 distinct lineages in rotation format
 * about 6× faster). Keyed by entity id, holding copies of the compared
 * values and never the view; checked field by field on every use, so an
 * ancestor that exec'd, exited, got its /proc details late or had its
 * credentials changed is rendered afresh. Bounded: past `maxEntries` the
 * oldest entries are evicted first. Every field `render` reads must be
 * compared in same().
 *
 * `render` cuts fields to `cap` (process_ancestry_field_max_bytes); the
 * cache remembers which texts were cut, and `truncated` tells a format
 * whether any element it got since it last cleared the flag was.
 */
export class AncestorTextCache<T extends string | Buffer = string> {
  /** Set by get() when the element it returns had a field cut; the format clears it per line. */
  truncated = false;
  private readonly map = new Map<string, CachedText<T>>();

  constructor(private readonly render: (view: ProcessView) => T, private readonly maxEntries = 8192,
    private readonly cap = FieldCap.NONE) {}

  get(v: ProcessView): T {
    const c = this.map.get(v.entityId);
    if (c !== undefined && same(c, v)) {
      if (c.truncated) this.truncated = true;
      return c.text;
    }
    this.cap.hit = false;
    const r = this.render(v);
    const truncated = this.cap.hit;
    if (truncated) this.truncated = true;
    const text = typeof r === 'string' ? (flatten(r) as T) : r;
    if (c === undefined) {
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
      this.map.set(v.entityId, {
        entityId: v.entityId, parentEntityId: v.parentEntityId, ppid: v.ppid, path: v.path, cmdline: v.cmdline,
        comm: v.comm, cwd: v.cwd, uid: v.uid, gid: v.gid, euid: v.euid, egid: v.egid, loginuid: v.loginuid,
        argvTruncated: v.argvTruncated, exitBootNs: v.exitBootNs, source: v.source, text, truncated,
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
      c.truncated = truncated;
    }
    return text;
  }
}

/**
 * `open` + the elements' texts joined by `sep` + `close`: a list of
 * cached, flat pieces that the line's encoding copies once.
 */
export function joinAncestry(cache: AncestorTextCache<string>, a: readonly ProcessView[], open: string, sep: string, close: string): string {
  const n = a.length;
  if (n === 0) return open + close;
  let out = open + cache.get(a[0]);
  for (let i = 1; i < n; i++) out += sep + cache.get(a[i]);
  return out + close;
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
function same<T>(c: CachedText<T>, v: ProcessView): boolean {
  return c.entityId === v.entityId && c.path === v.path && c.cmdline === v.cmdline && c.comm === v.comm
    && c.exitBootNs === v.exitBootNs && c.uid === v.uid && c.euid === v.euid && c.gid === v.gid && c.egid === v.egid
    && c.loginuid === v.loginuid && c.cwd === v.cwd && c.argvTruncated === v.argvTruncated && c.source === v.source
    && c.parentEntityId === v.parentEntityId && c.ppid === v.ppid;
}
