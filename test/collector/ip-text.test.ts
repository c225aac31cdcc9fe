import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ipText } from '../../src/collector/ip-text';

test('writes IPv6 addresses as RFC 5952 does', () => {
  const v6 = (hex: string) => ipText(Buffer.from(hex, 'hex'), 0, 10);
  assert.equal(v6('00000000000000000000000000000000'), '::');
  assert.equal(v6('00000000000000000000000000000001'), '::1');
  assert.equal(v6('00010000000000000000000000000000'), '1::');
  assert.equal(v6('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1', 'one zero group stays');
  assert.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1', 'the first of two equal runs');
  assert.equal(v6('20010db800000000000000010000abcd'), '2001:db8::1:0:abcd', 'the longest run, lower case');
  assert.equal(ipText(Buffer.from([255, 255, 255, 255]), 0, 2), '255.255.255.255');
  assert.equal(v6('00000000000000000000ffffc0000207'), '192.0.2.7', 'IPv4-mapped: the IPv4 it is');
  assert.equal(v6('0000000000000000000000000000ffff'), '::ffff', 'not mapped: ::ffff alone');
  assert.equal(ipText(Buffer.alloc(16), 0, 1), null, 'a family that is neither');
});
