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

/**
 * Rendered text of lineage elements (embedded for osquery, ECS objects),
 * reused while the element is unchanged. The same shells and daemons are
 * ancestors of most execs, and rendering one costs far more than looking it
 * up (tools/loadgen/bench-sinks.ts). The element's canonical JSON
 * (toAncestorJson, cached by the process table until the process changes)
 * is the validity key: while it is the same text, every field any format
 * renders is the same. Keyed by entity id; never holds a view. Bounded: past
 * `maxEntries` the oldest entries are evicted first.
 */
export class AncestorTextCache {
  private readonly map = new Map<string, { key: string; text: string }>();

  constructor(private readonly render: (view: ProcessView) => string, private readonly maxEntries = 8192) {}

  get(v: ProcessView): string {
    const key = toAncestorJson(v);
    const c = this.map.get(v.entityId);
    // Usually the very same string object: the comparison is a pointer check.
    if (c !== undefined && c.key === key) return c.text;
    const text = this.render(v);
    if (c === undefined) {
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
      this.map.set(v.entityId, { key, text });
    } else {
      c.key = key;
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
