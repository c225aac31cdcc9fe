import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchAccumulator } from '../../../src/sinks/spool/batch-accumulator';

test('a batch owns a copy of the spans it was given: the source buffers may be reused at once', () => {
  const acc = new BatchAccumulator();
  const a = Buffer.from('xx{"n":1}\nyy');
  const b = Buffer.from('{"n":2}\n{"n":3}\n');
  acc.add(a, 2, 10, 7, 100);
  acc.add(b, 0, 8, 8, 200);
  acc.add(b, 8, 16, 9, 300);
  const batch = acc.build();
  a.fill(0);
  b.fill(0);
  assert.equal(batch.data.toString(), '{"n":1}\n{"n":2}\n{"n":3}\n');
  assert.deepEqual([batch.firstId, batch.lastId, batch.count, batch.firstKtimeNs, batch.lastKtimeNs], [7, 9, 3, 100, 300]);
  assert.deepEqual([acc.lines, acc.bytes], [0, 0], 'build starts over');
  acc.add(Buffer.from('{"n":4}\n'), 0, 8, 10, 400);
  const next = acc.build();
  assert.deepEqual([next.firstId, next.count, next.data.toString()], [10, 1, '{"n":4}\n']);
});
