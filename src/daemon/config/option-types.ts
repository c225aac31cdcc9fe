/**
 * Option value types: each builder returns the spec of one option (what it
 * accepts, in words for docs and errors, and a parser that turns a raw value
 * from a config file, the environment or a flag into a typed value or throws
 * a message that names the option and what is allowed, so the operator
 * knows the fix from the message alone).
 *
 * Raw values are strings from env and flags, and JSON values from the file.
 * osquery configs carry every value as a string ("true", "500"): strings are
 * accepted for numbers and booleans, strictly ("12abc" and "yes please" are
 * errors, not 12 and true).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { isAncestrydError } from '../../errors';
import { isPort, parseHostPort, PORT_RANGE } from '../../sinks/host-port';

export type OptionValue = string | number | boolean | readonly string[];

export type OptionGroup =
  | 'ancestry' | 'collector' | 'events' | 'outputs' | 'filesystem' | 'spool' | 'kafka' | 'tls' | 'daemon';

/** Facts about the host that some defaults depend on (injectable for tests). */
export interface HostFacts {
  readonly cwd: string;
  /** True when this process may create entries in `dir`. */
  writable(dir: string): boolean;
}

/**
 * The system location when this process may write it (root; or the
 * service user, for whom systemd's LogsDirectory/StateDirectory/
 * RuntimeDirectory create it), otherwise the same layout under ./var of the
 * working directory (a developer's checkout, not root).
 */
export function systemOrLocal(systemPath: string, localPath: string, host: HostFacts, isDir: boolean): string {
  const dir = isDir ? systemPath : dirname(systemPath);
  return host.writable(dir) ? systemPath : resolve(host.cwd, localPath);
}

export interface ParseContext {
  readonly name: string;
  readonly host: HostFacts;
}

export interface OptionSpec<T extends OptionValue = OptionValue> {
  /** Set from the key of the OPTIONS table. */
  name: string;
  readonly group: OptionGroup;
  /** Value type in one word, for docs. */
  readonly type: string;
  /** What is allowed, in words: docs and error messages. */
  readonly allowed: string;
  readonly doc: string;
  readonly default: T | ((host: HostFacts) => T);
  /** How docs show the default when it depends on the host. */
  readonly defaultDoc?: string;
  /** Safe to change on SIGHUP without a restart. */
  readonly reloadable: boolean;
  /** Throws OptionValueError naming the option. */
  parse(raw: unknown, ctx: ParseContext): T;
}

/** A bad value: `message` is complete (names the option and what is allowed). */
export class OptionValueError extends Error {}

interface Common<T> {
  group: OptionGroup;
  doc: string;
  default: T | ((host: HostFacts) => T);
  defaultDoc?: string;
  reloadable?: boolean;
}

function got(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (raw === null || typeof raw !== 'object') return String(raw);
  return JSON.stringify(raw);
}

function fail(message: string): never {
  throw new OptionValueError(message);
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function toInteger(raw: unknown, name: string, allowed: string): number {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && INT_RE.test(raw.trim())) n = Number(raw.trim());
  else fail(`${name}: expected ${allowed}, got ${got(raw)}`);
  if (!Number.isSafeInteger(n)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
  return n;
}

function range(min: number, max: number, fmt: (n: number) => string = String): string {
  return `[${fmt(min)}, ${fmt(max)}]`;
}

/** An integer in range, or one word that stands for a behaviour ("auto"). */
export function integerOrWord<const W extends string>(word: W, o: Common<number | W> & { min: number; max: number; unit?: string }): OptionSpec<number | W> {
  const unit = o.unit ? ` ${o.unit}` : '';
  const allowed = `an integer in ${range(o.min, o.max)}${unit}, or "${word}"`;
  return {
    name: '', group: o.group, type: `integer | ${word}`, allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      if (typeof raw === 'string' && raw.trim() === word) return word;
      const n = toInteger(raw, name, allowed);
      if (n < o.min || n > o.max) fail(`${name}=${n} is out of range ${range(o.min, o.max)}${unit}, or "${word}"`);
      return n;
    },
  };
}

export function integer(o: Common<number> & { min: number; max: number; unit?: string }): OptionSpec<number> {
  const unit = o.unit ? ` ${o.unit}` : '';
  const allowed = `an integer in ${range(o.min, o.max)}${unit}`;
  return {
    name: '', group: o.group, type: 'integer', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      const n = toInteger(raw, name, allowed);
      if (n < o.min || n > o.max) fail(`${name}=${n} is out of range ${range(o.min, o.max)}${unit}`);
      return n;
    },
  };
}

/** A number in (min, max] (min exclusive), e.g. a period in seconds. */
export function decimal(o: Common<number> & { minExclusive: number; max: number; unit?: string }): OptionSpec<number> {
  const unit = o.unit ? ` ${o.unit}` : '';
  const allowed = `a number in (${o.minExclusive}, ${o.max}]${unit}`;
  return {
    name: '', group: o.group, type: 'number', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && NUM_RE.test(raw.trim())) n = Number(raw.trim());
      else fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      if (!Number.isFinite(n)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      if (!(n > o.minExclusive && n <= o.max)) fail(`${name}=${n} is out of range (${o.minExclusive}, ${o.max}]${unit}`);
      return n;
    },
  };
}

const SIZE_RE = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_MULT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** 16777216 → "16 MiB"; sizes that are not whole units stay in bytes. */
export function formatBytes(n: number): string {
  for (const [u, m] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= m && n % m === 0) return `${n / m} ${u}`;
  }
  return `${n} bytes`;
}

/** A size in bytes: an integer, or with a binary suffix ("16M", "64KiB", "1g"). */
export function bytes(o: Common<number> & { min: number; max: number; powerOfTwo?: boolean }): OptionSpec<number> {
  const allowed = `${o.powerOfTwo ? 'a power of two' : 'a size'} in ${range(o.min, o.max, formatBytes)}`
    + ' (bytes, or with a K, M or G suffix: 1K = 1024)';
  return {
    name: '', group: o.group, type: 'bytes', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      let n: number;
      if (typeof raw === 'number') {
        n = raw;
      } else {
        const m = typeof raw === 'string' ? SIZE_RE.exec(raw.trim()) : null;
        if (m === null) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
        n = Number(m[1]) * (m[2] ? SIZE_MULT[m[2][0].toLowerCase()] : 1);
      }
      if (!Number.isSafeInteger(n)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      if (n < o.min || n > o.max) fail(`${name}=${n} is out of range ${range(o.min, o.max, formatBytes)}`);
      if (o.powerOfTwo && (n & (n - 1)) !== 0) {
        const lower = 2 ** Math.floor(Math.log2(n));
        fail(`${name}=${n} is not a power of two (e.g. ${formatBytes(lower)} or ${formatBytes(lower * 2)})`);
      }
      return n;
    },
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function boolean(o: Common<boolean>): OptionSpec<boolean> {
  const allowed = 'true or false (also 1/0, yes/no, on/off)';
  return {
    name: '', group: o.group, type: 'boolean', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      if (typeof raw === 'boolean') return raw;
      const s = typeof raw === 'string' ? raw.trim().toLowerCase() : typeof raw === 'number' ? String(raw) : null;
      if (s !== null && TRUE.has(s)) return true;
      if (s !== null && FALSE.has(s)) return false;
      return fail(`${name}: expected ${allowed}, got ${got(raw)}`);
    },
  };
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => (v === '' ? '""' : v)).join(', ');
}

export function oneOf<const T extends string>(values: readonly T[], o: Common<T>): OptionSpec<T> {
  const allowed = `one of ${quoteList(values)}`;
  return {
    name: '', group: o.group, type: 'enum', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      const s = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : null;
      if (s !== null && (values as readonly string[]).includes(s)) return s as T;
      return fail(`${name}: expected ${allowed}, got ${got(raw)}`);
    },
  };
}

function splitList(raw: unknown, name: string, allowed: string): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.trim() === '' ? [] : raw.split(',');
  else return fail(`${name}: expected ${allowed}, got ${got(raw)}`);
  return items.map((v) => {
    if (typeof v !== 'string' || v.trim() === '') fail(`${name}: expected ${allowed}, got ${got(raw)}`);
    return v.trim();
  });
}

/** Comma-separated values from a fixed set (a JSON array of strings in a file works too). */
export function listOf<const T extends string>(values: readonly T[], o: Common<readonly T[]> & { mustInclude?: T; min?: number }): OptionSpec<readonly T[]> {
  const allowed = `a comma-separated list of ${quoteList(values)}`
    + (o.mustInclude ? ` (always including ${o.mustInclude})` : '');
  return {
    name: '', group: o.group, type: 'list', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      const items = splitList(raw, name, allowed);
      const bad = items.filter((v) => !(values as readonly string[]).includes(v));
      if (bad.length > 0) fail(`${name}: ${bad.map((b) => JSON.stringify(b)).join(', ')} not allowed: expected ${allowed}`);
      const dup = items.find((v, i) => items.indexOf(v) !== i);
      if (dup !== undefined) fail(`${name}: ${JSON.stringify(dup)} is listed twice`);
      if (items.length < (o.min ?? 0)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      if (o.mustInclude && !items.includes(o.mustInclude)) fail(`${name}: must include ${o.mustInclude}, got ${got(raw)}`);
      return items as T[];
    },
  };
}

/**
 * A list of regular expressions: a JSON array of strings in the config file;
 * from a flag or the environment a JSON array too (regular expressions hold
 * commas), or one pattern alone. `word` stands for a built-in set.
 */
export function regexList(o: Common<readonly string[]> & { compile: (source: string) => unknown; word: string; maxItems: number }): OptionSpec<readonly string[]> {
  const allowed = `a JSON array of regular expressions (or "${o.word}" for the built-in ones), at most ${o.maxItems}; [] for none`;
  return {
    name: '', group: o.group, type: 'regex list', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      let items: unknown = raw;
      if (typeof raw === 'string') {
        const s = raw.trim();
        if (s.startsWith('[')) {
          try {
            items = JSON.parse(s);
          } catch (err) {
            fail(`${name}: expected ${allowed}: ${(err as Error).message}`);
          }
        } else items = s === '' ? [] : [s];
      }
      if (!Array.isArray(items) || items.some((v) => typeof v !== 'string' || v === '')) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      const list = items as string[];
      if (list.length > o.maxItems) fail(`${name}: ${list.length} patterns, at most ${o.maxItems}`);
      for (const p of list) {
        if (p === o.word) continue;
        try {
          o.compile(p);
        } catch (err) {
          fail(`${name}: ${JSON.stringify(p)} is not a valid regular expression: ${(err as Error).message}`);
        }
      }
      return list;
    },
  };
}

/**
 * Free text, optionally matched against a pattern described in words, or
 * checked by the component that uses the value (`check` throws an
 * AncestrydError whose message becomes the option's): its rule, stated once.
 */
export function text(o: Common<string> & {
  pattern?: RegExp; describe?: string; maxLength?: number; check?: (name: string, value: string) => unknown;
}): OptionSpec<string> {
  const allowed = o.describe ?? 'a string';
  return {
    name: '', group: o.group, type: 'string', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      if (typeof raw !== 'string') fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      const s = raw.trim();
      if (o.pattern && !o.pattern.test(s)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      try {
        o.check?.(name, s);
      } catch (err) {
        if (isAncestrydError(err)) fail(err.message);
        throw err;
      }
      if (o.maxLength !== undefined && s.length > o.maxLength) fail(`${name}: longer than ${o.maxLength} characters`);
      return s;
    },
  };
}

/**
 * A filesystem path; relative paths are resolved against the working
 * directory at load (under systemd that is "/"). "" means "off" when allowed.
 */
export function path(o: Common<string> & { emptyDisables?: boolean; maxBytes?: number }): OptionSpec<string> {
  const allowed = o.emptyDisables ? 'a path, or "" to disable' : 'a path';
  return {
    name: '', group: o.group, type: 'path', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name, host }) {
      if (typeof raw !== 'string') fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      const s = raw.trim();
      if (s === '') {
        if (o.emptyDisables) return '';
        fail(`${name}: expected ${allowed}, got ""`);
      }
      if (s.includes('\0')) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      const abs = isAbsolute(s) ? resolve(s) : resolve(host.cwd, s);
      if (o.maxBytes !== undefined && Buffer.byteLength(abs) > o.maxBytes) {
        fail(`${name}: ${abs} is ${Buffer.byteLength(abs)} bytes long; a UNIX socket path holds at most ${o.maxBytes}: choose a shorter path`);
      }
      return abs;
    },
  };
}

/** One "host:port" listen address, or "" to disable. */
export function address(o: Common<string>): OptionSpec<string> {
  const allowed = `"host:port" (port ${PORT_RANGE.join('..')}, IPv6 as [addr]:port), or "" to disable`;
  return {
    name: '', group: o.group, type: 'address', allowed, doc: o.doc, default: o.default, defaultDoc: o.defaultDoc,
    reloadable: o.reloadable ?? false,
    parse(raw, { name }) {
      if (typeof raw !== 'string') fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      const s = raw.trim();
      if (s === '') return '';
      const hp = parseHostPort(s);
      if (hp === null || !isPort(hp.port)) fail(`${name}: expected ${allowed}, got ${got(raw)}`);
      return s;
    },
  };
}

/** Any value a `parse` function accepts, as the string form docs and flags show. */
export function displayValue(v: OptionValue): string {
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}
