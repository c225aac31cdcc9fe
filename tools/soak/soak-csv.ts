/**
 * The soak's per-second CSV: the old load test's five columns first
 * (timestamp,memory_mb,cpu_percent,cache_hits,cache_misses), then ours.
 * Counters (cache_hits, cache_misses, ring_lost, incomplete) are cumulative
 * as the daemon reports them; *_per_sec and the latency columns cover the
 * second since the previous row. An unknown value is an empty field.
 */
const SOAK_COLUMNS = [
  'timestamp', 'memory_mb', 'cpu_percent', 'cache_hits', 'cache_misses',
  'events_per_sec', 'ring_lost', 'cache_size', 'incomplete', 'query_p99_ms',
  'execs_per_sec', 'lines_per_sec', 'latency_p50_ms', 'latency_p99_ms', 'latency_max_ms',
  'queries', 'query_errors', 'cache_hit_rate_percent', 'cache_live', 'cache_exited',
  'procfs_reads', 'sink_queued_events', 'pending_truth',
] as const;

type SoakColumn = (typeof SOAK_COLUMNS)[number];
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
