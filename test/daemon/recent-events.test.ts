import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RecentEvents } from '../../src/daemon/recent-events';

function push(r: RecentEvents, pid: number, line: string): void {
  const b = Buffer.from('>' + line + '<');
  r.push(pid, b, 1, b.length - 1);
}

describe('RecentEvents', () => {
  it('keeps the newest lines up to its capacity, oldest first, per pid or all', () => {
    const r = new RecentEvents(3);
    for (let i = 1; i <= 5; i++) push(r, i % 2, `line${i}`);
    assert.deepEqual(r.query(undefined, 10), ['line3', 'line4', 'line5']);
    assert.deepEqual(r.query(1, 10), ['line3', 'line5']);
    assert.deepEqual(r.query(undefined, 2), ['line4', 'line5'], 'the limit keeps the newest');
  });

  it('drops the oldest lines past its byte bound, keeping at least the newest', () => {
    const r = new RecentEvents(100, 10);
    push(r, 1, 'aaaa');
    push(r, 2, 'bbbb');
    push(r, 3, 'cccc');
    assert.deepEqual(r.query(undefined, 10), ['bbbb', 'cccc']);
    push(r, 4, 'x'.repeat(50));
    assert.deepEqual(r.query(undefined, 10), ['x'.repeat(50)]);
  });

  it('holds nothing with capacity 0', () => {
    const r = new RecentEvents(0);
    push(r, 1, 'a');
    assert.deepEqual(r.query(undefined, 10), []);
  });
});

describe('RecentEvents byte ring', () => {
  it('wraps around its buffer and returns every held line intact, multibyte included', () => {
    const r = new RecentEvents(1000, 100);
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      const line = `{"n":${i},"s":"${'é'.repeat(i % 7)}${'x'.repeat(i % 13)}"}`;
      lines.push(line);
      push(r, i, line);
      const held = r.query(undefined, 1000);
      assert.deepEqual(held, lines.slice(lines.length - held.length), `after ${i}`);
      assert.ok(held.reduce((a, l) => a + Buffer.byteLength(l), 0) <= 100);
      assert.equal(held.at(-1), line);
    }
    assert.deepEqual(r.query(199, 10), [lines[199]]);
  });
});
