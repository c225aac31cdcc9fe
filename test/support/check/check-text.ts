/** The checker's findings as markdown, for the terminal and docs/benchmarks.md. */
import type { CheckReport, Finding } from './checker';
import type { Summary } from '../samples';
import type { PidTicks } from './truth';

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function pairs(xs: readonly PidTicks[]): string {
  return xs.map(([p, t]) => `${p}@${t}`).join(' ');
}

function findingLines(f: Finding): string[] {
  const out = [`- **${f.kind}** (${f.mode}) ${f.tag}: ${f.detail}`];
  if (f.expected && f.got) {
    out.push(`  - expected: pid ${f.expected.pid}@${f.expected.startTicks}, parent now ${f.expected.parentNow}, lineage ${pairs(f.expected.lineage)}`);
    out.push(`  - got:      pid ${f.got.pid}@${f.got.startTicks}, current_parent ${f.got.currentParent}, complete ${f.got.complete ? 1 : 0}${f.got.reason ? ` (${f.got.reason})` : ''}, ancestry ${pairs(f.got.ancestry)}`);
  }
  return out;
}

export function latencyRow(label: string, s: Summary): string {
  return `| ${label} | ${s.count} | ${fmt(s.p50)} | ${fmt(s.p90)} | ${fmt(s.p99)} | ${fmt(s.max)} |`;
}

/** Verdict, counts per mode, incomplete reasons, wrong kinds, examples, and latency when given. */
export function renderCheck(r: CheckReport, latency?: Summary): string[] {
  const out: string[] = [];
  out.push(`**Checker verdict: ${r.ok ? 'OK' : 'FAILED'}** — ${r.truth} execs in the truth, ${r.matched} matched, ${r.correct} correct, `
    + `${r.lost} lost, ${r.wrong} wrong, ${r.duplicates} duplicates, ${r.unmatched} unmatched, ${r.incomplete.total} incomplete, `
    + `${r.execFailed} exec_failed (max depth ${r.maxDepth})`);
  out.push('');
  out.push('| mode | truth | matched | correct | lost | wrong | incomplete | duplicates | exec_failed |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [mode, m] of Object.entries(r.byMode).sort()) {
    out.push(`| ${mode} | ${m.truth} | ${m.matched} | ${m.correct} | ${m.lost} | ${m.wrong} | ${m.incomplete} | ${m.duplicates} | ${m.execFailed} |`);
  }
  if (r.incomplete.total > 0) {
    out.push('');
    out.push(`Incomplete by reason: ${Object.entries(r.incomplete.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}`
      + (r.incomplete.needless ? ` (${r.incomplete.needless} flagged incomplete with the whole lineage present)` : ''));
  }
  if (r.wrong > 0) {
    out.push('');
    out.push(`Wrong by kind: ${Object.entries(r.wrongByKind).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const ex = [...r.examples.wrong, ...r.examples.lost, ...r.examples.duplicates, ...r.examples.unmatched, ...r.examples.incomplete];
  if (ex.length > 0) {
    out.push('');
    out.push('Examples (pid@start ticks, nearest ancestor first):');
    for (const f of ex) out.push(...findingLines(f));
  }
  if (latency && latency.count > 0) {
    out.push('');
    out.push('| latency, kernel event → line in the file (ms) | lines | p50 | p90 | p99 | max |');
    out.push('|---|---:|---:|---:|---:|---:|');
    out.push(latencyRow('exec lines of the run', latency));
  }
  return out;
}
