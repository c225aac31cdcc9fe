import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RecentEvents } from '../../src/daemon/recent-events';

/** One line, as a pass of one. */
function push(r: RecentEvents, pid: number, line: string): void {
  pushPass(r, [[pid, line]]);
}

/** Lines as a drain pass hands them over: one buffer, each line ending in "\n". */
function pushPass(r: RecentEvents, lines: [number, string][]): void {
  const b = Buffer.from(lines.map(([, l]) => l + '\n').join(''));
  const ends: number[] = [];
  let at = 0;
  for (const [, l] of lines) ends.push(at += Buffer.byteLength(l) + 1);
  r.pushLines(lines.map(([p]) => p), b, ends, lines.length);
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
      assert.ok(held.reduce((a, l) => a + Buffer.byteLength(l) + 1, 0) <= 100, 'lines and their newlines within the bound');
      assert.equal(held.at(-1), line);
    }
    assert.deepEqual(r.query(199, 10), [lines[199]]);
  });
});

describe('RecentEvents, whole passes', () => {
  it('a pass is filed line by line, whether it fits, wraps, or holds more lines than the capacity', () => {
    for (const [capacity, maxBytes] of [[1000, 100], [3, 100], [1000, 37], [1, 1000]]) {
      const r = new RecentEvents(capacity, maxBytes);
      const lines: string[] = [];
      for (let p = 0; p < 60; p++) {
        const pass: [number, string][] = [];
        for (let i = 0; i < p % 9; i++) {
          const n = lines.length;
          const line = `{"n":${n},"s":"${'é'.repeat(n % 5)}${'x'.repeat(n % 11)}"}`;
          lines.push(line);
          pass.push([n, line]);
        }
        pushPass(r, pass);
        const held = r.query(undefined, 10_000);
        assert.deepEqual(held, lines.slice(lines.length - held.length), `capacity ${capacity}, ${maxBytes} B, pass ${p}`);
        assert.ok(held.length <= capacity);
        if (lines.length > 0) assert.equal(held.at(-1), lines.at(-1), 'the newest line is always held');
        if (held.length > 0) assert.deepEqual(r.query(lines.length - 1, 1), [lines.at(-1)]);
      }
    }
  });

  it('an oversized line in the middle of a pass is held alone, then the bound comes back', () => {
    const r = new RecentEvents(100, 20);
    pushPass(r, [[1, 'aaaa'], [2, 'y'.repeat(50)], [3, 'bbbb'], [4, 'cccc']]);
    assert.deepEqual(r.query(undefined, 10), ['bbbb', 'cccc']);
    pushPass(r, [[5, 'dddd'], [6, 'z'.repeat(30)]]);
    assert.deepEqual(r.query(undefined, 10), ['z'.repeat(30)]);
  });
});
