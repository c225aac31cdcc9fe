/** src/sinks/host-port.ts: "host:port" for tls_hostname and metrics_address (issue 11 item 4). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPort, parseHostPort, PORT_RANGE } from '../../src/sinks/host-port';

test('host-port: a host name, an IPv4 address or a bracketed IPv6 literal, then the port', () => {
  assert.deepEqual(parseHostPort('fleet.example:8080'), { host: 'fleet.example', port: 8080 });
  assert.deepEqual(parseHostPort('127.0.0.1:9393'), { host: '127.0.0.1', port: 9393 });
  assert.deepEqual(parseHostPort('[::1]:443'), { host: '::1', port: 443 });
  assert.deepEqual(parseHostPort('[fe80::1]:9393'), { host: 'fe80::1', port: 9393 });
});

test('host-port: the port is required unless a default is given', () => {
  assert.equal(parseHostPort('fleet'), null);
  assert.deepEqual(parseHostPort('fleet', 443), { host: 'fleet', port: 443 });
  assert.deepEqual(parseHostPort('[::1]', 443), { host: '::1', port: 443 });
  assert.deepEqual(parseHostPort('fleet:8443', 443), { host: 'fleet', port: 8443 });
});

test('host-port: what is not host:port is null; the port range is the caller\'s to check', () => {
  for (const s of ['', ':443', 'fleet:', 'fleet:http', 'https://fleet', 'a b:1', '::1:443', 'fleet:123456', 'kafka_1:9092']) {
    assert.equal(parseHostPort(s, 443), null, s);
  }
  assert.deepEqual(parseHostPort('fleet:99999'), { host: 'fleet', port: 99999 });
  assert.deepEqual(PORT_RANGE, [1, 65535]);
  assert.deepEqual([0, 1, 65535, 65536, 1.5].map(isPort), [false, true, true, false, false]);
});
