import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvHeader, csvRow, parseCsv, SOAK_COLUMNS } from '../../tools/loadgen/soak-csv';

test('the CSV starts with the old load test\'s five columns, then events, drops, cache size, incomplete, query p99', () => {
  assert.deepEqual(SOAK_COLUMNS.slice(0, 10), [
    'timestamp', 'memory_mb', 'cpu_percent', 'cache_hits', 'cache_misses',
    'events_per_sec', 'ring_lost', 'cache_size', 'incomplete', 'query_p99_ms',
  ]);
  assert.equal(csvHeader(), SOAK_COLUMNS.join(',') + '\n');
});

test('rows keep integers exact, trim decimals, leave unknown values empty, and read back', () => {
  const row = { timestamp: '2026-11-27T10:00:00.000Z', memory_mb: 84.1234567, cpu_percent: NaN, cache_hits: 123456789012, cache_misses: 0 };
  const line = csvRow(row);
  assert.equal(line.split(',').length, SOAK_COLUMNS.length);
  assert.ok(line.startsWith('2026-11-27T10:00:00.000Z,84.123,,123456789012,0,'));
  const [back] = parseCsv(csvHeader() + line);
  assert.equal(back.memory_mb, 84.123);
  assert.equal(back.cpu_percent, undefined);
  assert.equal(back.cache_hits, 123456789012);
});
