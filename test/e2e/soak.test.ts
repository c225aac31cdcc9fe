/**
 * The soak runner end to end, short: the real daemon, procgen in mix mode,
 * admin queries, the checker, the CSV; then the HTML report opened in a real
 * headless browser (Debian's chromium), which must render the summary and
 * every plot.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCsv, SOAK_COLUMNS } from '../../tools/loadgen/soak-csv';
import type { SoakSummary } from '../../tools/loadgen/soak-summary';
import { countColor, decodePng } from '../loadgen/png';
import { requireBuilt, ROOT } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

const SOAK = join(ROOT, 'dist', 'tools', 'loadgen', 'soak.js');
const CHROMIUM = '/usr/bin/chromium';

function chromium(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const profile = mkdtempSync(join(dir, 'chromium-'));
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('make soak (short): CSV, summary, HTML in headless chromium', () => {
  let dir: string;
  let out: string;
  let run: { status: number | null; stdout: string; stderr: string };

  before(() => {
    requireRootAndBpf();
    requireBuilt(SOAK);
    requireBuilt(join(ROOT, 'build', 'procgen'));
    requireBuilt(join(ROOT, 'build', 'clock-offset'));
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    dir = mkdtempSync(join(tmpdir(), 'anc-soak-'));
    out = join(dir, 'out');
    const r = spawnSync(process.execPath, [SOAK, '--duration', '6', '--rate', '500', '--mode', 'mix', '--query-rate', '20',
      '--wrap-every', '2', '--out', out], { encoding: 'utf8', timeout: 180_000 });
    run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes: every exec checked, none lost or wrong', () => {
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SoakSummary;
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
    const rows = parseCsv(text);
    assert.ok(rows.length >= 6, `${rows.length} rows`);
    for (const r of rows) {
      assert.ok(r.memory_mb! > 0, 'memory_mb');
      assert.ok(r.cache_hits !== undefined && r.cache_misses !== undefined);
      assert.equal(Object.keys(r).length, SOAK_COLUMNS.length);
    }
    assert.ok(rows.some((r) => r.execs_per_sec! > 0));
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
