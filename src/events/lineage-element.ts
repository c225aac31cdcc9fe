/**
 * The ancestry list as the formats write it. One element is rendered by the
 * ancestry engine (src/ancestry/ancestor-json.ts: the element's fields are
 * part of its contract); this file caches what formats derive from it,
 * element by element and whole lists, because the same shells and daemons
 * are ancestors of most execs.
 */
import { toAncestorJson } from '../ancestry/ancestor-json';
import type { ProcessView } from '../ancestry/process-view';
import { embedJson } from './json-text';

/** One element as JSON text (bigints as exact digits). */
export function ancestorJson(view: ProcessView): string {
  return toAncestorJson(view);
}

/**
 * ancestorJson() escaped for embedding in a JSON string (osquery's ancestry
 * column): equal to JSON.stringify(ancestorJson(v)) without its outer quotes.
 */
export function ancestorJsonEmbedded(view: ProcessView): string {
  return embedJson(toAncestorJson(view));
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
