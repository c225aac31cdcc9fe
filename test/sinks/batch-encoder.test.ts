import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchEncoder } from '../../src/sinks/batch-encoder';

test('encodes lines as newline-terminated UTF-8, multibyte and lone surrogates included', () => {
  const enc = new BatchEncoder(1 << 20);
  const lines = ['{"a":1}', '{"s":"ü🚀 é"}', '', '{"x":"\ud800"}'];
  assert.equal(enc.encode(lines, 0), lines.length);
  assert.deepEqual(enc.view(), Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8'));
  // From an offset, reusing the buffer.
  assert.equal(enc.encode(lines, 2), lines.length);
  assert.equal(enc.view().toString(), '\n{"x":"\ufffd"}\n');
});

test('stops before maxBytes, always takes one line, and grows for a line larger than the limit', () => {
  const enc = new BatchEncoder(1024);
  const line = 'x'.repeat(300);
  const lines = Array.from({ length: 10 }, () => line);
  const cuts: number[] = [];
  for (let from = 0; from < lines.length; from = enc.encode(lines, from)) {
    cuts.push(from);
    assert.ok(enc.view().length <= 1024);
  }
  assert.deepEqual(cuts, [0, 3, 6, 9]);
  const big = 'ü'.repeat(5000); // 10 000 bytes, over the limit alone
  assert.equal(enc.encode([big, 'after'], 0), 1);
  assert.equal(enc.view().length, 10_001);
  assert.equal(enc.view().toString(), big + '\n');
  assert.equal(enc.encode([big, 'after'], 1), 2);
  assert.equal(enc.view().toString(), 'after\n');
});
