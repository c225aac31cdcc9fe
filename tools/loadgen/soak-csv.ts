/**
 * The soak's per-second CSV: the old load test's five columns first
 * (timestamp,memory_mb,cpu_percent,cache_hits,cache_misses), then ours.
 * Counters (cache_hits, cache_misses, ring_lost, incomplete) are cumulative
 * as the daemon reports them; *_per_sec and the latency columns cover the
 * second since the previous row. An unknown value is an empty field.
 */
export const SOAK_COLUMNS = [
  'timestamp', 'memory_mb', 'cpu_percent', 'cache_hits', 'cache_misses',
  'events_per_sec', 'ring_lost', 'cache_size', 'incomplete', 'query_p99_ms',
  'execs_per_sec', 'lines_per_sec', 'latency_p50_ms', 'latency_p99_ms', 'latency_max_ms',
  'queries', 'query_errors', 'cache_hit_rate_percent', 'cache_live', 'cache_exited',
  'procfs_reads', 'sink_queued_events', 'pending_truth',
] as const;

export type SoakColumn = (typeof SOAK_COLUMNS)[number];
export type SoakRow = { timestamp: string } & Partial<Record<Exclude<SoakColumn, 'timestamp'>, number>>;

function cell(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  if (!Number.isFinite(v)) return '';
  return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/\.?0+$/, '');
}

export function csvHeader(): string {
  return SOAK_COLUMNS.join(',') + '\n';
}

export function csvRow(row: SoakRow): string {
  return SOAK_COLUMNS.map((c) => cell(row[c])).join(',') + '\n';
}

/** Reads a soak CSV back (for reports from an earlier run). */
export function parseCsv(text: string): SoakRow[] {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length === 0) return [];
  const head = lines[0].split(',');
  if (head[0] !== 'timestamp') throw new Error('not a soak CSV: the first column must be timestamp');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    const row: Record<string, string | number | undefined> = {};
    head.forEach((h, i) => {
      const v = f[i] ?? '';
      row[h] = h === 'timestamp' ? v : v === '' ? undefined : Number(v);
    });
    return row as SoakRow;
  });
}
