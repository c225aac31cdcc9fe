import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embedJson, jsonString } from '../../src/events/json-text';

test('jsonString equals JSON.stringify for every kind of string', () => {
  const samples = ['', 'plain', 'a"b', 'back\\slash', 'nl\n', '\u0000\u001f', 'ünï', '🚀', '\ud800', 'x\udfffy', '\u2028', '\\x9f'];
  for (const s of samples) assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  for (let i = 0; i < 2000; i++) {
    let s = '';
    for (let k = 0; k < 8; k++) s += String.fromCharCode(Math.floor(Math.random() * 0x10000));
    assert.equal(jsonString(s), JSON.stringify(s));
  }
  assert.equal(embedJson('{"a":"b\\"c"}'), JSON.stringify('{"a":"b\\"c"}').slice(1, -1));
});
