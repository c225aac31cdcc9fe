/** src/sinks/kafka/message-key.ts: the entity id found in lines of both real formats, and nothing where there is none. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entityIdKey } from '../../src/sinks/kafka/message-key';
import { SampleEvents } from '../support/kafka/sample-events';

function keyOf(line: string): string | null {
  const b = Buffer.from('garbage before\n' + line + '\nafter');
  const start = b.indexOf('\n') + 1;
  const end = b.indexOf('\n', start);
  const k = entityIdKey(b, start, end);
  return k === null ? null : k.toString('latin1');
}

test('kafka key: the event\'s own entity_id in osquery result, ECS and OCSF lines (not a parent\'s or an ancestor\'s)', () => {
  for (const format of ['osquery', 'ecs', 'ocsf'] as const) {
    const ev = new SampleEvents(format);
    for (const seq of [0, 1, 77, 123_456]) {
      const line = ev.line(seq);
      assert.equal(keyOf(line), SampleEvents.entityId(seq), `${format} ${seq}`);
      // the line also holds parent and ancestor ids: the key is not one of them
      assert.ok(line.split(format === 'ocsf' ? '"uid"' : 'entity_id').length > 3, 'sample carries several entity ids');
    }
  }
});

test('kafka key: quotes inside values cannot fake the field', () => {
  const line = JSON.stringify({
    name: 'process_events', hostIdentifier: 'h', decorations: { note: '"columns":{"entity_id":"fake"' },
    columns: { ancestry: '[{"entity_id":"ancestor"}]', cmdline: 'echo "entity_id":"evil"', current_parent_entity_id: 'cp', entity_id: 'real-1-2' },
  });
  assert.equal(keyOf(line), 'real-1-2');
  const ecs = JSON.stringify({ '@timestamp': 't', host: { name: '"process":{"entity_id":"fake"' }, process: { pid: 1, entity_id: 'real-3-4', parent: { entity_id: 'p' } } });
  assert.equal(keyOf(ecs), 'real-3-4');
  const ocsf = JSON.stringify({ activity_id: 1, metadata: { uid: 'event-id' }, device: { uid: 'machine', name: '"process":{"uid":"fake"' }, process: { pid: 1, uid: 'real-5-6' }, actor: { process: { uid: 'parent' } } });
  assert.equal(keyOf(ocsf), 'real-5-6');
});

test('kafka key: none for other shapes, missing fields, empty or escaped values, or a field beyond the line', () => {
  assert.equal(keyOf('{"other":1,"columns":{"entity_id":"x"}}'), null, 'neither format');
  assert.equal(keyOf('{"name":"q","columns":{"pid":"1"}}'), null, 'no entity_id');
  assert.equal(keyOf('{"name":"q","columns":{"entity_id":""}}'), null, 'empty');
  assert.equal(keyOf('{"name":"q","columns":{"entity_id":"a\\"b"}}'), null, 'escaped');
  assert.equal(keyOf('{"name":"q","columns":{"pid":"1"}}'), null);
  const b = Buffer.from('{"name":"q","columns":{"pid":"1"}}\n{"name":"q","columns":{"entity_id":"next-line"}}\n');
  assert.equal(entityIdKey(b, 0, b.indexOf('\n')), null, 'a key in the next line is not this line\'s');
  assert.equal(keyOf('{}'), null);
});
