/**
 * The soak's HTML report: one self-contained file (inline CSS and SVG, no
 * script, no external asset), readable offline and in a mail attachment.
 * Plots: memory, CPU, events/s, cache hit rate, latency histogram, query
 * latency; then the checker's verdict and the summary tables.
 */
import type { Finding } from '../../test/support/check/checker';
import type { HistogramBin, Summary } from '../../test/support/samples';
import type { SoakRow } from './soak-csv';
import type { SoakSummary } from './soak-summary';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fmt = (x: number | undefined | null, d = 1) => (x !== undefined && x !== null && Number.isFinite(x) ? x.toFixed(d) : '–');

/** A "nice" step (1, 2, 5 × 10^k) giving about `n` intervals over `range`. */
function niceStep(range: number, n = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toPrecision(4));
}

interface Series {
  name: string;
  color: string;
  values: readonly (number | undefined)[];
}

const W = 640;
const H = 240;
const PAD = { l: 56, r: 16, t: 28, b: 40 };

/** A line chart over time (x: seconds since start); gaps where a value is missing. */
function lineChart(id: string, title: string, unit: string, xs: readonly number[], series: readonly Series[], yMaxHint?: number): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const xMax = Math.max(1, ...xs);
  let yMax = Math.max(yMaxHint ?? 0, ...all, 0);
  if (yMax === 0) yMax = 1;
  const yStep = niceStep(yMax);
  yMax = Math.ceil(yMax / yStep) * yStep;
  const xStep = niceStep(xMax, 6);
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const X = (x: number) => PAD.l + (x / xMax) * pw;
  const Y = (y: number) => PAD.t + ph - (y / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<title>${esc(title)}</title>`);
  parts.push(`<text x="${PAD.l}" y="18" class="t">${esc(title)} (${esc(unit)})</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" class="g"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${(Y(y) + 4).toFixed(1)}" class="yl">${tickLabel(y)}</text>`);
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    parts.push(`<text x="${X(x).toFixed(1)}" y="${H - PAD.b + 16}" class="xl">${tickLabel(x)}</text>`);
  }
  parts.push(`<text x="${PAD.l + pw / 2}" y="${H - 6}" class="xl">seconds</text>`);
  parts.push(`<rect x="${PAD.l}" y="${PAD.t}" width="${pw}" height="${ph}" class="frame"/>`);
  series.forEach((s, si) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v) || i >= xs.length) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${X(xs[i]).toFixed(1)},${Y(v).toFixed(1)}`;
      pen = true;
    });
    if (d !== '') parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6" class="series"><title>${esc(s.name)}</title></path>`);
    const lx = PAD.l + 8 + si * 150;
    parts.push(`<rect x="${lx}" y="${PAD.t + 6}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${PAD.t + 15}" class="lg">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Bars over log-scale bins (samples.ts histogram), labelled at each bin's lower edge. */
function histogramChart(id: string, title: string, unit: string, bins: readonly HistogramBin[], marks: readonly { label: string; value: number }[] = []): string {
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<title>${esc(title)}</title>`);
  parts.push(`<text x="${PAD.l}" y="18" class="t">${esc(title)} (${esc(unit)}, log scale)</text>`);
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  parts.push(`<rect x="${PAD.l}" y="${PAD.t}" width="${pw}" height="${ph}" class="frame"/>`);
  if (bins.length === 0) {
    parts.push(`<text x="${PAD.l + pw / 2}" y="${PAD.t + ph / 2}" class="xl">no samples</text></svg>`);
    return parts.join('');
  }
  let yMax = Math.max(1, ...bins.map((b) => b.count));
  const yStep = niceStep(yMax);
  yMax = Math.ceil(yMax / yStep) * yStep;
  const bw = pw / bins.length;
  const Y = (y: number) => PAD.t + ph - (y / yMax) * ph;
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" class="g"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${(Y(y) + 4).toFixed(1)}" class="yl">${tickLabel(y)}</text>`);
  }
  const lo = Math.log10(bins[0].lo);
  const hi = Math.log10(bins[bins.length - 1].hi);
  bins.forEach((b, i) => {
    const x = PAD.l + i * bw;
    parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${Y(b.count).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(PAD.t + ph - Y(b.count)).toFixed(1)}" class="bar"><title>${fmt(b.lo, 3)}–${fmt(b.hi, 3)} ${esc(unit)}: ${b.count}</title></rect>`);
  });
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const x = PAD.l + ((e - lo) / (hi - lo)) * pw;
    parts.push(`<text x="${x.toFixed(1)}" y="${H - PAD.b + 16}" class="xl">${tickLabel(10 ** e)}</text>`);
  }
  for (const m of marks) {
    if (!(m.value > 0)) continue;
    const x = PAD.l + ((Math.log10(m.value) - lo) / (hi - lo)) * pw;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${PAD.t}" y2="${PAD.t + ph}" class="mark"/><text x="${(x + 3).toFixed(1)}" y="${PAD.t + 12}" class="lg">${esc(m.label)}</text>`);
  }
  parts.push(`<text x="${PAD.l + pw / 2}" y="${H - 6}" class="xl">${esc(unit)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`
    + rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('') + '</tbody></table>';
}

function kv(rows: readonly (readonly [string, string | number])[], id = ''): string {
  return `<table class="kv"${id ? ` id="${id}"` : ''}><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</tbody></table>`;
}

function latencyCells(s: Summary): (string | number)[] {
  return [s.count, fmt(s.p50, 2), fmt(s.p90, 2), fmt(s.p99, 2), fmt(s.max, 2)];
}

function findingHtml(f: Finding): string {
  const pairs = (xs: readonly (readonly [number, number])[]) => xs.map(([p, t]) => `${p}@${t}`).join(' ');
  let s = `<li><b>${esc(f.kind)}</b> (${esc(f.mode)}) <code>${esc(f.tag)}</code>: ${esc(f.detail)}`;
  if (f.expected && f.got) {
    s += `<br><span class="ex">expected pid ${f.expected.pid}@${f.expected.startTicks}, parent now ${f.expected.parentNow}: ${esc(pairs(f.expected.lineage))}</span>`;
    s += `<br><span class="ex">got pid ${f.got.pid}@${f.got.startTicks}, current_parent ${f.got.currentParent}, complete ${f.got.complete ? 1 : 0}${f.got.reason ? ` (${esc(f.got.reason)})` : ''}: ${esc(pairs(f.got.ancestry))}</span>`;
  }
  return s + '</li>';
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff;max-width:1340px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.sub{color:#5a6475;margin:0 0 16px}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.verdict.ok{background:#e5f5ea;color:#145c2c;border:1px solid #9fd6b0}.verdict.bad{background:#fde8e8;color:#8a1c1c;border:1px solid #f0a8a8}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #dde2ea;padding:3px 8px;text-align:right}th{background:#f3f5f9}
td:first-child,th:first-child{text-align:left}table.kv th{text-align:left;font-weight:500}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:12px}
svg.chart{background:#fcfdff;border:1px solid #e3e7ee;border-radius:4px;max-width:100%;height:auto}
svg .t{font-size:13px;font-weight:600;fill:#1d2330}svg .yl{font-size:11px;fill:#5a6475;text-anchor:end}
svg .xl{font-size:11px;fill:#5a6475;text-anchor:middle}svg .lg{font-size:11px;fill:#1d2330}
svg .g{stroke:#e8ebf1;stroke-width:1}svg .frame{fill:none;stroke:#c9d0dc}svg .bar{fill:#4b7bd6}svg .mark{stroke:#d6454b;stroke-dasharray:3 3}
code{font-size:12px}.ex{font-family:ui-monospace,monospace;font-size:12px;color:#3a4456}
`;

/** The whole report. `rows` are the CSV's rows, one per second. */
export function renderReport(s: SoakSummary, rows: readonly SoakRow[]): string {
  const t0 = rows.length ? Date.parse(rows[0].timestamp) : 0;
  const xs = rows.map((r) => (Date.parse(r.timestamp) - t0) / 1000);
  const col = (k: keyof SoakRow) => rows.map((r) => r[k] as number | undefined);
  const c = s.check;
  const d = s.daemon;
  const q = s.queries;
  const pg = s.procgen;
  const charts = [
    lineChart('chart-memory', 'Daemon memory (RSS)', 'MB', xs, [{ name: 'RSS', color: '#4b7bd6', values: col('memory_mb') }]),
    lineChart('chart-cpu', 'Daemon CPU', '% of one core', xs, [{ name: 'CPU', color: '#d6454b', values: col('cpu_percent') }]),
    lineChart('chart-events', 'Events per second', 'per s', xs, [
      { name: 'ring records', color: '#4b7bd6', values: col('events_per_sec') },
      { name: 'execs', color: '#2f9e57', values: col('execs_per_sec') },
      { name: 'lines written', color: '#e09b2d', values: col('lines_per_sec') },
    ]),
    lineChart('chart-cache', 'Ancestry cache hit rate', '%', xs, [{ name: 'hit rate', color: '#2f9e57', values: col('cache_hit_rate_percent') }], 100),
    histogramChart('chart-latency', 'Latency, kernel event → line in the file', 'ms', s.latencyHistogram,
      [{ label: 'p50', value: s.latency.p50 }, { label: 'p99', value: s.latency.p99 }]),
    lineChart('chart-latency-time', 'Latency per second (p50, p99) and admin query p99', 'ms', xs, [
      { name: 'event p50', color: '#2f9e57', values: col('latency_p50_ms') },
      { name: 'event p99', color: '#d6454b', values: col('latency_p99_ms') },
      { name: 'query p99', color: '#7a4bd6', values: col('query_p99_ms') },
    ]),
  ];
  const verdict = s.verdict.ok
    ? `<div class="verdict ok" id="verdict">PASS — ${c.truth} execs checked: 0 lost, 0 wrong, 0 duplicates</div>`
    : `<div class="verdict bad" id="verdict">FAIL — ${esc(s.verdict.problems.join('; '))}</div>`;
  const examples = [...c.examples.wrong, ...c.examples.lost, ...c.examples.duplicates, ...c.examples.unmatched, ...c.examples.incomplete];
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ancestryd soak ${esc(s.startedAt)}</title><style>${CSS}</style></head>
<body>
<h1>ancestryd soak report</h1>
<p class="sub">${esc(s.startedAt)} → ${esc(s.endedAt)} · host ${esc(s.host)} · kernel ${esc(s.kernel)} · ${s.cpus} CPUs · mode <b>${esc(s.config.mode)}</b>
 at ${s.config.rate > 0 ? `${s.config.rate} exec/s` : 'full speed'} × ${s.config.durationSec} s, ${s.config.workers} workers, ${s.config.queryRate} queries/s</p>
${verdict}
<h2>Summary</h2>
${kv([
    ['execs generated (truth lines)', c.truth],
    ['exec rate achieved', pg ? `${fmt(pg.execs_per_sec)} /s over ${fmt(pg.secs, 1)} s` : '–'],
    ['pid wraps', pg ? `${pg.pid_wraps} (pids ${pg.pid_min}–${pg.pid_max}, ${pg.wrap_forks} wrap forks)` : '–'],
    ['lost', c.lost], ['wrong', c.wrong], ['duplicates', c.duplicates], ['unmatched lines', c.unmatched],
    ['incomplete (honest prefix)', `${c.incomplete.total}${c.incomplete.total ? ` — ${Object.entries(c.incomplete.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`],
    ['exec_failed', c.execFailed],
    ['ring records lost (kernel)', d.ringLost],
    ['latency p50 / p90 / p99 / max', `${fmt(s.latency.p50, 2)} / ${fmt(s.latency.p90, 2)} / ${fmt(s.latency.p99, 2)} / ${fmt(s.latency.max, 2)} ms`],
    ['daemon RSS max / mean / end', `${fmt(d.rssMbMax)} / ${fmt(d.rssMbMean)} / ${fmt(d.rssMbEnd)} MB (HWM ${fmt(d.hwmMb)} MB)`],
    ['daemon CPU mean / max', `${fmt(d.cpuPercentMean)} % / ${fmt(d.cpuPercentMax)} %`],
    ['daemon CPU per ring record / per exec', `${fmt(d.cpuUsPerEvent)} µs / ${fmt(d.cpuUsPerExec)} µs`],
    ['cache hits / misses (hit rate)', `${d.cacheHits} / ${d.cacheMisses} (${fmt(d.cacheHitRatePercent, 2)} %)`],
    ['procfs reads', d.procfsReads],
    ['admin queries answered / rate', `${q.counts.ok + q.counts.gone + q.counts.missingLive} of ${q.counts.sent} at ${q.rate}/s (errors ${q.counts.errors}, skipped ${q.counts.skipped}, alive-but-unknown ${q.counts.missingLive})`],
    ['query latency p50 / p99 / max', `${fmt(q.all.p50, 2)} / ${fmt(q.all.p99, 2)} / ${fmt(q.all.max, 2)} ms`],
  ], 'summary')}
<h2>Plots</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Checker, per mode</h2>
${table(['mode', 'truth', 'matched', 'correct', 'lost', 'wrong', 'incomplete', 'duplicates', 'exec_failed'],
    Object.entries(c.byMode).sort().map(([m, v]) => [m, v.truth, v.matched, v.correct, v.lost, v.wrong, v.incomplete, v.duplicates, v.execFailed]), 'modes')}
${c.wrong ? `<p>Wrong by kind: ${esc(Object.entries(c.wrongByKind).map(([k, v]) => `${k} ${v}`).join(', '))}</p>` : ''}
${examples.length ? `<h2>Examples (pid@start ticks, nearest ancestor first)</h2><ul>${examples.map(findingHtml).join('')}</ul>` : ''}
<h2>Latency</h2>
${table(['ms', 'lines', 'p50', 'p90', 'p99', 'max'], [
    ['kernel event → line, exec lines of the run', ...latencyCells(s.latency)],
    ['kernel event → line, every line', ...latencyCells(s.latencyAllLines)],
    ['admin query, all', ...latencyCells(q.all)],
    ['admin query, ancestry', ...latencyCells(q.ancestry)],
    ['admin query, stats', ...latencyCells(q.stats)],
  ])}
<p class="sub">Event latency: line arrival (CLOCK_MONOTONIC when the tailer's read returned) − (eid kernel time + monotonic−boottime offset ${esc(s.clock.monotonicMinusBoottimeNs)} ns ± ${s.clock.monotonicErrorNs} ns; drift over the run ${esc(s.clock.driftNs)} ns). An upper bound: it includes the tailer's wake-up.</p>
<h2>Run</h2>
${kv([
    ['mode / rate / duration', `${s.config.mode} / ${s.config.rate || 'full speed'} / ${s.config.durationSec} s`],
    ['workers / exe', `${s.config.workers} / ${s.config.exe}`],
    ['wrap forks per pid-wrap exec / forced wrap every', `${s.config.wrapForks} / ${s.config.wrapEverySec ? `${s.config.wrapEverySec} s` : 'never'}`],
    ['process_ancestry_max_depth checked', s.config.maxDepth],
    ['tag', s.config.tag],
    ['daemon', s.config.attached ? `attached, pid ${d.pid}` : `started, pid ${d.pid}: ${s.config.daemonArgs.join(' ')}`],
    ['results log read', `${s.tail.lines} lines, ${s.tail.bytes} bytes, ${s.tail.files} files, ${s.tail.badLines} unparseable; the daemon reports ${s.tail.daemonSentEvents ?? '–'} events delivered`],
    ['procgen by mode', pg ? Object.entries(pg.by_mode).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') : '–'],
  ], 'run')}
</body></html>
`;
  return html;
}
