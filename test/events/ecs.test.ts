import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENTRY_INIT, ENTRY_SSHD, ENTRY_UNKNOWN } from '../../src/ancestry/entry-leader';
import { ExecFlags } from '../../src/collector/layout';
import { EcsFormat, ECS_VERSION } from '../../src/events/ecs';
import { checkEcs } from '../support/ecs-reference';
import { makeExecRecord } from './lineage-fixture';
import { clock, host, makeExitEvent, makeForkEvent, makeLineage, OFFSET_NS } from './lineage-fixture';
import { argvOf } from '../support/argv';

const nowMs = () => 1_795_775_240_123;

test('exec as ECS: process, parent, ancestry, event, host', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const l = makeLineage(4);
  const line = f.exec(l);
  assert.ok(!line.includes('\n'));
  const d = JSON.parse(line);
  assert.equal(d.ecs.version, ECS_VERSION);
  assert.equal(d['@timestamp'], new Date(Number((BigInt(l.record.ktimeNs) + OFFSET_NS) / 1_000_000n)).toISOString().slice(0, 23) + '456789Z');
  assert.deepEqual(d.event.category, ['process']);
  assert.deepEqual(d.event.type, ['start']);
  assert.equal(d.event.kind, 'event');
  assert.equal(d.event.action, 'exec');
  assert.equal(d.event.outcome, 'success');
  assert.equal(d.event.created, new Date(nowMs()).toISOString());
  assert.equal(d.event.ingested, undefined);
  assert.equal(d.host.id, host.machineId);
  assert.equal(d.host.boot.id, host.bootId);
  assert.equal(d.host.hostname, 'build-07');
  const p = d.process;
  assert.equal(p.pid, l.process.pid);
  assert.equal(p.entity_id, l.process.entityId);
  assert.equal(p.executable, '/usr/bin/curl');
  assert.deepEqual(p.args, ['curl', '-fsSL', 'https://example.invalid/install.sh']);
  assert.equal(p.args_count, 3);
  assert.equal(p.command_line, 'curl -fsSL https://example.invalid/install.sh');
  assert.equal(p.name, 'curl');
  assert.equal(p.working_directory, '/home/dev');
  assert.equal(p.user.id, '1000');
  assert.equal(p.group.id, '1000');
  assert.match(p.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(p.parent.pid, l.ancestry[0].pid);
  assert.equal(p.parent.entity_id, l.ancestry[0].entityId);
  assert.equal(p.parent.executable, l.ancestry[0].path);
  assert.deepEqual(p.parent.args, l.ancestry[0].argv);
  assert.equal(p.ancestry, undefined, 'no non-ECS field inside process');
  assert.deepEqual(p.Ext.ancestry, l.ancestry.map((v) => v.entityId), 'entity ids, nearest parent first');
  const full = d.ancestryd.ancestry;
  assert.equal(full.length, 4);
  assert.equal(full[3].pid, 1);
  assert.equal(full[0].entity_id, l.ancestry[0].entityId);
  assert.equal(d.ancestryd.ancestry_complete, true);
  assert.equal(d.ancestryd.ancestry_incomplete_reason, null);
  assert.equal(d.event.id, `5f1c2a9e-${l.record.ktimeNs}-${l.record.tid}-1`);
});

test('exec_failed, fork and exit map to ECS types and outcomes', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const l = makeLineage(1);
  const failed = JSON.parse(f.exec({ ...l, record: makeExecRecord(l.process, 5_000_000_000, { kind: 'exec_failed', ret: -13, filename: '/x', ...argvOf(['/x']) }) }));
  assert.equal(failed.event.action, 'exec_failed');
  assert.equal(failed.event.outcome, 'failure');
  assert.equal(failed.error.code, 'EACCES');
  assert.equal(failed.process.executable, '/x');
  const fork = JSON.parse(f.fork(makeForkEvent()));
  assert.deepEqual(fork.event.type, ['start']);
  assert.equal(fork.event.action, 'fork');
  assert.equal(fork.process.pid, 501);
  assert.equal(fork.process.parent.pid, 500);
  const exit = JSON.parse(f.exit(makeExitEvent()));
  assert.deepEqual(exit.event.type, ['end']);
  assert.equal(exit.event.action, 'exit');
  assert.equal(exit.process.exit_code, 3);
  assert.match(exit.process.end, /Z$/);
});

test('host.id is omitted when there is no machine id', () => {
  const f = new EcsFormat({ host: { ...host, machineId: null }, clock, nowMs });
  const d = JSON.parse(f.exec(makeLineage(1)));
  assert.equal(d.host.id, undefined);
});

test('ECS ancestry reflects a view changed in place', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const l = makeLineage(2);
  assert.equal(JSON.parse(f.exec(l)).ancestryd.ancestry[0].executable, l.ancestry[0].path);
  (l.ancestry[0] as { path: string }).path = '/opt/new';
  assert.equal(JSON.parse(f.exec(l)).ancestryd.ancestry[0].executable, '/opt/new');
});

test('every field of every event type is an ECS 9.4 field of its ECS type, or ancestryd.* / .Ext.', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const l = makeLineage(4);
  const lines = {
    exec: f.exec(l),
    exec_failed: f.exec({ ...l, record: makeExecRecord(l.process, 5_000_000_000, { kind: 'exec_failed', ret: -2, filename: '/nope', ...argvOf(['/nope', 'a']) }) }),
    exec_orphan: f.exec(makeLineage(0)),
    fork: f.fork(makeForkEvent()),
    exit: f.exit(makeExitEvent()),
  };
  for (const [kind, line] of Object.entries(lines)) {
    const { problems, seen } = checkEcs(JSON.parse(line));
    assert.deepEqual(problems, [], `${kind}: ${line}`);
    assert.ok(seen.includes('process.pid') && seen.includes('event.category'), kind);
  }
});

test('the ECS check itself fails on a non-ECS field, a wrong type and a missing array', () => {
  assert.deepEqual(checkEcs({ process: { ancestry: [{ pid: 1 }] } }).problems, ['process.ancestry: not an ECS field (array)']);
  assert.deepEqual(checkEcs({ process: { pid: '12' } }).problems, ['process.pid: "12" is not a long']);
  assert.deepEqual(checkEcs({ event: { category: 'process' } }).problems, ['event.category: ECS expects an array of keyword']);
  assert.deepEqual(checkEcs({ process: { start: '2026-12-04 10:00' } }).problems, ['process.start: "2026-12-04 10:00" is not a date']);
  const ip = (v: string) => checkEcs({ process: { entry_leader: { entry_meta: { source: { ip: v } } } } }).problems;
  assert.deepEqual([ip('198.51.100.23'), ip('2001:db8::7')], [[], []]);
  assert.deepEqual(ip('198.51.100.256'), ['process.entry_leader.entry_meta.source.ip: "198.51.100.256" is not a ip']);
  assert.deepEqual(checkEcs({ process: { Ext: { anything: [1] } }, ancestryd: { x: 1 } }).problems, []);
});

test('process.group_leader and session_leader: the kernel\'s pgid and sid, with entity ids when the leader is in the lineage', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const l = makeLineage(3);
  // The fixture's exec leads its own group; its parent leads the session.
  const d = JSON.parse(f.exec({ ...l, ancestry: [{ ...l.ancestry[0], interactive: true }, ...l.ancestry.slice(1)] }));
  assert.deepEqual(d.process.group_leader, { pid: l.process.pid, entity_id: l.process.entityId, interactive: false });
  assert.deepEqual(d.process.session_leader, { pid: l.ancestry[0].pid, entity_id: l.ancestry[0].entityId, interactive: true });
  assert.deepEqual(checkEcs(d).problems, []);
  // A pipeline's leader is a sibling: pid alone. No leader (0): no field.
  const sibling = JSON.parse(f.exec({ ...l, record: { ...l.record, pgid: 424242, sid: 0 } }));
  assert.deepEqual(sibling.process.group_leader, { pid: 424242 });
  assert.equal(sibling.process.session_leader, undefined);
  assert.deepEqual(checkEcs(sibling).problems, []);
});

test('process.interactive: the exec record\'s, absent when its program did not look; the parent\'s and entry leader\'s from their entries', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const base = makeLineage(4);
  const on = ExecFlags.ET_EXEC_TTY_CHECKED | ExecFlags.ET_EXEC_INTERACTIVE;
  const lineWith = (flags: number, parent: boolean | null) => JSON.parse(f.exec({
    ...base,
    record: { ...base.record, flags, tty: (136 << 20) | 4 },
    ancestry: [{ ...base.ancestry[0], interactive: parent }, ...base.ancestry.slice(1)],
  }));
  const yes = lineWith(on, true);
  assert.equal(yes.process.interactive, true);
  assert.equal(yes.process.parent.interactive, true);
  assert.deepEqual(checkEcs(yes).problems, []);
  const no = lineWith(ExecFlags.ET_EXEC_TTY_CHECKED, false);
  assert.equal(no.process.interactive, false, 'checked, and not on the terminal');
  assert.equal(no.process.parent.interactive, false);
  // A record of a program that did not look (ET_EXEC_INTERACTIVE alone means nothing), a parent never read: absent.
  const unknown = lineWith(ExecFlags.ET_EXEC_INTERACTIVE, null);
  assert.equal('interactive' in unknown.process, false);
  assert.equal('interactive' in unknown.process.parent, false);
  // The process itself leads its session: the entry leader is the process, as the table holds it.
  const own = JSON.parse(f.exec({ ...base, process: { ...base.process, entryKind: ENTRY_INIT, interactive: false } }));
  assert.equal(own.process.entry_leader.interactive, false);
  // fork and exit lines: the entry's.
  const fork = JSON.parse(f.fork({ ...makeForkEvent(), process: { ...makeForkEvent().process, interactive: true } }));
  assert.equal(fork.process.interactive, true);
  assert.deepEqual(checkEcs(fork).problems, []);
});

test('process.entry_leader: the nearest of the lineage with a known kind, its type, and process.tty', () => {
  const f = new EcsFormat({ host, clock, nowMs });
  const base = makeLineage(4);
  // ancestry[1] is an ssh login (sshd kind), ancestry[0] a tmux pane shell (unknown kind).
  const login = { ...base.ancestry[1], entryKind: ENTRY_SSHD, path: '/bin/bash', interactive: true, sourceIp: '198.51.100.23' };
  const pane = { ...base.ancestry[0], entryKind: ENTRY_UNKNOWN };
  const l = { ...base, ancestry: [pane, login, ...base.ancestry.slice(2)], record: { ...base.record, tty: (136 << 20) | 4 } };
  const d = JSON.parse(f.exec(l));
  assert.deepEqual(d.process.entry_leader, {
    pid: login.pid, entity_id: login.entityId, executable: '/bin/bash', name: 'bash',
    start: new Date(Number(login.startEpochNs / 1_000_000n)).toISOString().slice(0, 23) + String(login.startEpochNs % 1_000_000n).padStart(6, '0') + 'Z',
    same_as_process: false, interactive: true, entry_meta: { type: 'sshd', source: { ip: '198.51.100.23' } },
  });
  assert.deepEqual(d.process.tty, { char_device: { major: 136, minor: 4 } });
  assert.deepEqual(checkEcs(d).problems, []);

  // The process itself leads (a service init started); no terminal: no process.tty.
  const own = JSON.parse(f.exec({ ...base, process: { ...base.process, entryKind: ENTRY_INIT } }));
  assert.equal(own.process.entry_leader.pid, base.process.pid);
  assert.equal(own.process.entry_leader.same_as_process, true);
  assert.equal(own.process.entry_leader.entry_meta.type, 'init');
  assert.equal(own.process.tty, undefined);

  // Nothing leads a session: no field.
  assert.equal(JSON.parse(f.exec(base)).process.entry_leader, undefined);
});
