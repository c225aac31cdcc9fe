import assert from 'node:assert/strict';
import { test } from 'node:test';
import { esc, niceStep, renderReport } from '../../tools/loadgen/report-html';
import { fixtureRows, fixtureSummary } from './report-fixture';

test('the report is one self-contained page: no script, no external asset', () => {
  const html = renderReport(fixtureSummary(), fixtureRows());
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
  // The only URL is the SVG namespace, which is a name, not a fetch.
  const urls = html.match(/https?:\/\/[^"' )]+/g) ?? [];
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
});

test('it plots memory, CPU, events/s, cache hit rate, the latency histogram and latency over time', () => {
  const html = renderReport(fixtureSummary(), fixtureRows());
  for (const id of ['chart-memory', 'chart-cpu', 'chart-events', 'chart-cache', 'chart-latency', 'chart-latency-time']) {
    assert.match(html, new RegExp(`<svg id="${id}"`), id);
  }
  assert.equal((html.match(/<path d="M/g) ?? []).length, 9, 'one path per series');
  assert.match(html, /<rect [^>]*class="bar"/);
  assert.match(html, /PASS — 20000 execs checked/);
});

test('a failed run says why, and text from the run is escaped', () => {
  const html = renderReport(fixtureSummary({ ok: false, tag: 'a<b>"c' }), fixtureRows());
  assert.match(html, /class="verdict bad"[^>]*>FAIL — 2 execs lost/);
  assert.match(html, /no exec line for pid 42 &lt;script&gt;/);
  assert.match(html, /a&lt;b&gt;&quot;c/);
  assert.equal(esc('<&>"\''), '&lt;&amp;&gt;&quot;&#39;');
});

test('axis steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(100), 20);
  assert.equal(niceStep(7), 2);
  assert.equal(niceStep(0.025), 0.005);
  assert.equal(niceStep(0), 1);
});
