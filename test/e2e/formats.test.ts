/**
 * The daemon's lines in each schema, from the real kernel: every ECS line of
 * every event type (exec, failed exec, fork, exit) is checked field by field
 * against the ECS 9.4.0 reference.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';
import { checkEcs } from '../support/ecs-reference';

interface EcsLine {
  event: { action: string };
  process: { pid: number; args?: string[]; Ext?: { ancestry: string[] }; parent?: { entity_id?: string } };
  ancestryd: { ancestry?: { entity_id: string }[] };
}

describe('ECS lines from the real kernel', () => {
  let d: DaemonHarness;
  before(async () => {
    d = await DaemonHarness.create(['--logger_format=ecs', '--event_types=exec,exec_failed,fork,exit']);
    await d.start();
  });
  after(async () => {
    await d?.close();
  });

  it('validate against the ECS 9.4.0 field reference, for exec, failed exec, fork and exit', async () => {
    const tag = `ecs-check-${process.pid}`;
    // A shell that forks, execs, fails an exec and exits: all four kinds, from one tagged tree.
    const r = spawnSync('/bin/sh', ['-c', `/bin/true ${tag}; /nonexistent-${tag} 2>/dev/null; (/bin/echo ${tag} >/dev/null); exit 0`]);
    assert.equal(r.status, 0);
    assert.equal(await d.stop(), 0);
    const docs = d.resultLines().map((l) => JSON.parse(l) as EcsLine);
    const actions = new Set(docs.map((x) => x.event.action));
    for (const a of ['exec', 'exec_failed', 'fork', 'exit']) assert.ok(actions.has(a), `a ${a} line among ${docs.length}`);
    let checked = 0;
    for (const doc of docs) {
      const { problems } = checkEcs(doc);
      assert.deepEqual(problems, [], JSON.stringify(doc));
      checked++;
    }
    assert.ok(checked >= 4);
    const exec = docs.find((x) => x.event.action === 'exec' && x.process.args?.includes(tag));
    assert.ok(exec, 'the tagged exec');
    const ids = exec.process.Ext!.ancestry;
    assert.ok(ids.length >= 2, 'the tagged exec has ancestors up to init');
    assert.equal(ids[0], exec.process.parent!.entity_id, 'process.Ext.ancestry starts at the parent');
    assert.deepEqual(ids, exec.ancestryd.ancestry!.map((a) => a.entity_id), 'the same lineage as the full objects');
  });
});
