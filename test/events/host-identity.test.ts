import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMachineId, resolveHost } from '../../src/events/host-identity';

const BOOT = '5f1c2a9e8d7b4c3a9e8d7b4c3a2f1e0d';
const MACHINE = '0b7ac1de9f2e4e8d8c1f2a3b4c5d6e7f';

test('readMachineId: the first valid candidate, trimmed and lower-cased; null when none is', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'host-identity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad');
  const good = join(dir, 'good');
  writeFileSync(bad, 'not-a-machine-id\n');
  writeFileSync(good, `  ${MACHINE.toUpperCase()}\n`);
  assert.equal(readMachineId([join(dir, 'missing'), bad, good]), MACHINE);
  assert.equal(readMachineId([join(dir, 'missing'), bad]), null);
});

test('resolveHost: host_identifier=hostname names the host by its hostname', () => {
  assert.deepEqual(resolveHost({ hostIdentifier: 'hostname', specifiedIdentifier: null }, BOOT, 'build-07', MACHINE),
    { hostname: 'build-07', hostIdentifier: 'build-07', machineId: MACHINE, bootId: BOOT });
  assert.equal(resolveHost({ hostIdentifier: 'hostname', specifiedIdentifier: null }, BOOT, 'build-07', null).machineId, null);
});

test('resolveHost: host_identifier=uuid names it by the machine id, and refuses without one', () => {
  assert.equal(resolveHost({ hostIdentifier: 'uuid', specifiedIdentifier: null }, BOOT, 'build-07', MACHINE).hostIdentifier, MACHINE);
  assert.throws(() => resolveHost({ hostIdentifier: 'uuid', specifiedIdentifier: null }, BOOT, 'build-07', null),
    { code: 'ANC_CONFIG_INVALID', message: /^host_identifier=uuid: \/etc\/machine-id is missing or invalid; .*host_identifier=hostname$/ });
});

test('resolveHost: host_identifier=specified names it by specified_identifier, hostname and machine id kept', () => {
  assert.deepEqual(resolveHost({ hostIdentifier: 'specified', specifiedIdentifier: 'rack-4' }, BOOT, 'build-07', MACHINE),
    { hostname: 'build-07', hostIdentifier: 'rack-4', machineId: MACHINE, bootId: BOOT });
});
