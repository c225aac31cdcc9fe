/**
 * Command-line redaction (cmdline_redaction_patterns): secrets that people
 * pass in argv (`--password=…`, `PGPASSWORD=… psql`, `https://user:pass@…`)
 * are masked before a process's argv enters the process table, so that no
 * output carries them: exec lines, the ancestors of every later exec, the
 * admin socket's trees. A detection still sees that a password was given,
 * and where.
 *
 * Patterns are JavaScript regular expressions matched case-insensitively
 * against the command line (argv joined with spaces, as the cmdline
 * column shows it), so that a flag and its value in two arguments are one
 * match. Each match's capture groups are replaced by MASK, or the whole
 * match when the pattern has none (Tetragon's redaction filters work the
 * same way); the masked ranges are mapped back onto the arguments they
 * cover, so argv and cmdline say the same. MASK has a fixed length: the
 * secret's length is not shown either.
 *
 * Cost: one test of all patterns at once per command line; a command line
 * that matches none (nearly all) is left as it is: 0.1 µs for typical ones
 * with the defaults. The defaults are linear: the costliest argv found, a
 * 4 KiB argument of "password" repeated, takes 115 µs (833 µs at 32 KiB).
 */

import { commandLine, type ArgvStrings } from '../collector/byte-text';

export const MASK = '*****';

/**
 * The documented defaults (`cmdline_redaction_patterns=default` names them,
 * alone or beside the operator's own). Any process chooses its argv, so each
 * must stay linear in the command line: each starts at a literal word (the
 * engine tries nothing elsewhere) and every run before a required character
 * is bounded ({0,16}). A first set that began with `[\w.-]*` took 1.9 s for
 * one 32 KiB argument of "a"s (each start rescanned the run).
 */
export const DEFAULT_REDACTION_PATTERNS: readonly string[] = [
  // name=value where the name holds a secret-sounding word: --password=x, PGPASSWORD=x, ?token=x&, client_secret=x
  String.raw`(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|mysql_pwd)[\w.-]{0,16}=([^\s&;,]+)`,
  // a flag with such a name followed by its value: --password x, -token x, --api-key x
  // (the look-behind comes after the word: before it, the engine would run it at every position)
  String.raw`(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)`
    + String.raw`(?<=(?:^|\s)--?[\w.-]{0,16}(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key))`
    + String.raw`[\w.-]{0,16}\s+(\S+)`,
  // credentials in a URL: scheme://user:password@host
  String.raw`://[^\s/:@]{0,256}:([^\s/@]+)@`,
  // an HTTP Authorization header given on the command line (curl -H, wget --header)
  String.raw`authorization:\s*(?:(?:bearer|basic|token|negotiate)\s+)?([^\s'"]+)`,
];

/** The option's word for DEFAULT_REDACTION_PATTERNS inside its list. */
export const DEFAULT_PATTERNS_WORD = 'default';

/** The option's list with "default" expanded, deduplicated, in order. */
export function expandRedactionPatterns(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of list) {
    for (const q of p === DEFAULT_PATTERNS_WORD ? DEFAULT_REDACTION_PATTERNS : [p]) if (!out.includes(q)) out.push(q);
  }
  return out;
}

/** Compiles one pattern as the redactor uses it; throws SyntaxError with the engine's reason. */
export function compileRedactionPattern(source: string): RegExp {
  return new RegExp(source, 'gid');
}

export class ArgvRedactor {
  /** Command lines redacted (at least one mask) since start. */
  redacted = 0;
  private readonly patterns: readonly RegExp[];
  /** All patterns as one alternation: one test per command line; null when a back-reference forbids it. */
  private readonly any: RegExp | null;

  /** `sources`: expanded (no "default"), each valid for compileRedactionPattern. */
  constructor(sources: readonly string[]) {
    this.patterns = sources.map(compileRedactionPattern);
    // Groups are renumbered in the alternation, and only test() uses it; named
    // groups could clash, so they are made plain. A back-reference would then
    // point elsewhere and the test could miss what the pattern masks: such a
    // list is matched pattern by pattern.
    this.any = sources.some((s) => /\\[1-9]|\\k</.test(s)) ? null
      : new RegExp(sources.map((s) => `(?:${s.replace(/\(\?<([A-Za-z_$][\w$]*)>/g, '(')})`).join('|'), 'i');
  }

  get enabled(): boolean {
    return this.patterns.length > 0;
  }

  /**
   * Masks every match in `a`'s argv and command line (collector/byte-text.ts)
   * in place; both strings stay as they were when nothing matched. Patterns
   * see the command line, whose offsets are argvText's: a space there is the
   * NUL that ends an argument.
   */
  redact(a: ArgvStrings): void {
    if (this.patterns.length === 0) return;
    const cmdline = a.cmdline;
    if (this.any !== null && !this.any.test(cmdline)) return;
    const ranges: number[] = []; // [start, end) pairs on cmdline
    for (const re of this.patterns) {
      re.lastIndex = 0;
      for (let m = re.exec(cmdline); m !== null; m = re.exec(cmdline)) {
        const idx = m.indices!;
        let grouped = false;
        for (let g = 1; g < idx.length; g++) {
          const r = idx[g];
          if (r !== undefined && r[1] > r[0]) {
            ranges.push(r[0], r[1]);
            grouped = true;
          }
        }
        if (!grouped && idx.length === 1 && m[0].length > 0) ranges.push(idx[0][0], idx[0][1]);
        if (m[0].length === 0) re.lastIndex++; // an empty match must not stop the scan
      }
    }
    if (ranges.length === 0) return;
    this.redacted++;
    a.argvText = maskArgv(a.argvText, mergeRanges(ranges));
    a.cmdline = commandLine(a.argvText);
  }
}

/** Sorted, non-overlapping [start, end) pairs from any pairs. */
function mergeRanges(pairs: number[]): number[] {
  const order: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) order.push([pairs[i], pairs[i + 1]]);
  order.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [s, e] of order) {
    const n = out.length;
    if (n > 0 && s <= out[n - 1]) out[n - 1] = Math.max(out[n - 1], e);
    else out.push(s, e);
  }
  return out;
}

/** Each argument's part of each range replaced by one MASK; the NULs between arguments stay. */
function maskArgv(argv: string, ranges: readonly number[]): string {
  let out = '';
  let at = 0; // argv before this is in out
  for (let k = 0; k < ranges.length; k += 2) {
    const e = ranges[k + 1];
    for (let s = ranges[k]; s < e;) {
      const nul = argv.indexOf('\0', s);
      const argEnd = nul < 0 || nul > e ? e : nul;
      if (argEnd > s) {
        out += argv.slice(at, s) + MASK;
        at = argEnd;
      }
      s = argEnd + 1;
    }
  }
  return out + argv.slice(at);
}
