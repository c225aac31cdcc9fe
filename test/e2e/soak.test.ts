/**
 * The soak runner end to end, short, run as `make soak` runs it: the real
 * daemon, procgen in mix mode, admin queries, the checker, the CSV; then the
 * HTML report opened in a real headless browser (Debian's chromium), which
 * must render the summary and every plot. A second run fails on purpose
 * (an unreachable --min-rate) with markup in its exe's name: its report
 * must say why, and show the name as text.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { countColor, decodePng } from '../support/png';
import { requireBuilt, ROOT } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

const SOAK = join(ROOT, 'dist', 'tools', 'soak', 'soak.js');
const CHROMIUM = '/usr/bin/chromium';

type Run = { status: number | null; stdout: string; stderr: string };

function soak(args: string[]): Run {
  const r = spawnSync(process.execPath, [SOAK, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function chromium(dir: string, args: string[]): Run {
  const profile = mkdtempSync(join(dir, 'chromium-'));
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fields of summary.json these tests read. */
interface Summary {
  verdict: { ok: boolean; problems: string[] };
  check: { truth: number; correct: number; lost: number; wrong: number; incomplete: { total: number } };
  latency: { count: number };
  queries: { counts: { sent: number } };
}

/** A y-axis label as the report prints it: 1.5k, 2M, 0.005. */
function labelValue(s: string): number {
  const m = /^(-?[\d.]+)([kM]?)$/.exec(s);
  assert.ok(m, `axis label ${s}`);
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
}

let dir: string;

before(() => {
  requireRootAndBpf();
  requireBuilt(SOAK);
  requireBuilt(join(ROOT, 'build', 'procgen'));
  requireBuilt(join(ROOT, 'build', 'clock-offset'));
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  dir = mkdtempSync(join(tmpdir(), 'anc-soak-'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('make soak (short): CSV, summary, HTML in headless chromium', () => {
  let out: string;
  let run: Run;

  before(() => {
    out = join(dir, 'pass');
    run = soak(['--duration', '6', '--rate', '500', '--mode', 'mix', '--query-rate', '20', '--wrap-every', '2', '--out', out]);
  });

  it('passes: every exec checked, none lost or wrong', () => {
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    assert.equal(s.verdict.ok, true, s.verdict.problems.join('; '));
    assert.ok(s.check.truth > 0);
    assert.equal(s.check.correct + s.check.incomplete.total, s.check.truth);
    assert.equal(s.check.lost + s.check.wrong, 0);
    assert.ok(s.latency.count > 0 && s.queries.counts.sent > 0);
    assert.match(run.stdout, /# soak mix 500 exec\/s × 6 s — PASS/);
  });

  it('writes one CSV row per second, starting with the old load test\'s columns', () => {
    const text = readFileSync(join(out, 'soak.csv'), 'utf8');
    assert.ok(text.startsWith('timestamp,memory_mb,cpu_percent,cache_hits,cache_misses,events_per_sec,ring_lost,cache_size,incomplete,query_p99_ms,'));
    const [head, ...lines] = text.split('\n').filter((l) => l !== '');
    const columns = head.split(',');
    const rows = lines.map((l) => {
      const cells = l.split(',');
      assert.equal(cells.length, columns.length, `a cell per column: ${l}`);
      return Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
    });
    assert.ok(rows.length >= 6, `${rows.length} rows`);
    for (const r of rows) {
      assert.ok(!Number.isNaN(Date.parse(r.timestamp)), r.timestamp);
      // Numbers as plain decimals (integers exact, at most 3 decimals); an unknown value is an empty cell.
      for (const c of columns.slice(1)) assert.match(r[c], /^(-?\d+(\.\d{1,3})?)?$/, `${c}: ${r[c]}`);
      assert.ok(Number(r.memory_mb) > 0, 'memory_mb');
      assert.ok(r.cache_hits !== '' && r.cache_misses !== '');
    }
    assert.ok(rows.some((r) => Number(r.execs_per_sec) > 0));
  });

  it('writes the report as one self-contained page: no script, no external asset', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    const urls = html.match(/https?:\/\/[^"' )]+/g) ?? [];
    assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
  });

  it('steps every y axis by 1, 2 or 5 times a power of ten', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const charts = html.match(/<svg id="chart-[^"]+".*?<\/svg>/gs) ?? [];
    assert.equal(charts.length, 6);
    for (const chart of charts) {
      const ys = [...chart.matchAll(/class="yl">([^<]+)</g)].map((m) => labelValue(m[1]));
      assert.ok(ys.length >= 2, chart.slice(0, 40));
      const step = ys[1] - ys[0];
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      assert.ok([1, 2, 5].some((n) => Math.abs(mantissa - n) < 1e-6), `step ${step} in ${chart.slice(0, 40)}`);
      ys.forEach((y, i) => assert.ok(Math.abs(y - ys[0] - i * step) <= step * 0.01 + 1e-9, `label ${i} of ${ys.join(' ')}`));
    }
  });

  it('renders in chromium: summary, verdict and every plot in the DOM', () => {
    const r = chromium(dir, ['--dump-dom', `file://${join(out, 'report.html')}`]);
    assert.equal(r.status, 0, r.stderr);
    const dom = r.stdout;
    assert.match(dom, /<div class="verdict ok" id="verdict">PASS — \d+ execs checked: 0 lost, 0 wrong, 0 duplicates<\/div>/);
    assert.match(dom, /<table class="kv" id="summary">.*execs generated \(truth lines\)/s);
    for (const id of ['chart-memory', 'chart-cpu', 'chart-events', 'chart-cache', 'chart-latency', 'chart-latency-time']) {
      assert.match(dom, new RegExp(`<svg id="${id}"[^>]*>.*?</svg>`, 's'), id);
    }
    assert.ok((dom.match(/<path d="M/g) ?? []).length >= 6, 'the line charts have data');
    assert.match(dom, /<rect [^>]*class="bar"/, 'the latency histogram has bars');
  });

  it('paints in chromium: a screenshot shows the green verdict and the plotted series', () => {
    const png = join(dir, 'report.png');
    const r = chromium(dir, ['--window-size=1400,2400', `--screenshot=${png}`, `file://${join(out, 'report.html')}`]);
    assert.equal(r.status, 0, r.stderr);
    const img = decodePng(readFileSync(png));
    assert.equal(img.width, 1400);
    const pixels = img.width * img.height;
    // Colours from report-html.ts: verdict background, RSS/bar blue, CPU red, execs green.
    assert.ok(countColor(img, [0xe5, 0xf5, 0xea], 2) > 5000, 'green PASS banner');
    assert.ok(countColor(img, [0x4b, 0x7b, 0xd6], 30) > 2000, 'blue series and histogram bars');
    assert.ok(countColor(img, [0xd6, 0x45, 0x4b], 30) > 200, 'red CPU line');
    assert.ok(countColor(img, [0x2f, 0x9e, 0x57], 30) > 200, 'green series');
    assert.ok(countColor(img, [0xff, 0xff, 0xff], 0) < pixels * 0.9, 'not a blank page');
  });
});

describe('make soak (short, failing): the report says why, and shows text from the run as text', () => {
  let out: string;
  let run: Run;

  before(() => {
    out = join(dir, 'fail');
    const exe = join(dir, 'true<b>"&\'x');
    symlinkSync('/bin/true', exe);
    run = soak(['--duration', '2', '--rate', '200', '--mode', 'flat', '--query-rate', '0', '--exe', exe, '--min-rate', '1000000',
      '--out', out]);
  });

  it('exits 1 with the reason, and its report carries the reason in a FAIL banner', () => {
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /— FAIL: procgen reached [\d.]+ exec\/s, below --min-rate 1000000/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /class="verdict bad"[^>]*>FAIL — procgen reached [\d.]+ exec\/s, below --min-rate 1000000/);
  });

  it('escapes the exe\'s name in the report', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.includes('true&lt;b&gt;&quot;&amp;&#39;x'), 'the name, escaped');
    assert.ok(!html.includes('true<b>'), 'never as markup');
  });
});
