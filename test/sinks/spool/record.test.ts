import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32, crc32Table } from '../../../src/sinks/spool/crc32';
import { LineEncoder } from '../../support/string-lines';
import { HEADER_BYTES, RecordEncoder, newParsedRecord, parseRecord } from '../../../src/sinks/spool/record';

test('crc32: standard check value, table and native agree', () => {
  assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  for (let i = 0; i < 50; i++) {
    const b = randomBytes(i * 37);
    assert.equal(crc32Table(b), crc32(b));
    assert.equal(crc32Table(b.subarray(5), crc32Table(b.subarray(0, 5))), crc32(b));
  }
});

test('records round-trip; unicode lengths are bytes; truncation reads as incomplete', () => {
  const enc = new RecordEncoder();
  const lines = ['{"a":1}', '{"s":"ünï🚀"}', '{}'];
  const buf = Buffer.from(enc.encode(new LineEncoder().encode(lines, [10, 20, 2 ** 52]), 0, 7));
  const r = newParsedRecord();
  let off = 0;
  for (let i = 0; i < 3; i++) {
    assert.equal(parseRecord(buf, off, buf.length, r), 'record');
    assert.equal(r.id, 7 + i);
    assert.equal(buf.toString('utf8', r.payloadStart, r.payloadEnd), lines[i] + '\n');
    off = r.payloadEnd;
  }
  assert.equal(r.ktimeNs, 2 ** 52);
  assert.equal(off, buf.length);
  assert.equal(parseRecord(buf, 0, HEADER_BYTES + 3, r), 'incomplete');
  assert.equal(parseRecord(buf, 0, 10, r), 'incomplete');
  buf[HEADER_BYTES + 2] ^= 1;
  assert.equal(parseRecord(buf, 0, buf.length, r), 'corrupt');
});
