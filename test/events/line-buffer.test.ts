import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonContent } from '../../src/events/json-text';
import { LineBuffer } from '../../src/events/line-buffer';

test('json() writes what JSON.stringify escapes, and returns the raw UTF-8 length', () => {
  const b = new LineBuffer(16);
  const cases = ['', 'plain /usr/bin/true --x=1', 'q"uote', 'back\\slash', 'nl\nnul\u0000', 'é ü 🚀', 'lone \ud800 surrogate', 'x'.repeat(5000)];
  for (const s of cases) {
    b.reset();
    const n = b.json(s);
    b.end(1);
    assert.equal(b.text(0), jsonContent(s), JSON.stringify(s));
    assert.equal(n, Buffer.byteLength(s, 'utf8'));
    assert.deepEqual(JSON.parse('"' + b.text(0) + '"'), s.replace('\ud800', '\ufffd') === s ? s : JSON.parse(JSON.stringify(s)));
  }
});

test('int() writes integers exactly up to 2^53, and other numbers as JavaScript prints them', () => {
  const b = new LineBuffer(8);
  for (const n of [0, 7, 10, 99, 4294967295, 1_796_408_671_123_456, Number.MAX_SAFE_INTEGER, -5, 1.5, 2 ** 60]) {
    b.reset();
    b.int(n);
    b.end(0);
    assert.equal(b.text(0), String(n));
  }
});

test('u64() writes every u64 exactly, below and above 2^53', () => {
  const b = new LineBuffer(8);
  for (const n of [0n, 1n, 4026531836n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
    b.reset();
    b.u64(n);
    b.end(0);
    assert.equal(b.text(0), n.toString());
  }
});

test('lines grow the buffer, keep their ends and times, and abandon() drops a half-written one', () => {
  const b = new LineBuffer(4);
  b.ascii('{"a":1}');
  b.end(10);
  b.utf8('{"b":"ü"}');
  b.end(20);
  b.ascii('{"half');
  b.abandon();
  b.bytes(Buffer.from('{"c":' + 'x'.repeat(100) + '}'));
  b.end(30);
  assert.equal(b.count, 3);
  assert.deepEqual([b.text(0), b.text(1), b.text(2)], ['{"a":1}', '{"b":"ü"}', '{"c":' + 'x'.repeat(100) + '}']);
  assert.deepEqual(b.ktimes.slice(0, 3), [10, 20, 30]);
  assert.equal(b.data.toString('utf8', 0, b.ends[2]), '{"a":1}\n{"b":"ü"}\n{"c":' + 'x'.repeat(100) + '}\n');
  b.reset();
  assert.equal(b.count, 0);
});
