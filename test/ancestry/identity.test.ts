import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntityIds, startTicks } from '../../src/ancestry/identity';
import { parseEntityId } from '../support/entity-id';

describe('entity ids', () => {
  it('formats boot id, start_boottime and tgid, and parses back', () => {
    const ids = new EntityIds('0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9');
    const id = ids.format(705577682275n, 13218);
    assert.equal(id, '0a1b2c3d4e5f60718293a4b5c6d7e8f9-705577682275-13218');
    assert.deepEqual(parseEntityId(id), { bootId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9', startNs: 705577682275n, tgid: 13218 });
    assert.equal(parseEntityId('13218'), null);
  });

  it('is deterministic: same inputs, same id, across instances (daemon restarts)', () => {
    const a = new EntityIds('0a1b2c3d4e5f60718293a4b5c6d7e8f9');
    const b = new EntityIds('0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9');
    assert.equal(a.format(18446744073709551615n, 4194304), b.format(18446744073709551615n, 4194304));
    assert.notEqual(a.format(1n, 7), a.format(2n, 7), 'a reused pid with a new start time is a new entity');
  });

  it('converts ns to /proc stat ticks (USER_HZ = 100) by truncation', () => {
    assert.equal(startTicks(705577682275n), 70557);
    assert.equal(startTicks(9_999_999n), 0);
    assert.equal(startTicks(10_000_000n), 1);
  });
});
