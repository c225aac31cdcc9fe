/**
 * Bytes the kernel or /proc hands over (paths, argv, comm) as strings that
 * lose nothing: one escaping rule for every source, and one form of argv.
 */
import { isUtf8 } from 'node:buffer';

/**
 * Bytes to a string without losing information and without ambiguity: valid
 * UTF-8 decodes as is; a byte that is not part of valid UTF-8 becomes the
 * four characters \xNN (lowercase hex); a backslash that would otherwise be
 * read as part of such an escape — one followed by "x", by another
 * backslash or by an escaped byte — is written \\. Read left to right, \\
 * is one backslash, \xNN one byte, and any other backslash itself. Paths and
 * argv are arbitrary bytes on Linux, and a detection engineer must be able to
 * tell which bytes they were: byte 0xff and the text "\xff" (a printf
 * argument) no longer look alike. README "Paths and argv that are not UTF-8".
 */
export function text(buf: Buffer, start: number, end: number): string {
  if (start >= end) return '';
  // Most paths and arguments are ASCII without a backslash: check that in JS and skip validation.
  let i = start;
  while (i < end && buf[i] < 0x80 && buf[i] !== BACKSLASH) i++;
  if (i === end) return buf.toString('latin1', start, end);
  const sub = buf.subarray(start, end);
  if (sub.indexOf(BACKSLASH, i - start) < 0 && isUtf8(sub)) return sub.toString('utf8');
  return escapeBytes(sub);
}

const BACKSLASH = 0x5c;
const LOWER_X = 0x78;

function escapeBytes(b: Buffer): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceLength(b, i);
    if (n === 1 && b[i] === BACKSLASH) {
      const next = i + 1 < b.length ? b[i + 1] : -1;
      if (next === BACKSLASH || next === LOWER_X || (next >= 0 && utf8SequenceLength(b, i + 1) === 0)) {
        out += b.toString('utf8', runStart, i + 1) + '\\';
        runStart = i + 1;
      }
      i++;
      continue;
    }
    if (n > 0) {
      i += n;
      continue;
    }
    if (runStart < i) out += b.toString('utf8', runStart, i);
    out += '\\x' + b[i].toString(16).padStart(2, '0');
    i++;
    runStart = i;
  }
  if (runStart < b.length) out += b.toString('utf8', runStart, b.length);
  return out;
}

/** Length of the valid UTF-8 sequence at i, or 0 (RFC 3629: no overlongs, no surrogates). */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0;
    if (c === 0xed && c1 > 0x9f) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 > 0x8f) return 0;
    return 4;
  }
  return 0;
}

/**
 * argv in one string, laid out as the kernel lays it out: every argument
 * followed by a NUL, which no argument can contain. '' is an empty argv
 * (execve may pass none, as the pkexec exploit of CVE-2021-4034 did); '\0'
 * is one empty argument. Decoded once from the ring or /proc and kept so: the
 * command line and the list are read from it only where a format needs them.
 */
export function argvFromBytes(buf: Buffer, start: number, end: number): string {
  if (start >= end) return '';
  // argv cut short by the kernel's or our byte cap ends without its NUL.
  return buf[end - 1] === 0 ? text(buf, start, end) : text(buf, start, end) + '\0';
}

/** A process's argv in both the forms every output needs, each made once. */
export interface ArgvStrings {
  /** Every argument NUL-terminated (argvFromBytes). */
  argvText: string;
  /** commandLine(argvText). */
  cmdline: string;
}

/** The arguments of an argvText. */
export function argvList(t: string): string[] {
  return t === '' ? [] : t.slice(0, -1).split('\0');
}

/** The arguments joined with spaces, as osquery's cmdline column. */
export function commandLine(t: string): string {
  const last = t.length - 1;
  if (last <= 0) return '';
  const s = t.slice(0, last);
  return s.indexOf('\0') < 0 ? s : s.replaceAll('\0', ' ');
}
