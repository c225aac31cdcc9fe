import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { TreeNode } from '../../../src/daemon/admin/admin-protocol';
import { flatten, jsonForTerminal, renderAncestry, renderJsonLines, renderKeyValues, renderPreflight, renderTree, terminalSafe } from '../../../src/daemon/cli/render';
import { ANCESTRY_FIXTURE, TREE_FIXTURE } from '../fixtures';

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

describe('text a process controls, printed to root\'s terminal', () => {
  // ESC sequences that clear the screen and move the cursor, CR, a C1 CSI, a bidi override, a line separator.
  const HOSTILE = 'ok\x1b[2J\x1b[1;1Hforged\rrow\x9b31m\u202egnp.exe\u2028x';
  const RAW = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it('ancestry, tree, stats: control, C1 and bidi characters are shown escaped, never emitted', () => {
    const evil = { ...ANCESTRY_FIXTURE.process, exe_name: `x${HOSTILE}`, cmdline: HOSTILE };
    const ancestry = renderAncestry({ ...ANCESTRY_FIXTURE, process: evil, current_parent: evil });
    const tree = renderTree({ ...TREE_FIXTURE, comm: HOSTILE, path: `/tmp/${HOSTILE}` });
    const stats = renderKeyValues({ last_error: HOSTILE });
    for (const out of [ancestry, tree, stats]) {
      assert.ok(!RAW.test(out.replace(/\n/g, '')), JSON.stringify(out));
      assert.ok(out.includes('ok\\x1b[2J\\x1b[1;1Hforged\\x0drow\\x9b31m\\u{202e}gnp.exe\\u{2028}x'), out);
    }
  });

  it('JSON output escapes them too and still parses back to the same values', () => {
    const value = { cmdline: HOSTILE, n: 1n };
    for (const text of [jsonForTerminal(value, 2), renderJsonLines([value])]) {
      assert.ok(!RAW.test(text.replace(/\n/g, '')), text);
      assert.deepEqual(JSON.parse(text), { cmdline: HOSTILE, n: '1' });
    }
    assert.equal(terminalSafe('plain /usr/bin/ls -la'), 'plain /usr/bin/ls -la');
  });
});
