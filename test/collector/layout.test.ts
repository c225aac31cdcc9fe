/**
 * Keeps src/collector/layout.ts and bpf/exec_trace.h in step, two ways:
 *  1. a C program generated from layout.ts is compiled against the header and
 *     prints sizeof/offsetof/enum values as the C compiler sees them;
 *  2. the BTF of the built object is read back, so a field or enumerator that
 *     exists in C but not in TypeScript fails too.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Enums, Structs } from '../../src/collector/layout';
import { BPF_OBJECT, requireBuilt, ROOT, WIRE_HEADER } from '../support/paths';

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: { name: string; type_id: number; bits_offset: number }[];
  values?: { name: string; val: number }[];
  vars?: { type_id: number; offset: number; size: number }[];
}

function generateDumpProgram(): string {
  const lines = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <linux/types.h>',
    '#include "exec_trace.h"',
    '#define FIELD(s, f) printf("%s.%s %zu %zu\\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))',
    'int main(void) {',
  ];
  for (const s of Structs) {
    lines.push(`  printf("%s %zu\\n", "${s.name}", sizeof(struct ${s.name}));`);
    for (const f of Object.keys(s.fields)) lines.push(`  FIELD(${s.name}, ${f});`);
  }
  for (const values of Object.values(Enums)) {
    for (const name of Object.keys(values)) lines.push(`  printf("%s %lld\\n", "${name}", (long long)${name});`);
  }
  lines.push('  return 0;', '}');
  return lines.join('\n') + '\n';
}

describe('wire format layout', () => {
  let dir = '';
  let fromC = new Map<string, number[]>();
  let btf: BtfType[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'anc-layout-'));
    const src = join(dir, 'layout-dump.c');
    writeFileSync(src, generateDumpProgram());
    execFileSync('cc', ['-Wall', '-Werror', '-I', join(ROOT, 'bpf'), '-o', join(dir, 'layout-dump'), src]);
    const out = execFileSync(join(dir, 'layout-dump'), { encoding: 'utf8' });
    fromC = new Map(out.trim().split('\n').map((l) => {
      const [k, ...v] = l.split(' ');
      return [k, v.map(Number)];
    }));
    const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', requireBuilt(BPF_OBJECT)], { encoding: 'utf8' });
    btf = (JSON.parse(json) as { types: BtfType[] }).types;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches the C compiler: struct sizes, field offsets and sizes', () => {
    for (const s of Structs) {
      assert.deepEqual(fromC.get(s.name), [s.size], `sizeof(struct ${s.name})`);
      for (const [f, [off, size]] of Object.entries(s.fields)) {
        assert.deepEqual(fromC.get(`${s.name}.${f}`), [off, size], `${s.name}.${f} [offset, size]`);
      }
    }
  });

  it('matches the C compiler: enum values', () => {
    for (const values of Object.values(Enums)) {
      for (const [name, v] of Object.entries(values)) assert.deepEqual(fromC.get(name), [v], name);
    }
  });

  const byId = () => new Map(btf.map((t) => [t.id, t]));
  const sizeOf = (types: Map<number, BtfType>, id: number): number => {
    const t = types.get(id);
    assert.ok(t, `BTF type ${id}`);
    if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(types, t.type_id!);
    if (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE') return sizeOf(types, t.type_id!);
    return t.size ?? 0;
  };

  it('names every BTF struct member and nothing else', () => {
    const types = byId();
    for (const s of Structs) {
      const t = btf.find((b) => b.kind === 'STRUCT' && b.name === s.name);
      assert.ok(t, `struct ${s.name} is in the object's BTF`);
      assert.equal(t.size, s.size, `BTF size of ${s.name}`);
      const btfFields = Object.fromEntries(t.members!.map((m) => [m.name, [m.bits_offset / 8, sizeOf(types, m.type_id)]]));
      assert.deepEqual(btfFields, s.fields, `members of ${s.name}`);
    }
  });

  it('names every BTF enumerator and nothing else', () => {
    for (const [name, values] of Object.entries(Enums)) {
      const t = btf.find((b) => b.kind === 'ENUM' && b.name === name);
      assert.ok(t, `enum ${name} is in the object's BTF`);
      assert.deepEqual(Object.fromEntries(t.values!.map((v) => [v.name, v.val])), values, `enum ${name}`);
    }
  });

  it('covers every struct and enum the header declares', () => {
    const header = readFileSync(WIRE_HEADER, 'utf8');
    const structs = [...header.matchAll(/^struct (et_\w+) \{/gm)].map((m) => m[1]).sort();
    const enums = [...header.matchAll(/^enum (et_\w+) \{/gm)].map((m) => m[1]).sort();
    assert.deepEqual(structs, Structs.map((s) => s.name).sort());
    assert.deepEqual(enums, Object.keys(Enums).sort());
  });

  it('keeps et_cfg alone at offset 0 of .rodata, where the loader patches it', () => {
    const rodata = btf.find((b) => b.kind === 'DATASEC' && b.name === '.rodata');
    assert.ok(rodata?.vars, '.rodata DATASEC');
    const types = byId();
    const vars = rodata.vars.map((v) => ({ name: types.get(v.type_id)?.name, offset: v.offset }));
    assert.deepEqual(vars, [{ name: 'et_cfg', offset: 0 }]);
  });
});
