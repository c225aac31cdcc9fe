/**
 * Turns admin API results, preflight checks and the effective
 * configuration into text for people: tables, aligned key: value lines and
 * an ASCII tree. Pure functions of their input (the CLI prints them; tests
 * compare them).
 */
import type { PreflightCheck } from '../../collector/preflight';
import type { AncestryResponse, LineageElement, TreeNode } from '../admin/admin-protocol';
import { displayValue, type OptionValue } from '../config/option-types';

/**
 * Text a process controls (argv, comm, paths) made harmless for a terminal,
 * as ps does: C0 and C1 control characters and DEL become \xNN, the bidi
 * controls and line separators \u{NNNN}. Otherwise a process could erase or
 * forge rows in root's terminal (ESC sequences, CR) or reorder what root
 * reads (U+202E). Backslashes stay as they are: this is for eyes; --json
 * output is exact.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? '\\x' + n.toString(16).padStart(2, '0') : '\\u{' + n.toString(16) + '}';
  });
}

/** The JSON escapes of the characters JSON itself leaves raw (C1 controls, bidi controls): the same value, safe to print. */
const JSON_RAW_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON.stringify for a terminal: parses back to the same value. */
export function jsonForTerminal(value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), space)
    .replace(JSON_RAW_UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function pad(s: string, width: number, right = false): string {
  const n = Math.max(0, width - [...s].length);
  return right ? ' '.repeat(n) + s : s + ' '.repeat(n);
}

/** Rows of cells as aligned columns; `right` marks right-aligned (numeric) columns. The last column is never padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: readonly string[]) => cells
    .map((c, i) => (i === cells.length - 1 && !right[i] ? c : pad(c, widths[i], right[i])))
    .join('  ')
    .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function startedUtc(epochSeconds: number): string {
  if (!Number.isFinite(epochSeconds) || epochSeconds <= 0) return '-';
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function exe(e: LineageElement): string {
  return terminalSafe(e.exe_name || '?') + (e.exited ? ' (exited)' : '');
}

function row(depth: string, e: LineageElement): string[] {
  return [depth, String(e.pid), String(e.ppid), String(e.uid), startedUtc(e.proc_time), exe(e), terminalSafe(e.cmdline)];
}

/** `ancestryd ancestry <pid>`: the process and its ancestors, nearest first, as a table. */
export function renderAncestry(r: AncestryResponse): string {
  const status = r.complete ? 'complete' : `incomplete (${r.incomplete_reason ?? 'unknown'})`;
  let out = `pid ${r.pid}  entity_id ${r.entity_id}  lineage ${status}\n`;
  const rows = [row('0', r.process), ...r.ancestry.map((e, i) => row(String(i + 1), e))];
  out += table(['DEPTH', 'PID', 'PPID', 'UID', 'STARTED (UTC)', 'EXE', 'CMDLINE'], rows, [true, true, true, true]);
  if (r.current_parent) {
    out += `current parent: ${r.current_parent.pid} ${exe(r.current_parent)} (reparented; the lineage follows the parent at fork)\n`;
  }
  return out;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return terminalSafe(v);
  return String(v);
}

/** Nested JSON as [dotted.key, value] pairs, in object order. */
export function flatten(value: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) out.push([prefix, value.length === 0 ? '[]' : value.map(scalar).join(', ')]);
    else value.forEach((v, i) => flatten(v, prefix === '' ? String(i) : `${prefix}.${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== '') out.push([prefix, '{}']);
    for (const [k, v] of entries) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.push([prefix, scalar(value)]);
  }
  return out;
}

/** `ancestryd stats`: any JSON object as aligned "key: value" lines, nested keys dotted. */
export function renderKeyValues(value: unknown): string {
  const pairs = flatten(value);
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${pad(k + ':', width)} ${v}`).join('\n') + (pairs.length > 0 ? '\n' : '');
}

function nodeLabel(n: TreeNode): string {
  const name = terminalSafe(n.comm || '?');
  const path = terminalSafe(n.path ?? '');
  return path && !path.endsWith('/' + name) ? `${n.pid} ${name} (${path})` : `${n.pid} ${name}${path ? ` (${path})` : ''}`;
}

/** `ancestryd tree`: the process tree as ASCII art, children in the order given. */
export function renderTree(root: TreeNode): string {
  const lines: string[] = [nodeLabel(root)];
  // Explicit stack: deep trees must not exhaust the JS stack.
  const stack: { node: TreeNode; prefix: string; last: boolean }[] = [];
  const pushChildren = (n: TreeNode, prefix: string) => {
    const kids = n.children ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i], prefix, last: i === kids.length - 1 });
  };
  pushChildren(root, '');
  while (stack.length > 0) {
    const { node, prefix, last } = stack.pop()!;
    lines.push(prefix + (last ? '└── ' : '├── ') + nodeLabel(node));
    pushChildren(node, prefix + (last ? '    ' : '│   '));
  }
  return lines.join('\n') + '\n';
}

/** `ancestryd events`: one JSON object per line. */
export function renderJsonLines(items: readonly unknown[]): string {
  return items.map((e) => jsonForTerminal(e) + '\n').join('');
}

/** `ancestryd check`: ✓/✗ per check, with the detail and, on failure, the fix. */
export function renderPreflight(checks: readonly PreflightCheck[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  let out = '';
  for (const c of checks) {
    out += `${c.ok ? '✓' : '✗'} ${pad(c.name, width)}  ${c.detail}\n`;
    if (!c.ok && c.fix) out += `  ${' '.repeat(width)}  fix: ${c.fix}\n`;
  }
  const failed = checks.filter((c) => !c.ok).length;
  out += failed === 0 ? 'all checks passed\n' : `${failed} check${failed === 1 ? '' : 's'} failed\n`;
  return out;
}

/** `ancestryd config`: every option, its value and where the value came from. */
export function renderOptions(rows: readonly { name: string; value: OptionValue; source: string }[], configFile: string | null): string {
  const header = `config file: ${configFile ?? '(none)'}\n`;
  return header + table(['OPTION', 'SOURCE', 'VALUE'], rows.map((r) => {
    const v = displayValue(r.value);
    return [r.name, r.source, v === '' ? '""' : v];
  }));
}
