import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENTRY_CONSOLE, ENTRY_INIT, ENTRY_SSHD, ttyName } from '../../src/ancestry/entry-leader';
import { OcsfFormat, OCSF_VERSION } from '../../src/events/ocsf';
import { checkOcsf } from '../support/ocsf-reference';
import { clock, host, makeExecRecord, makeExitEvent, makeForkEvent, makeLineage, OFFSET_NS } from './lineage-fixture';
import { argvOf } from '../support/argv';

const f = () => new OcsfFormat({ host, clock, productVersion: '9.9.9' });

test('exec as OCSF Process Activity: Launch (Exec), the parent as actor, native ancestry and lineage', () => {
  const l = makeLineage(4);
  const line = f().exec(l);
  assert.ok(!line.includes('\n'));
  const d = JSON.parse(line);
  assert.equal(d.class_uid, 1007);
  assert.equal(d.category_uid, 1);
  assert.equal(d.activity_id, 1);
  assert.equal(d.type_uid, 100701);
  assert.equal(d.launch_type_id, 3);
  assert.equal(d.status_id, 1);
  assert.equal(d.severity_id, 1);
  assert.equal(d.time, Number((BigInt(l.record.ktimeNs) + OFFSET_NS) / 1_000_000n));
  assert.equal(d.metadata.version, OCSF_VERSION);
  assert.deepEqual(d.metadata.product, { name: 'ancestryd', vendor_name: 'ancestryd', version: '9.9.9' });
  assert.equal(d.metadata.uid, `5f1c2a9e-${l.record.ktimeNs}-${l.record.tid}-1`);
  assert.equal(d.device.hostname, 'build-07');
  assert.equal(d.device.uid, host.machineId);
  const p = d.process;
  assert.equal(p.pid, l.process.pid);
  assert.equal(p.uid, l.process.entityId);
  assert.equal(p.path, '/usr/bin/curl');
  assert.equal(p.name, 'curl');
  assert.equal(p.cmd_line, 'curl -fsSL https://example.invalid/install.sh');
  assert.equal(p.created_time, Number(l.process.startEpochNs / 1_000_000n));
  assert.equal(p.user.uid, '1000');
  assert.deepEqual(p.file, { name: 'curl', path: '/usr/bin/curl', type_id: 1, type: 'Regular File' });
  assert.equal(p.parent_process.pid, l.ancestry[0].pid);
  assert.equal(p.parent_process.uid, l.ancestry[0].entityId);
  assert.deepEqual(d.actor.process, p.parent_process, 'the actor of an exec is its parent');
  assert.equal(p.ancestry.length, 4);
  assert.deepEqual(p.ancestry.map((a: { uid: string }) => a.uid), l.ancestry.map((v) => v.entityId), 'nearest parent first');
  assert.equal(p.ancestry[3].pid, 1);
  assert.deepEqual(p.lineage, l.ancestry.map((v) => v.path));
  assert.equal(d.unmapped.ancestry_complete, true);
});

test('failed exec is a failed Launch, fork a Launch (Fork), exit a Terminate with its exit code', () => {
  const l = makeLineage(1);
  const failed = JSON.parse(f().exec({ ...l, record: makeExecRecord(l.process, 5_000_000_000, { kind: 'exec_failed', ret: -13, filename: '/x', ...argvOf(['/x', 'y']) }) }));
  assert.equal(failed.activity_id, 1);
  assert.equal(failed.status_id, 2);
  assert.equal(failed.status, 'Failure');
  assert.equal(failed.status_code, 'EACCES');
  assert.equal(failed.process.path, '/x');
  assert.equal(failed.process.cmd_line, '/x y');
  const fork = JSON.parse(f().fork(makeForkEvent()));
  assert.equal(fork.activity_id, 1);
  assert.equal(fork.launch_type_id, 2);
  assert.equal(fork.process.pid, 501);
  assert.equal(fork.actor.process.pid, 500);
  const exit = JSON.parse(f().exit(makeExitEvent()));
  assert.equal(exit.activity_id, 2);
  assert.equal(exit.type_uid, 100702);
  assert.equal(exit.exit_code, 3);
  assert.equal(exit.process.terminated_time, exit.time);
  assert.equal(exit.actor.process.pid, exit.process.pid, 'a process that exits is its own actor');
});

test('every attribute of every event type is in the OCSF 1.9 attribute table, with its type; required ones present', () => {
  const fmt = f();
  const l = makeLineage(4);
  const lines = {
    exec: fmt.exec(l),
    exec_failed: fmt.exec({ ...l, record: makeExecRecord(l.process, 5_000_000_000, { kind: 'exec_failed', ret: -2, filename: '/nope', argvText: '', cmdline: '' }) }),
    exec_orphan: fmt.exec(makeLineage(0)),
    exec_no_machine_id: new OcsfFormat({ host: { ...host, machineId: null }, clock }).exec(l),
    fork: fmt.fork(makeForkEvent()),
    exit: fmt.exit(makeExitEvent()),
  };
  for (const [kind, line] of Object.entries(lines)) assert.deepEqual(checkOcsf(JSON.parse(line)), [], `${kind}: ${line}`);
});

test('the OCSF check itself fails on an unknown attribute, a wrong type, a missing required one and seconds for ms', () => {
  const d = JSON.parse(f().exec(makeLineage(1)));
  assert.deepEqual(checkOcsf({ ...d, process: { ...d.process, ppid: 1 } }), ['process.ppid: not an attribute of object process']);
  assert.deepEqual(checkOcsf({ ...d, process: { ...d.process, pid: '1' } }), ['process.pid: "1" is not a integer_t']);
  const { severity_id: _, ...noSeverity } = d;
  assert.deepEqual(checkOcsf(noSeverity), ['severity_id: required by class process_activity (uid 1007), missing']);
  assert.deepEqual(checkOcsf({ ...d, time: Math.floor(d.time / 1000) }), [`time: ${Math.floor(d.time / 1000)} is not a timestamp_t`]);
  assert.deepEqual(checkOcsf({ ...d, process: { ...d.process, lineage: '/bin/sh' } }), ['process.lineage: an array expected (file_path_t)']);
});

test('process.session from the entry leader: uid, created_time, is_remote, the terminal; unmapped.entry_leader says who and how', () => {
  const fmt = new OcsfFormat({ host, clock });
  const base = makeLineage(4);
  const login = { ...base.ancestry[1], entryKind: ENTRY_SSHD, sourceIp: '2001:db8::7' };
  const l = { ...base, ancestry: [base.ancestry[0], login, ...base.ancestry.slice(2)], record: { ...base.record, tty: (136 << 20) | 7 } };
  const d = JSON.parse(fmt.exec(l));
  assert.deepEqual(d.process.session, { uid: login.entityId, created_time: Number(login.startEpochNs / 1_000_000n), is_remote: true, terminal: 'pts/7' });
  assert.deepEqual(d.unmapped.entry_leader, { pid: login.pid, type: 'sshd', source_ip: '2001:db8::7' }, 'the client\'s address, which session cannot hold');
  assert.deepEqual(checkOcsf(d), []);

  // A console login is local; a service init started says neither, and has no terminal.
  const tty1 = JSON.parse(fmt.exec({ ...l, ancestry: [base.ancestry[0], { ...login, entryKind: ENTRY_CONSOLE }, ...base.ancestry.slice(2)], record: { ...base.record, tty: (4 << 20) | 1 } }));
  assert.deepEqual([tty1.process.session.is_remote, tty1.process.session.terminal], [false, 'tty1']);
  const svc = JSON.parse(fmt.exec({ ...base, process: { ...base.process, entryKind: ENTRY_INIT } }));
  assert.deepEqual(svc.process.session, { uid: base.process.entityId, created_time: Number(base.process.startEpochNs / 1_000_000n) });
  assert.equal(JSON.parse(fmt.exec(base)).process.session, undefined, 'no session leader in the lineage: no session');
});

test('terminal names: pts, virtual consoles, serial lines, the console, anything else as major:minor', () => {
  const dev = (major: number, minor: number) => ((major << 20) | minor) >>> 0;
  assert.deepEqual(
    [dev(136, 0), dev(136, 300), dev(137, 2), dev(4, 0), dev(4, 63), dev(4, 64), dev(4, 255), dev(5, 1), dev(4, 256), dev(188, 0)].map(ttyName),
    ['pts/0', 'pts/300', 'pts/258', 'tty0', 'tty63', 'ttyS0', 'ttyS191', 'console', '4:256', '188:0']);
});
