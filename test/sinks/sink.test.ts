import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { batchJsonArray, splitBatch, type EventBatch } from '../../src/sinks/sink';
import { StdoutSink } from '../../src/sinks/stdout/stdout-sink';

function batch(lines: string[]): EventBatch {
  const data = Buffer.from(lines.map((l) => l + '\n').join(''));
  return { firstId: 1, lastId: lines.length, count: lines.length, data, firstKtimeNs: 0, lastKtimeNs: 0 };
}

test('batchJsonArray joins serialized lines into a JSON array without parsing', () => {
  const lines = ['{"a":"x\\ny"}', '{"b":[1,2]}', '{"c":"ü🚀"}'];
  const out = batchJsonArray(batch(lines), '{"node_key":"k","data":', '}');
  assert.deepEqual(JSON.parse(out.toString()), { node_key: 'k', data: lines.map((l) => JSON.parse(l)) });
  assert.equal(batchJsonArray(batch([]), '', '').toString(), '[]');
});

test('stdout sink writes the lines to its stream', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const s = new StdoutSink(out);
  await s.start();
  assert.equal(await s.send(batch(['{"n":1}', '{"n":2}'])), 'delivered');
  await s.close();
  assert.equal(await s.send(batch(['{"n":3}'])), 'retry');
  assert.equal(Buffer.concat(chunks).toString(), '{"n":1}\n{"n":2}\n');
});

test('issue 10: stdout whose reader went away (a real pipe to head -c 1) rejects and counts, never crashes', async () => {
  const reader = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise((r) => reader.once('exit', r));
  const s = new StdoutSink(reader.stdin!);
  await s.start();
  const big = batch(Array.from({ length: 100 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(1000) })));
  const results: string[] = [await s.send(big)]; // head reads its byte and exits
  await exited;
  for (let i = 0; i < 5; i++) results.push(await s.send(big));
  assert.ok(results.includes('rejected'), `answers: ${results.join(', ')}`);
  assert.equal(results.at(-1), 'rejected', 'and keeps rejecting once the reader is gone');
  assert.match(s.lastError ?? '', /stdout is closed/);
  await s.close();
});

test('splitBatch cuts at a line boundary: ⌈n/2⌉ events and the rest, with exact ids', () => {
  const data = Buffer.from('{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n{"a":5}\n');
  const [x, y] = splitBatch({ firstId: 10, lastId: 14, count: 5, data, firstKtimeNs: 1, lastKtimeNs: 9 });
  assert.deepEqual([x.firstId, x.lastId, x.count, x.data.toString()], [10, 12, 3, '{"a":1}\n{"a":2}\n{"a":3}\n']);
  assert.deepEqual([y.firstId, y.lastId, y.count, y.data.toString()], [13, 14, 2, '{"a":4}\n{"a":5}\n']);
  const [one, none] = splitBatch({ firstId: 1, lastId: 2, count: 2, data: Buffer.from('{}\n{}\n'), firstKtimeNs: 0, lastKtimeNs: 0 });
  assert.deepEqual([one.count, none.count, one.data.length + none.data.length], [1, 1, 6]);
});
