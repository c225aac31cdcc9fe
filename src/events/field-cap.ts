/**
 * Byte caps on the text fields a process controls (argv, paths, cwd), so
 * that no process can make one event line too large to deliver.
 *
 * Why: JSON escaping multiplies a control byte by 6 (\u0001), and osquery's
 * ancestry column, JSON inside a JSON string, by 7. An exec whose every
 * ancestor carried 4 KiB of control bytes in argv, path and cwd made a
 * 3.7 MB line, which Kafka refuses (message.max.bytes is 1 MiB) and which
 * took innocent events down with it. Ancestors' fields are capped
 * (process_ancestry_field_max_bytes); a line still over event_max_bytes is
 * written again with every field capped (the pipeline's reduced format).
 *
 * A cap counts UTF-8 bytes of the field as decoded (a byte that is not
 * UTF-8 is already the 4-character text \xNN) and never splits a character.
 * The cut is flagged, never silent: `hit` records it for the line's flags.
 */

/** Longest prefix of `s` whose UTF-8 encoding fits `maxBytes`, never half a surrogate pair. */
function utf8Prefix(s: string, maxBytes: number): string {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let w: number;
    let units = 1;
    if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      w = 4;
      units = 2;
    } else w = 3;
    if (bytes + w > maxBytes) return s.slice(0, i);
    bytes += w;
    i += units - 1;
  }
  return s;
}

export class FieldCap {
  /** Set by text() and list() when they cut; the owner clears it. */
  hit = false;
  /** Strings of at most this many UTF-16 units fit whatever they hold (≤ 3 UTF-8 bytes per unit). */
  private readonly safeUnits: number;

  constructor(readonly maxBytes: number) {
    this.safeUnits = Math.floor(maxBytes / 3);
  }

  /** No cap: text() returns its argument. */
  static readonly NONE = new FieldCap(Infinity);

  text(s: string): string {
    if (s.length <= this.safeUnits) return s;
    const t = utf8Prefix(s, this.maxBytes);
    if (t.length !== s.length) this.hit = true;
    return t;
  }

  /**
   * argv capped as a whole, as its cmdline (joined with spaces) is: whole
   * arguments while they fit, then the one that crosses the cap cut, the
   * rest left out.
   */
  list(a: readonly string[]): readonly string[] {
    let units = 0;
    for (let i = 0; i < a.length; i++) units += a[i].length + 1;
    if (units <= this.safeUnits) return a;
    const out: string[] = [];
    let left = this.maxBytes;
    for (let i = 0; i < a.length && left > 0; i++) {
      const t = utf8Prefix(a[i], left);
      out.push(t);
      if (t.length !== a[i].length) break;
      left -= Buffer.byteLength(t, 'utf8') + 1;
    }
    if (out.length !== a.length || out[out.length - 1] !== a[a.length - 1]) this.hit = true;
    return out;
  }
}
