/**
 * Checks ECS documents against the ECS field reference
 * (test/reference/ecs-9.4-fields.tsv: name, type, level, normalize, from
 * elastic/ecs v9.4.0). Every leaf must be an ECS field of a matching JSON
 * type, except in the places ECS leaves to the producer: the custom
 * top-level namespace `ancestryd.*` and any `.Ext.` object.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './paths';

interface EcsField { type: string; array: boolean }

export const ECS_REFERENCE = join(ROOT, 'test', 'reference', 'ecs-9.4-fields.tsv');

let fields: Map<string, EcsField> | null = null;

export function ecsFields(): Map<string, EcsField> {
  if (fields !== null) return fields;
  const out = new Map<string, EcsField>();
  for (const line of readFileSync(ECS_REFERENCE, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('field\t')) continue;
    const [name, type, , normalize = ''] = line.split('\t');
    out.set(name, { type, array: normalize.split(',').includes('array') });
  }
  fields = out;
  return out;
}

const STRINGS = new Set(['keyword', 'wildcard', 'constant_keyword', 'match_only_text', 'text', 'version']);
const INTEGERS = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const NUMBERS = new Set(['float', 'double', 'half_float', 'scaled_float']);
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

function scalarOk(type: string, v: unknown): boolean {
  if (STRINGS.has(type)) return typeof v === 'string';
  // Elasticsearch's ip type takes an IPv4 or IPv6 address, nothing else.
  if (type === 'ip') return typeof v === 'string' && isIP(v) !== 0;
  if (INTEGERS.has(type)) return Number.isSafeInteger(v);
  if (NUMBERS.has(type)) return typeof v === 'number' && Number.isFinite(v);
  if (type === 'date') return typeof v === 'string' && ISO_DATE.test(v);
  if (type === 'boolean') return typeof v === 'boolean';
  return false;
}

function isCustom(path: string): boolean {
  return path === 'ancestryd' || path.startsWith('ancestryd.') || path.split('.').includes('Ext');
}

/** Every problem with `doc` as an ECS document; empty when it conforms. Also returns the ECS fields seen. */
export function checkEcs(doc: unknown): { problems: string[]; seen: string[] } {
  const ref = ecsFields();
  const problems: string[] = [];
  const seen: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (isCustom(path)) return;
    const f = ref.get(path);
    if (f !== undefined && f.type !== 'object' && f.type !== 'nested' && f.type !== 'flattened') {
      seen.push(path);
      if (Array.isArray(v)) {
        if (!f.array) problems.push(`${path}: an array where ECS has one ${f.type}`);
        for (const x of v) if (!scalarOk(f.type, x)) problems.push(`${path}: ${JSON.stringify(x)} is not a ${f.type}`);
      } else {
        if (f.array) problems.push(`${path}: ECS expects an array of ${f.type}`);
        if (!scalarOk(f.type, v)) problems.push(`${path}: ${JSON.stringify(v)} is not a ${f.type}`);
      }
      return;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && path !== '') problems.push(`${path}: an empty object`);
      for (const k of keys) walk((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`);
      return;
    }
    problems.push(`${path}: not an ECS field (${Array.isArray(v) ? 'array' : typeof v})`);
  };
  walk(doc, '');
  return { problems, seen };
}
