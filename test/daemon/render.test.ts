import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { TreeNode } from '../../src/daemon/admin-protocol';
import { flatten, renderAncestry, renderJsonLines, renderKeyValues, renderPreflight, renderTree } from '../../src/daemon/render';
import { ANCESTRY_FIXTURE, TREE_FIXTURE } from './fixtures';

describe('render', () => {
  it('renders a lineage as a table, nearest ancestor first', () => {
    assert.equal(renderAncestry(ANCESTRY_FIXTURE), [
      'pid 4242  entity_id e4242  lineage incomplete (depth_cap)',
      'DEPTH   PID  PPID   UID  STARTED (UTC)         EXE            CMDLINE',
      '    0  4242  4000  1000  2026-11-27T11:50:42Z  curl           curl -s https://example.com',
      '    1  4000     1  1000  2026-11-27T11:46:40Z  bash (exited)  bash -l',
      '    2     1     0     0  2026-11-27T10:40:01Z  systemd        /sbin/init',
      'current parent: 1 systemd (reparented; the lineage follows the parent at fork)',
      '',
    ].join('\n'));
  });

  it('renders the process tree as ASCII art', () => {
    assert.equal(renderTree(TREE_FIXTURE), [
      '1 systemd (/usr/lib/systemd/systemd)',
      '├── 500 sshd (/usr/sbin/sshd)',
      '│   ├── 900 bash (/usr/bin/bash)',
      '│   └── 901 kworker',
      '└── 600 cron (/usr/sbin/cron)',
      '',
    ].join('\n'));
  });

  it('indents a long chain one level per generation', () => {
    let node: TreeNode = { pid: 200, entity_id: 'x', comm: 'leaf', path: '', children: [] };
    for (let pid = 199; pid >= 1; pid--) node = { pid, entity_id: 'x', comm: 'p', path: '', children: [node] };
    const lines = renderTree(node).trimEnd().split('\n');
    assert.equal(lines.length, 200);
    assert.equal(lines[199], ' '.repeat(4 * 198) + '└── 200 leaf');
  });

  it('renders any JSON object as aligned key: value lines', () => {
    assert.equal(renderKeyValues({
      cache_hits: 120, cache_misses: 3, cache_size: 50, cache_hit_rate_percent: null,
      sinks: { kafka: { sent_events: 9, dropped_events: { queue_full: 0 } }, file: {} }, types: ['exec', 'fork'], ready: true,
    }), [
      'cache_hits:                            120',
      'cache_misses:                          3',
      'cache_size:                            50',
      'cache_hit_rate_percent:                -',
      'sinks.kafka.sent_events:               9',
      'sinks.kafka.dropped_events.queue_full: 0',
      'sinks.file:                            {}',
      'types:                                 exec, fork',
      'ready:                                 true',
      '',
    ].join('\n'));
    assert.deepEqual(flatten({ a: [{ b: 1 }, { b: 2 }] }), [['a.0.b', '1'], ['a.1.b', '2']]);
  });

  it('renders preflight checks with ✓/✗ and the fix', () => {
    assert.equal(renderPreflight([
      { name: 'privileges', ok: true, detail: 'uid 0' },
      { name: 'tracefs', ok: false, detail: 'not mounted', fix: 'mount -t tracefs tracefs /sys/kernel/tracing' },
    ]), [
      '✓ privileges  uid 0',
      '✗ tracefs     not mounted',
      '              fix: mount -t tracefs tracefs /sys/kernel/tracing',
      '1 check failed',
      '',
    ].join('\n'));
  });

  it('prints events one JSON object per line', () => {
    assert.equal(renderJsonLines([{ a: 1 }, { b: 2n }]), '{"a":1}\n{"b":"2"}\n');
  });
});
