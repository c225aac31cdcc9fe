import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExecFlags } from '../../src/collector/layout';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import {
  OFFSET_NS, clock, host, makeExecRecord, makeExitEvent, makeForkEvent, makeLineage, makeView,
} from './lineage-fixture';
import { argvOf } from '../support/argv';

// The Linux process_events columns osquery documents; every one must be present.
const OSQUERY_PROCESS_EVENTS_COLUMNS = [
  'pid', 'path', 'mode', 'cmdline', 'cmdline_size', 'env', 'env_count', 'env_size', 'cwd', 'auid', 'uid', 'euid',
  'gid', 'egid', 'owner_uid', 'owner_gid', 'atime', 'mtime', 'ctime', 'btime', 'overflows', 'parent', 'time',
  'uptime', 'eid', 'status', 'fsuid', 'suid', 'fsgid', 'sgid', 'syscall',
];

// Every column of the process_events rows we emit, in emitted (sorted) order: osquery's and ours.
// A change here changes every consumer's input.
const EXEC_COLUMNS = [
  'ancestry', 'ancestry_complete', 'ancestry_incomplete_reason', 'argv_truncated', 'atime', 'auid', 'btime', 'cgroup_id',
  'cmdline', 'cmdline_size', 'comm', 'ctime', 'current_parent', 'current_parent_entity_id', 'cwd', 'egid', 'eid',
  'entity_id', 'env', 'env_count', 'env_size', 'euid', 'exe_deleted', 'execve_path', 'fsgid', 'fsuid', 'gid',
  'interpreted', 'missing_ancestor_entity_id', 'missing_ancestor_pid', 'mnt_ns', 'mode', 'mtime', 'overflows',
  'owner_gid', 'owner_uid', 'parent', 'parent_entity_id', 'path', 'pid', 'pid_ns', 'sgid', 'status', 'suid', 'syscall',
  'tid', 'time', 'uid', 'uptime',
];

test('exec line has osquery result-log keys in osquery order, columns sorted, all strings', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(10);
  const line = f.exec(l);
  assert.ok(!line.includes('\n'));
  const o = JSON.parse(line);
  assert.deepEqual(Object.keys(o), ['name', 'hostIdentifier', 'calendarTime', 'unixTime', 'epoch', 'counter', 'numerics', 'columns', 'action']);
  assert.equal(o.name, 'process_events');
  assert.equal(o.hostIdentifier, 'build-07');
  assert.equal(o.action, 'added');
  assert.equal(o.epoch, 0);
  assert.equal(o.counter, 0);
  assert.equal(o.numerics, false);
  const sec = Number((BigInt(l.record.ktimeNs) + OFFSET_NS) / 1_000_000_000n);
  assert.equal(o.unixTime, sec);
  assert.match(o.calendarTime, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} UTC$/);
  const keys = Object.keys(o.columns);
  assert.deepEqual(keys, [...keys].sort());
  assert.deepEqual(keys, EXEC_COLUMNS);
  for (const c of OSQUERY_PROCESS_EVENTS_COLUMNS) assert.ok(keys.includes(c), `missing column ${c}`);
  for (const [k, v] of Object.entries(o.columns)) assert.equal(typeof v, 'string', `column ${k}`);
  const c = o.columns;
  assert.equal(c.pid, String(l.process.pid));
  assert.equal(c.parent, String(l.ancestry[0].pid));
  assert.equal(c.path, '/usr/bin/curl');
  assert.equal(c.cmdline, 'curl -fsSL https://example.invalid/install.sh');
  assert.equal(c.cmdline_size, String(c.cmdline.length));
  assert.equal(c.status, '0');
  assert.equal(c.syscall, 'exec');
  assert.equal(c.time, String(sec));
  assert.equal(c.uptime, '3600');
  assert.equal(c.env, '');
  assert.equal(c.mode, '');
  assert.equal(c.atime, '');
  assert.equal(c.fsuid, '');
  assert.equal(c.cwd, '/home/dev');
  assert.equal(c.entity_id, l.process.entityId);
  assert.equal(c.parent_entity_id, l.ancestry[0].entityId);
  assert.equal(c.ancestry_complete, '1');
  assert.equal(c.ancestry_incomplete_reason, '');
  assert.equal(c.eid, `5f1c2a9e-${l.record.ktimeNs}-${l.record.tid}-1`);
});

test('ancestry column is a JSON string of lineage elements, nearest parent first, exact epoch ns', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(10);
  const o = JSON.parse(f.exec(l));
  assert.equal(typeof o.columns.ancestry, 'string');
  const a = JSON.parse(o.columns.ancestry);
  assert.equal(a.length, 10);
  assert.equal(a[0].pid, l.ancestry[0].pid);
  assert.equal(a[9].pid, 1);
  assert.equal(a[9].exe_name, 'systemd');
  for (const k of ['exe_name', 'pid', 'ppid', 'path', 'cmdline', 'proc_time', 'proc_time_hr', 'entity_id', 'uid', 'start_boottime']) {
    assert.ok(k in a[0], `ancestry element lacks ${k}`);
  }
  // proc_time_hr exceeds 2^53: check the exact digits in the text, not the parsed Number.
  const v = l.ancestry[0];
  assert.ok(v.startEpochNs > BigInt(Number.MAX_SAFE_INTEGER));
  assert.ok(o.columns.ancestry.includes(`"proc_time_hr":${v.startEpochNs},`));
  assert.ok(o.columns.ancestry.includes(`"start_boottime":${v.startBoottimeNs},`));
  assert.equal(a[0].proc_time, Number(v.startEpochNs / 1_000_000_000n));
});

test('numerics mode: numbers for numeric columns, exact digits for big ones, "" stays for unknown', () => {
  const f = new OsqueryResultFormat({ host, clock, numerics: true });
  const l = makeLineage(3, 3_600_123_456_789, { cgroupId: 18446744073709551000n });
  const rec = makeExecRecord(l.process, 3_600_123_456_789, { cgroupId: 18446744073709551000n });
  const line = f.exec({ ...l, record: rec });
  const o = JSON.parse(line);
  assert.equal(o.numerics, true);
  assert.equal(o.columns.pid, l.process.pid);
  assert.equal(o.columns.uid, 1000);
  assert.equal(o.columns.status, 0);
  assert.equal(o.columns.env_count, '');
  assert.equal(o.columns.path, '/usr/bin/curl');
  assert.ok(line.includes('"cgroup_id":18446744073709551000,'));
});

test('decorations and names are configurable', () => {
  const f = new OsqueryResultFormat({
    host, clock, decorations: { host_uuid: 'ABC', site: 'eu-1' }, names: { exec: 'pack_ancestry_process_events' },
  });
  const o = JSON.parse(f.exec(makeLineage(2)));
  assert.deepEqual(Object.keys(o), ['name', 'hostIdentifier', 'calendarTime', 'unixTime', 'epoch', 'counter', 'numerics', 'decorations', 'columns', 'action']);
  assert.deepEqual(o.decorations, { host_uuid: 'ABC', site: 'eu-1' });
  assert.equal(o.name, 'pack_ancestry_process_events');
  assert.throws(() => new OsqueryResultFormat({ host, clock, names: { fork: '' } }), { code: 'ANC_CONFIG_INVALID' });
});

test('exec_failed: attempted path and argv, status is the errno', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(2);
  const rec = makeExecRecord(l.process, 3_600_000_000_000, {
    kind: 'exec_failed', ret: -2, filename: './missing', ...argvOf(['./missing', 'x']), flags: ExecFlags.ET_EXEC_ARGV_TRUNCATED,
  });
  const c = JSON.parse(f.exec({ ...l, record: rec })).columns;
  assert.equal(c.status, '2');
  assert.equal(c.path, './missing');
  assert.equal(c.cmdline, './missing x');
  assert.equal(c.argv_truncated, '1');
  assert.equal(c.overflows, 'cmdline');
  assert.match(c.eid, /-2$/);
});

test('hostile strings survive: quotes, backslashes, control bytes, escaped invalid UTF-8, unicode', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const argv = ['sh', '-c', 'echo "a\\b"\n\t\u0001 \\xff ünï 🚀', '\u2028'];
  const l = makeLineage(2, 3_600_000_000_000, { argv, cmdline: argv.join(' '), path: '/tmp/we"ird\\path', cwd: null });
  const line = f.exec(l);
  assert.ok(!line.includes('\n'));
  const c = JSON.parse(line).columns;
  assert.equal(c.cmdline, argv.join(' '));
  assert.equal(c.cmdline_size, String(Buffer.byteLength(argv.join(' '))));
  assert.equal(c.path, '/tmp/we"ird\\path');
  assert.equal(c.cwd, '');
});

test('incomplete lineage and reparenting are reported', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(3, 3_600_000_000_000, { currentPpid: 1, currentParentEntityId: 'init-entity' });
  const c = JSON.parse(f.exec({
    ...l, complete: false, incompleteReason: 'evicted', missingAncestor: { pid: 4444, entityId: 'gone-entity' },
  })).columns;
  assert.equal(c.missing_ancestor_pid, '4444');
  assert.equal(c.missing_ancestor_entity_id, 'gone-entity');
  assert.equal(c.ancestry_complete, '0');
  assert.equal(c.ancestry_incomplete_reason, 'evicted');
  assert.equal(c.current_parent, '1');
  assert.equal(c.current_parent_entity_id, 'init-entity');
});

test('empty lineage gives "[]"', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(0);
  assert.equal(JSON.parse(f.exec(l)).columns.ancestry, '[]');
});

test('fork and exit rows', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const fo = JSON.parse(f.fork(makeForkEvent()));
  assert.equal(fo.name, 'process_fork_events');
  assert.equal(fo.columns.pid, '501');
  assert.equal(fo.columns.parent, '500');
  assert.equal(fo.columns.clone_flags, String(0x4000));
  assert.deepEqual(Object.keys(fo.columns), Object.keys(fo.columns).sort());
  const ex = JSON.parse(f.exit(makeExitEvent()));
  assert.equal(ex.name, 'process_exit_events');
  assert.equal(ex.columns.exit_code, '3');
  assert.equal(ex.columns.status, String(3 << 8));
  assert.equal(ex.columns.signal, '0');
  assert.deepEqual(Object.keys(ex.columns), Object.keys(ex.columns).sort());
  assert.notEqual(fo.columns.eid, ex.columns.eid);
});

test('formatting keeps nothing from the views (they are live table entries)', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(2);
  const first = f.exec(l);
  const changed = { ...l, process: makeView(l.process.pid, l.process.ppid, { path: '/changed' }) };
  assert.ok(f.exec(changed).includes('/changed'));
  assert.equal(f.exec(l), first);
});

test('an ancestor view changed in place (exec, exit, setuid, reuse for another process) is rendered afresh', () => {
  const f = new OsqueryResultFormat({ host, clock });
  const l = makeLineage(3);
  const anc = l.ancestry[1] as { -readonly [K in keyof typeof l.ancestry[1]]: (typeof l.ancestry[1])[K] };
  const first = JSON.parse(JSON.parse(f.exec(l)).columns.ancestry);
  assert.equal(first[1].path, anc.path);
  const changes: Array<[() => void, (a: Record<string, unknown>) => void]> = [
    [() => { anc.path = '/usr/bin/zsh'; anc.cmdline = 'zsh -l'; }, (a) => assert.equal(a.cmdline, 'zsh -l')],
    [() => { anc.exitBootNs = 99; }, (a) => assert.equal(a.exited, true)],
    [() => { anc.euid = 0; }, (a) => assert.equal(a.euid, 0)],
    [() => { anc.cwd = '/srv'; }, (a) => assert.equal(a.cwd, '/srv')],
    [() => { anc.source = 'procfs'; }, (a) => assert.equal(a.source, 'procfs')],
    [() => { anc.entityId = 'other-process'; anc.pid = 31337; }, (a) => assert.equal(a.pid, 31337)],
  ];
  for (const [change, check] of changes) {
    change();
    check(JSON.parse(JSON.parse(f.exec(l)).columns.ancestry)[1]);
  }
});
