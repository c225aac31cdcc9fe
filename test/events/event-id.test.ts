import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineBuffer } from '../../src/events/line-buffer';
import { eventId, writeEventId, type EventType } from '../../src/events/schema';

test('the event id written into a line is the string formats build, for every kind and the extremes of time and tid', () => {
  for (const type of ['exec', 'exec_failed', 'fork', 'exit'] as EventType[]) {
    for (const [ktimeNs, tid] of [[0, 1], [1_234_567_890_123, 4_194_304], [Number.MAX_SAFE_INTEGER, 2 ** 32 - 1]]) {
      const out = new LineBuffer(64);
      writeEventId(out, '0123abcd', type, ktimeNs, tid);
      out.end(0);
      assert.equal(out.text(0), eventId('0123abcd', type, ktimeNs, tid));
    }
  }
});
