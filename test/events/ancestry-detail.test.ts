/** process_ancestry_detail: what each format carries per ancestor at full, compact and ids. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANCESTRY_DETAILS, createFormat } from '../../src/events';
import { checkEcs } from '../support/ecs-reference';
import { checkOcsf } from '../support/ocsf-reference';
import { clock, host, makeLineage } from './lineage-fixture';

const l = makeLineage(10);
const ids = l.ancestry.map((v) => v.entityId);

test('osquery: the ancestry column holds full elements, the six compact fields, or entity ids', () => {
  const sizes: number[] = [];
  for (const detail of ANCESTRY_DETAILS) {
    const line = createFormat('osquery', { host, clock, ancestryDetail: detail }).exec(l);
    sizes.push(line.length);
    const a = JSON.parse(JSON.parse(line).columns.ancestry) as unknown[];
    assert.equal(a.length, 10, detail);
    if (detail === 'ids') assert.deepEqual(a, ids);
    else assert.deepEqual(a.map((e) => (e as { entity_id: string }).entity_id), ids, detail);
    if (detail === 'compact') {
      assert.deepEqual(Object.keys(a[0] as object), ['entity_id', 'pid', 'ppid', 'exe_name', 'path', 'proc_time_hr']);
      assert.equal((a[0] as { proc_time_hr: number }).proc_time_hr, Number(l.ancestry[0].startEpochNs));
      assert.ok(JSON.parse(line).columns.ancestry.includes(`"proc_time_hr":${l.ancestry[0].startEpochNs}`), 'ns digits exact');
    }
    if (detail === 'full') assert.ok('cmdline' in (a[0] as object) && 'start_boottime' in (a[0] as object));
  }
  assert.ok(sizes[0] > sizes[1] && sizes[1] > sizes[2], `full > compact > ids: ${sizes.join(' ')}`);
});

test('ECS: full or compact objects in ancestryd.ancestry, none at ids; process.Ext.ancestry at every level; all ECS-valid', () => {
  for (const detail of ANCESTRY_DETAILS) {
    const d = JSON.parse(createFormat('ecs', { host, clock, ancestryDetail: detail }).exec(l));
    assert.deepEqual(checkEcs(d).problems, [], detail);
    assert.deepEqual(d.process.Ext.ancestry, ids, detail);
    if (detail === 'ids') assert.equal(d.ancestryd.ancestry, undefined);
    else assert.deepEqual(d.ancestryd.ancestry.map((e: { entity_id: string }) => e.entity_id), ids);
    if (detail === 'compact') assert.deepEqual(Object.keys(d.ancestryd.ancestry[0]), ['pid', 'entity_id', 'executable', 'name', 'start', 'parent']);
    assert.equal(d.ancestryd.ancestry_complete, true);
  }
});

test('OCSF: process_entity without cmd_line at compact, uid alone and no lineage at ids; all OCSF-valid', () => {
  for (const detail of ANCESTRY_DETAILS) {
    const d = JSON.parse(createFormat('ocsf', { host, clock, ancestryDetail: detail }).exec(l));
    assert.deepEqual(checkOcsf(d), [], detail);
    assert.deepEqual(d.process.ancestry.map((e: { uid: string }) => e.uid), ids, detail);
    const keys = Object.keys(d.process.ancestry[0]);
    if (detail === 'full') assert.ok(keys.includes('cmd_line'));
    if (detail === 'compact') assert.deepEqual(keys, ['pid', 'uid', 'name', 'path', 'created_time']);
    if (detail === 'ids') {
      assert.deepEqual(keys, ['uid']);
      assert.equal(d.process.lineage, undefined);
    } else assert.equal(d.process.lineage.length, 10);
  }
});
