/**
 * Reads raw option values from the three sources — the config file, the
 * environment (ANCESTRYD_<NAME>) and command-line flags (--name=value,
 * --name value, --flag) — without judging the values; every problem found
 * on the way (unreadable file, unknown key, stray argument) is collected,
 * not thrown, so the loader can report all of them at once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  envName, isOptionName, OPTION_NAMES, optionSpec, OSQUERY_ONLY_OPTIONS, OSQUERY_RENAMED, type OptionName,
} from './option-schema';

export const DEFAULT_CONFIG_PATH = '/etc/ancestryd/ancestryd.conf';
export const CONFIG_ENV = 'ANCESTRYD_CONFIG';
export const CONFIG_FLAG = 'config';

/** remote: config_plugin=tls, the TLS server's options. */
export type SourceKind = 'file' | 'remote' | 'env' | 'flag';

export interface RawValue {
  readonly raw: unknown;
  /** Where it came from, for messages: the file path, ANCESTRYD_X, or --x. */
  readonly where: string;
}

export interface RawSources {
  /** The file actually read, or null (none given and the default is missing, or --config ""). */
  readonly configFile: string | null;
  readonly file: ReadonlyMap<OptionName, RawValue>;
  readonly env: ReadonlyMap<OptionName, RawValue>;
  readonly flags: ReadonlyMap<OptionName, RawValue>;
  readonly problems: string[];
  /** Not fatal: ANCESTRYD_* variables that name no option (the environment is shared with tools and tests). */
  readonly warnings: string[];
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The hint after "unknown option": a rename, an osquery-only option, or the closest name. */
export function unknownOptionHint(key: string): string {
  const renamed = OSQUERY_RENAMED[key];
  if (renamed) return `; ancestryd calls it ${renamed}`;
  if (OSQUERY_ONLY_OPTIONS.has(key)) return '; it is an osquery option ancestryd does not use: remove it';
  const norm = key.toLowerCase().replace(/-/g, '_');
  if (isOptionName(norm)) return `; did you mean ${norm}?`;
  let best: string | null = null;
  let bestD = Infinity;
  for (const name of OPTION_NAMES) {
    const d = editDistance(norm, name);
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(norm.length / 6)) ? `; did you mean ${best}?` : '';
}

const BOOL_LITERAL = /^(true|false|1|0|yes|no|on|off)$/i;

export interface ParsedFlags {
  readonly values: Map<OptionName, RawValue>;
  /** --config PATH: undefined when not given, "" for "no file". */
  readonly configPath: string | undefined;
  readonly problems: string[];
}

/**
 * Flags after the subcommand: --name=value, --name value, and --name alone
 * for booleans (a following true/false/1/0/yes/no/on/off is its value). The
 * last of repeated flags wins.
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const values = new Map<OptionName, RawValue>();
  const problems: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (!tok.startsWith('--') || tok === '--') {
      problems.push(`unexpected argument ${JSON.stringify(tok)}: options are given as --name=value`);
      continue;
    }
    const eq = tok.indexOf('=');
    const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
    const inline = eq < 0 ? undefined : tok.slice(eq + 1);
    const next = argv[i + 1];
    const nextIsValue = next !== undefined && !next.startsWith('--');
    if (name === CONFIG_FLAG) {
      if (inline !== undefined) configPath = inline;
      else if (nextIsValue) configPath = argv[++i];
      else problems.push('--config: expected a path (--config=PATH)');
      continue;
    }
    if (!isOptionName(name)) {
      problems.push(`--${name}: unknown option${unknownOptionHint(name)}`);
      if (inline === undefined && nextIsValue) i++;
      continue;
    }
    const isBool = optionSpec(name).type === 'boolean';
    let raw: unknown;
    if (inline !== undefined) raw = inline;
    else if (isBool) raw = nextIsValue && BOOL_LITERAL.test(next) ? argv[++i] : true;
    else if (nextIsValue) raw = argv[++i];
    else {
      problems.push(`--${name}: expected a value (--${name}=VALUE)`);
      continue;
    }
    values.set(name, { raw, where: `--${name}` });
  }
  return { values, configPath, problems };
}

export interface ParsedEnv {
  readonly values: Map<OptionName, RawValue>;
  readonly configPath: string | undefined;
  readonly warnings: string[];
}

export function parseEnv(env: NodeJS.ProcessEnv): ParsedEnv {
  const values = new Map<OptionName, RawValue>();
  const warnings: string[] = [];
  let configPath: string | undefined;
  for (const key of Object.keys(env).sort()) {
    if (!key.startsWith('ANCESTRYD_')) continue;
    const value = env[key];
    if (value === undefined) continue;
    if (key === CONFIG_ENV) {
      configPath = value;
      continue;
    }
    const name = key.slice('ANCESTRYD_'.length).toLowerCase();
    if (isOptionName(name) && envName(name) === key) values.set(name, { raw: value, where: key });
    else warnings.push(`${key} is set but names no ancestryd option (ignored)${unknownOptionHint(name)}`);
  }
  return { values, configPath, warnings };
}

export interface ParsedFile {
  readonly values: Map<OptionName, RawValue>;
  readonly problems: string[];
  /** False when the default file is simply not there. */
  readonly found: boolean;
}

/**
 * An osquery.conf-style {"options": {...}} or a flat {"name": value}. In the
 * osquery form, other top-level keys (schedule, packs, decorators) are
 * rejected: ancestryd has no scheduled queries, and silently ignoring them
 * would hide a config meant for another program.
 */
export function readConfigFile(path: string, explicit: boolean): ParsedFile {
  const values = new Map<OptionName, RawValue>();
  const problems: string[] = [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (code === 'ENOENT' && !explicit) return { values, problems, found: false };
    const fix = code === 'ENOENT' ? 'check the path given with --config or ANCESTRYD_CONFIG'
      : code === 'EACCES' ? 'run as root or make it readable by the daemon' : 'check the path';
    problems.push(`config file ${path}: cannot read it (${code}): ${fix}`);
    return { values, problems, found: false };
  }
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    problems.push(`config file ${path}: not valid JSON (${(err as Error).message})`);
    return { values, problems, found: true };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push(`config file ${path}: expected a JSON object ({"options": {...}} or {"name": value, ...})`);
    return { values, problems, found: true };
  }
  let options = doc as Record<string, unknown>;
  if ('options' in options) {
    const o = options.options;
    for (const key of Object.keys(options)) {
      if (key !== 'options') {
        problems.push(`config file ${path}: unknown top-level key ${JSON.stringify(key)}: ancestryd reads only "options" (remove it)`);
      }
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      problems.push(`config file ${path}: "options" must be an object of option names to values`);
      return { values, problems, found: true };
    }
    options = o as Record<string, unknown>;
  }
  for (const [key, raw] of Object.entries(options)) {
    if (!isOptionName(key)) {
      problems.push(`${key}: unknown option (in ${path})${unknownOptionHint(key)}`);
      continue;
    }
    values.set(key, { raw, where: path });
  }
  return { values, problems, found: true };
}

/** All three sources; the file is the one --config, then ANCESTRYD_CONFIG, then the default names. */
export function readSources(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): RawSources {
  const flags = parseFlags(argv);
  const envs = parseEnv(env);
  const problems = [...flags.problems];
  const given = flags.configPath ?? envs.configPath;
  let configFile: string | null = null;
  let file = new Map<OptionName, RawValue>();
  if (given !== '') {
    const path = resolve(cwd, given ?? DEFAULT_CONFIG_PATH);
    const parsed = readConfigFile(path, given !== undefined);
    problems.unshift(...parsed.problems);
    file = parsed.values;
    if (parsed.found) configFile = path;
  }
  return { configFile, file, env: envs.values, flags: flags.values, problems, warnings: envs.warnings };
}
