/**
 * Checks OCSF Process Activity events against the schema's attribute table
 * (test/reference/ocsf-process-activity-fields.tsv: where, attribute, type,
 * array, requirement; from ocsf/ocsf-schema 1.9.0-dev). Every attribute must
 * exist where it is used, with its dictionary type, as an array exactly when
 * the schema says so; every object must carry its required attributes.
 * `unmapped` and `xattributes` (type object) are free-form by definition.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths';

interface OcsfAttribute { type: string; array: boolean; required: boolean }

export const OCSF_REFERENCE = join(ROOT, 'test', 'reference', 'ocsf-process-activity-fields.tsv');
const CLASS = 'class process_activity (uid 1007)';

let table: Map<string, Map<string, OcsfAttribute>> | null = null;

/** where ("class …" or "object <name>") → attribute → definition. */
export function ocsfAttributes(): Map<string, Map<string, OcsfAttribute>> {
  if (table !== null) return table;
  const out = new Map<string, Map<string, OcsfAttribute>>();
  for (const line of readFileSync(OCSF_REFERENCE, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('where\t')) continue;
    const [where, attribute, type, array, requirement] = line.split('\t');
    if (!out.has(where)) out.set(where, new Map());
    out.get(where)!.set(attribute, { type, array: array === 'array', required: requirement === 'required' });
  }
  table = out;
  return out;
}

const STRING_TYPES = new Set(['string_t', 'file_path_t', 'hostname_t', 'uuid_t', 'email_t', 'url_t', 'ip_t', 'subnet_t', 'mac_t', 'datetime_t', 'username_t', 'resource_uid_t', 'file_name_t', 'process_name_t']);
const INT32 = (v: unknown) => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31;

function scalarOk(type: string, v: unknown): boolean {
  if (STRING_TYPES.has(type)) return typeof v === 'string';
  if (type === 'integer_t') return INT32(v);
  if (type === 'long_t') return Number.isSafeInteger(v);
  // Epoch milliseconds: an integer, and after 2001 (a seconds or ns value would be far off).
  if (type === 'timestamp_t') return Number.isSafeInteger(v) && (v as number) > 1e12 && (v as number) < 1e14;
  if (type === 'float_t') return typeof v === 'number' && Number.isFinite(v);
  if (type === 'boolean_t') return typeof v === 'boolean';
  return false;
}

/** Every problem with `event` as a Process Activity event; empty when it conforms. */
export function checkOcsf(event: unknown): string[] {
  const t = ocsfAttributes();
  const problems: string[] = [];
  const checkObject = (v: unknown, where: string, path: string): void => {
    const attrs = t.get(where);
    if (attrs === undefined) {
      problems.push(`${path}: type ${where} is not in the reference`);
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${path}: not an object (${where})`);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const [name, a] of attrs) {
      if (a.required && !(name in o)) problems.push(`${path === '' ? '' : path + '.'}${name}: required by ${where}, missing`);
    }
    for (const [name, value] of Object.entries(o)) {
      const at = path === '' ? name : `${path}.${name}`;
      const a = attrs.get(name);
      if (a === undefined) {
        problems.push(`${at}: not an attribute of ${where}`);
        continue;
      }
      if (value === null) {
        problems.push(`${at}: null (leave an attribute out instead)`);
        continue;
      }
      if (a.array !== Array.isArray(value)) {
        problems.push(`${at}: ${a.array ? 'an array' : 'one value'} expected (${a.type})`);
        continue;
      }
      for (const item of a.array ? (value as unknown[]) : [value]) checkValue(item, a.type, at);
    }
  };
  const checkValue = (v: unknown, type: string, path: string): void => {
    if (type === 'object') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) problems.push(`${path}: not an object`);
      return;
    }
    if (type.endsWith('_t')) {
      if (!scalarOk(type, v)) problems.push(`${path}: ${JSON.stringify(v)} is not a ${type}`);
      return;
    }
    checkObject(v, `object ${type}`, path);
  };
  checkObject(event, CLASS, '');
  return problems;
}
