import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RateLimitedLog, rateLimitedLogger, type RateLimitedTarget } from '../../src/daemon/rate-limited-log';

function capture(): { target: RateLimitedTarget; lines: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => { lines.push({ level, obj: obj as Record<string, unknown>, msg }); };
  return { target: { warn: at('warn'), error: at('error') }, lines };
}

describe('RateLimitedLog', () => {
  it('writes the first lines of a burst per key, counts the rest, and reports the count on the next window', () => {
    let now = 0;
    const { target, lines } = capture();
    const rl = new RateLimitedLog(target, { intervalMs: 1000, burst: 2, now: () => now });
    const results = [1, 2, 3, 4, 5].map((i) => rl.warn('decode:short_record', { i }, 'malformed record'));
    assert.deepEqual(results, [true, true, false, false, false]);
    assert.equal(rl.warn('procfs:ENOENT', {}, 'process gone'), true, 'keys are independent');
    now = 1000;
    assert.equal(rl.warn('decode:short_record', { i: 6 }, 'malformed record'), true);
    assert.deepEqual(lines.map((l) => [l.level, l.obj.i ?? null, l.obj.suppressed ?? 0]), [
      ['warn', 1, 0], ['warn', 2, 0], ['warn', null, 0], ['warn', 6, 3],
    ]);
  });

  it('flush() writes one summary per key with suppressed lines', () => {
    const { target, lines } = capture();
    const rl = new RateLimitedLog(target, { burst: 1, now: () => 0 });
    rl.error('sink:rejected', {}, 'batch rejected');
    rl.error('sink:rejected', {}, 'batch rejected');
    rl.error('sink:rejected', {}, 'batch rejected');
    rl.flush();
    rl.flush();
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[1], { level: 'error', obj: { key: 'sink:rejected', suppressed: 2 }, msg: '2 more "batch rejected" suppressed (rate limit)' });
  });

  it('bounds the number of keys it tracks', () => {
    const { target, lines } = capture();
    const rl = new RateLimitedLog(target, { burst: 1, maxKeys: 2, now: () => 0 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) rl.warn(k, {}, k);
    assert.deepEqual(lines.map((l) => l.msg), ['a', 'b', 'c']);
    rl.flush();
    assert.deepEqual(lines.slice(3).map((l) => l.obj), [{ key: '(other)', suppressed: 2 }]);
  });
});

describe('rateLimitedLogger', () => {
  it('limits warnings and errors per message, passes info through, and carries the count on the next line', () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const target = {
      info: (obj: object, msg: string) => void lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
      warn: (obj: object, msg: string) => void lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      error: (obj: object, msg: string) => void lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    };
    let t = 0;
    const log = rateLimitedLogger(target, { burst: 2, intervalMs: 1000, now: () => t });
    for (let i = 0; i < 50; i++) log.error({ err: 'ENOSPC' }, 'spool write failed; events dropped');
    for (let i = 0; i < 3; i++) log.info({}, 'fine');
    log.warn({}, 'other');
    assert.deepEqual(lines.map((l) => `${l.level}:${l.msg}`), [
      'error:spool write failed; events dropped', 'error:spool write failed; events dropped', 'info:fine', 'info:fine', 'info:fine', 'warn:other',
    ]);
    t = 1001;
    log.error({ err: 'ENOSPC' }, 'spool write failed; events dropped');
    assert.equal(lines.at(-1)!.obj.suppressed, 48);
  });
});
