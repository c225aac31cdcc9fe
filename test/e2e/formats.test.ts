/**
 * The daemon's lines in each schema, from the real kernel: every ECS and
 * OCSF line of every event type (exec, failed exec, fork, exit) is checked
 * attribute by attribute against the ECS 9.4.0 and OCSF 1.9.0-dev references.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DaemonHarness } from '../support/daemon-harness';
import { checkEcs } from '../support/ecs-reference';
import { checkOcsf } from '../support/ocsf-reference';

/** Run the daemon with `format`, make a tagged shell fork, exec, fail an exec and exit; every line it wrote. */
async function linesFrom(format: string, tag: string, extra: string[] = []): Promise<unknown[]> {
  const d = await DaemonHarness.create([`--logger_format=${format}`, '--event_types=exec,exec_failed,fork,exit', ...extra]);
  try {
    await d.start();
    // setsid: the shell leads its own session and process group whatever
    // session the test runner has (CI's may be 0, which has no leader).
    const r = spawnSync('/usr/bin/setsid', ['/bin/sh', '-c', `/bin/true ${tag}; /nonexistent-${tag} 2>/dev/null; (/bin/echo ${tag} >/dev/null); exit 0`]);
    assert.equal(r.status, 0);
    assert.equal(await d.stop(), 0);
    return d.resultLines().map((l) => JSON.parse(l) as unknown);
  } finally {
    await d.close();
  }
}

interface EcsLine {
  event: { action: string };
  process: {
    pid: number; args?: string[]; Ext?: { ancestry: string[] }; parent?: { entity_id?: string };
    group_leader?: { pid: number }; session_leader?: { pid: number };
  };
  ancestryd: { ancestry?: { entity_id: string; pid: number }[] };
}

interface EcsEntryLine {
  event: { action: string };
  process: {
    pid: number; args?: string[]; parent?: { pid: number; interactive?: boolean }; session_leader?: { pid: number };
    entry_leader: { pid: number; name: string; same_as_process: boolean; interactive?: boolean; entry_meta: { type: string; source?: { ip: string } } };
    interactive?: boolean;
    tty?: { char_device: { major: number; minor: number } };
  };
}

interface OcsfEntryLine {
  launch_type_id?: number;
  process: { uid: string; cmd_line: string; session?: { uid: string; is_remote?: boolean; terminal?: string } };
  unmapped: { entry_leader?: { pid: number; type: string; source_ip?: string } };
}

/**
 * The entry programs as copies under their names (a parent's name is its
 * executable's), in a system directory where only root writes: a parent's
 * name is believed only for such a program (entry-leader.ts systemProgram).
 * bash as the runtime's shim and as sshd, util-linux `script` as
 * ssm-session-worker, which gives its child a pty. Also bash as sshd in
 * `dir`, a temporary directory, which anyone could have made.
 */
const SYSTEM_DIR = join('/usr/local/lib', `ancestryd-e2e-${process.pid}`);
function entryPrograms(dir: string): void {
  mkdirSync(SYSTEM_DIR, { recursive: true });
  for (const [name, from] of [['containerd-shim-runc-v2', '/bin/bash'], ['sshd', '/bin/bash'], ['ssm-session-worker', '/usr/bin/script']]) {
    copyFileSync(from, join(SYSTEM_DIR, name));
    chmodSync(join(SYSTEM_DIR, name), 0o755);
  }
  copyFileSync('/bin/bash', join(dir, 'sshd'));
  chmodSync(join(dir, 'sshd'), 0o755);
}

function removeEntryPrograms(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(SYSTEM_DIR, { recursive: true, force: true });
}

/** A TCP listener on `host`; connections complete in the kernel's backlog, nothing accepts them. */
async function listener(host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return server;
}

/**
 * A session started before the daemon, whose shell touches `ready`, waits
 * for `go`, then forks echo TAG: the daemon starts once the session is
 * ready, so the shell is known only from /proc. The echo's line.
 */
async function echoAfterStart(d: DaemonHarness, ready: string, go: string, tag: string): Promise<EcsEntryLine> {
  for (const until = Date.now() + 10_000; !existsSync(ready);) {
    assert.ok(Date.now() < until, 'the session ready within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  await d.start();
  writeFileSync(go, '');
  for (const until = Date.now() + 10_000; !d.resultLines().some((l) => l.includes(tag));) {
    assert.ok(Date.now() < until, 'the echo within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await d.stop(), 0);
  const echo = d.resultLines().map((l) => JSON.parse(l) as EcsEntryLine).find((x) => x.event.action === 'exec' && x.process.args?.[1] === tag);
  assert.ok(echo, 'the echo');
  return echo;
}

/**
 * Sessions entered four ways, in `dir`'s renamed programs (see the test),
 * each running /bin/echo KIND-TAG: every line the daemon wrote. The sshd
 * copies hold a TCP connection to a listener on 127.0.0.1 (sshd, and
 * sshdcopy from the temporary directory) or ::1 (sshd6) when their session
 * leader execs, as sshd holds its client's.
 */
async function entrySessions(dir: string, format: string, tag: string): Promise<unknown[]> {
  const d = await DaemonHarness.create([`--logger_format=${format}`]);
  const v4 = await listener('127.0.0.1');
  const v6 = await listener('::1');
  try {
    await d.start();
    // bash forks for a command followed by another; its child is no group
    // leader, so setsid(1) calls setsid() itself and execs echo.
    const connect = (s: Server, host: string) => `exec 3<>/dev/tcp/${host}/${(s.address() as AddressInfo).port}; `;
    for (const [kind, prog, pre] of [
      ['container', join(SYSTEM_DIR, 'containerd-shim-runc-v2'), ''], ['sshd', join(SYSTEM_DIR, 'sshd'), connect(v4, '127.0.0.1')],
      ['sshd6', join(SYSTEM_DIR, 'sshd'), connect(v6, '::1')],
      ['sshdcopy', join(dir, 'sshd'), connect(v4, '127.0.0.1')],
    ]) {
      const r = spawnSync(prog, ['-c', `${pre}/usr/bin/setsid /bin/echo ${kind}-${tag}; true`]);
      assert.equal(r.status, 0, r.stderr.toString());
    }
    // script: its child leads a session on a new pty and runs $SHELL -c,
    // whose stdin and stderr are that pty; the second echo has them elsewhere.
    const ssm = spawnSync(join(SYSTEM_DIR, 'ssm-session-worker'), ['-qc', `/bin/echo ssm-${tag}; /bin/echo ssmredirected-${tag} </dev/null 2>/dev/null`, '/dev/null'],
      { env: { ...process.env, SHELL: '/bin/sh' } });
    assert.equal(ssm.status, 0, ssm.stderr.toString());
    // setsid -f: a session leader whose parent exits at once, so init adopts
    // it before it execs echo.
    assert.equal(spawnSync('/usr/bin/setsid', ['-f', '/bin/sh', '-c', `sleep 0.3; exec /bin/echo init-${tag}`]).status, 0);
    // It execs after this returns: wait for its line, as lines are written while records flow.
    for (const until = Date.now() + 10_000; !d.resultLines().some((l) => l.includes(`init-${tag}`));) {
      assert.ok(Date.now() < until, 'the init session\'s exec within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await d.stop(), 0);
    return d.resultLines().map((l) => JSON.parse(l) as unknown);
  } finally {
    await d.close();
    v4.close();
    v6.close();
  }
}

interface OcsfLine {
  activity_id: number;
  launch_type_id?: number;
  status_id: number;
  process: { cmd_line: string; ancestry?: { uid: string; pid: number }[]; lineage?: string[]; parent_process?: { uid?: string } };
  actor: { process: { uid?: string } };
}

describe('lines in each schema, from the real kernel', () => {
  it('ECS: every line validates against the ECS 9.4.0 field reference, for exec, failed exec, fork and exit', async () => {
    const tag = `ecs-check-${process.pid}`;
    const docs = (await linesFrom('ecs', tag)) as EcsLine[];
    const actions = new Set(docs.map((x) => x.event.action));
    for (const a of ['exec', 'exec_failed', 'fork', 'exit']) assert.ok(actions.has(a), `an ${a} line among ${docs.length}`);
    for (const doc of docs) assert.deepEqual(checkEcs(doc).problems, [], JSON.stringify(doc));
    const exec = docs.find((x) => x.event.action === 'exec' && x.process.args?.includes(tag));
    assert.ok(exec, 'the tagged exec');
    const ids = exec.process.Ext!.ancestry;
    assert.ok(ids.length >= 2, 'the tagged exec has ancestors up to init');
    assert.equal(ids[0], exec.process.parent!.entity_id, 'process.Ext.ancestry starts at the parent');
    assert.deepEqual(ids, exec.ancestryd.ancestry!.map((a) => a.entity_id), 'the same lineage as the full objects');
    // The shell leads the session and group (setsid), and is the exec's parent.
    const shell = { pid: exec.ancestryd.ancestry![0].pid, entity_id: ids[0], interactive: false };
    assert.deepEqual(exec.process.group_leader, shell, 'process.group_leader is the kernel\'s pgid, the shell');
    assert.deepEqual(exec.process.session_leader, shell, 'process.session_leader is the kernel\'s sid, the shell');
  });

  it('OCSF: every line validates against the OCSF Process Activity attribute table, for exec, failed exec, fork and exit', async () => {
    const tag = `ocsf-check-${process.pid}`;
    const docs = (await linesFrom('ocsf', tag)) as OcsfLine[];
    const kinds = new Set(docs.map((x) => `${x.activity_id}/${x.launch_type_id ?? '-'}/${x.status_id}`));
    for (const k of ['1/3/1', '1/3/2', '1/2/1', '2/-/1']) assert.ok(kinds.has(k), `a line with activity/launch type/status ${k} among ${[...kinds].join(' ')}`);
    for (const doc of docs) assert.deepEqual(checkOcsf(doc), [], JSON.stringify(doc));
    const exec = docs.find((x) => x.launch_type_id === 3 && x.status_id === 1 && x.process.cmd_line === `/bin/true ${tag}`);
    assert.ok(exec, 'the tagged exec');
    const a = exec.process.ancestry!;
    assert.equal(a.at(-1)!.pid, 1, 'process.ancestry reaches init');
    assert.equal(a[0].uid, exec.process.parent_process!.uid, 'nearest parent first');
    assert.equal(exec.actor.process.uid, a[0].uid, 'the actor is the parent');
    assert.equal(exec.process.lineage!.length, a.length);
  });

  it('process_ancestry_detail=compact and ids: every format carries that much of each ancestor, ECS and OCSF still valid', async () => {
    for (const detail of ['compact', 'ids'] as const) {
      const tag = `detail-${detail}-${process.pid}`;
      const osq = (await linesFrom('osquery', tag, [`--process_ancestry_detail=${detail}`])) as { name: string; columns: Record<string, string> }[];
      const row = osq.find((x) => x.name === 'process_events' && x.columns.cmdline === `/bin/true ${tag}`);
      assert.ok(row, `${detail}: the tagged exec row`);
      const a = JSON.parse(row.columns.ancestry) as unknown[];
      assert.ok(a.length >= 2 && (a.at(-1) as { pid?: number }).pid === (detail === 'ids' ? undefined : 1), detail);
      if (detail === 'ids') assert.ok(a.every((e) => typeof e === 'string'), 'entity ids only');
      else assert.deepEqual(Object.keys(a[0] as object), ['entity_id', 'pid', 'ppid', 'exe_name', 'path', 'proc_time_hr']);
      for (const doc of await linesFrom('ecs', tag, [`--process_ancestry_detail=${detail}`])) assert.deepEqual(checkEcs(doc).problems, [], `${detail}: ${JSON.stringify(doc)}`);
      for (const doc of await linesFrom('ocsf', tag, [`--process_ancestry_detail=${detail}`])) assert.deepEqual(checkOcsf(doc), [], `${detail}: ${JSON.stringify(doc)}`);
    }
  });

  it('osquery rows: path is the file that ran (a script\'s interpreter, ancestors too), execve_path the name exec was given', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'anc-fmt-')));
    try {
      const script = join(dir, 'tagged.sh');
      const tag = `script-${process.pid}`;
      writeFileSync(script, `#!/bin/sh\n/bin/true ${tag}\n`);
      chmodSync(script, 0o755);
      const d = await DaemonHarness.create([]);
      let rows: { name: string; columns: Record<string, string> }[];
      try {
        await d.start();
        assert.equal(spawnSync(script, [tag]).status, 0);
        assert.equal(await d.stop(), 0);
        rows = d.resultLines().map((l) => JSON.parse(l) as { name: string; columns: Record<string, string> });
      } finally {
        await d.close();
      }
      const sh = realpathSync('/bin/sh');
      const run = rows.find((x) => x.columns.execve_path === script);
      assert.ok(run, 'the script\'s exec row');
      assert.equal(run.columns.path, sh, 'path: the interpreter that ran');
      assert.equal(run.columns.interpreted, '1');
      assert.equal(run.columns.exe_deleted, '0');
      const child = rows.find((x) => x.columns.cmdline === `/bin/true ${tag}`);
      assert.ok(child, 'the script\'s child');
      assert.equal(child.columns.path, realpathSync('/bin/true'));
      assert.equal(child.columns.execve_path, '/bin/true');
      assert.equal(child.columns.interpreted, '0');
      const parent = (JSON.parse(child.columns.ancestry) as { path: string; pid: number }[])[0];
      assert.equal(parent.pid, Number(run.columns.pid));
      assert.equal(parent.path, sh, 'the ancestor carries its resolved path too');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('entry leaders from the real kernel: init, container, sshd and ssm sessions, the terminal from the kernel; ECS and OCSF', async () => {
    // The entry programs are copies under their names (a parent's name is its
    // executable's): bash as the runtime's shim and as sshd, util-linux
    // `script` as ssm-session-worker, which gives its child a pty.
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'anc-entry-')));
    try {
      entryPrograms(dir);
      const tag = `entry-${process.pid}`;
      const ecs = await entrySessions(dir, 'ecs', tag) as EcsEntryLine[];
      for (const doc of ecs) assert.deepEqual(checkEcs(doc).problems, [], JSON.stringify(doc));
      const line = (kind: string) => {
        const found = ecs.find((x) => x.event.action === 'exec' && x.process.args?.[1] === `${kind}-${tag}`);
        assert.ok(found, `the ${kind} exec`);
        return found.process;
      };
      // The client's address, read by the kernel from the connection sshd holds; none for a container.
      for (const [kind, meta] of [
        ['container', { type: 'container' }], ['sshd', { type: 'sshd', source: { ip: '127.0.0.1' } }], ['sshd6', { type: 'sshd', source: { ip: '::1' } }],
      ] as const) {
        const p = line(kind);
        assert.deepEqual(p.entry_leader?.entry_meta, meta, JSON.stringify(p.entry_leader));
        assert.equal(p.entry_leader.pid, p.pid, 'echo leads its session itself');
        assert.equal(p.entry_leader.same_as_process, true);
        assert.equal(p.session_leader?.pid, p.pid);
        assert.equal(p.tty, undefined, 'no terminal');
        assert.equal(p.interactive, false, 'no terminal, so not interactive');
      }
      const copy = line('sshdcopy');
      assert.ok(!(copy.entry_leader?.entry_meta.type === 'sshd' && copy.entry_leader.pid === copy.pid), `an sshd copy in /tmp enters nothing: ${JSON.stringify(copy.entry_leader)}`);
      const s = line('ssm');
      assert.equal(s.entry_leader?.entry_meta.type, 'ssm', JSON.stringify(s.entry_leader));
      assert.equal(s.entry_leader.pid, s.session_leader?.pid, 'the shell script started leads the session');
      assert.ok(s.tty !== undefined && s.tty.char_device.major >= 136 && s.tty.char_device.major <= 143, `a pty: ${JSON.stringify(s.tty)}`);
      // ECS's process.interactive, from the kernel: stdin and stderr are the controlling terminal.
      assert.deepEqual([s.interactive, s.parent?.interactive, s.entry_leader.interactive], [true, true, true], 'echo, its shell, the session');
      const r = line('ssmredirected');
      assert.deepEqual(r.tty, s.tty, 'the same terminal');
      assert.equal(r.interactive, false, 'stdin and stderr elsewhere');
      const i = line('init');
      assert.equal(i.entry_leader?.entry_meta.type, 'init', JSON.stringify(i.entry_leader));
      assert.equal(i.entry_leader.pid, i.pid);
      assert.equal(i.entry_leader.name, 'echo');

      const otag = `oentry-${process.pid}`;
      const ocsf = await entrySessions(dir, 'ocsf', otag) as OcsfEntryLine[];
      for (const doc of ocsf) assert.deepEqual(checkOcsf(doc), [], JSON.stringify(doc));
      const oline = (kind: string) => {
        const found = ocsf.find((x) => x.launch_type_id === 3 && x.process.cmd_line === `/bin/echo ${kind}-${otag}`);
        assert.ok(found, `the ${kind} exec`);
        return found;
      };
      const ssm = oline('ssm');
      assert.equal(ssm.unmapped.entry_leader?.type, 'ssm');
      assert.equal(ssm.process.session?.is_remote, true);
      assert.match(ssm.process.session?.terminal ?? '', /^pts\/\d+$/);
      const o = oline('sshd');
      assert.deepEqual([o.unmapped.entry_leader?.type, o.process.session?.is_remote, o.process.session?.uid], ['sshd', true, o.process.uid]);
      assert.equal(o.unmapped.entry_leader?.source_ip, '127.0.0.1');
      assert.equal(oline('sshd6').unmapped.entry_leader?.source_ip, '::1');
      // The sshd copy anyone could make: its session is no sshd session (an ancestor's may be, when the tests run over ssh).
      const ocopy = oline('sshdcopy');
      assert.ok(!(ocopy.unmapped.entry_leader?.type === 'sshd' && ocopy.process.session?.uid === ocopy.process.uid), JSON.stringify(ocopy.unmapped));
      assert.equal(oline('container').unmapped.entry_leader?.type, 'container');
      const init = oline('init');
      assert.equal(init.unmapped.entry_leader?.type, 'init');
      assert.equal(init.process.session?.is_remote, undefined, 'a service: neither remote nor local');
    } finally {
      removeEntryPrograms(dir);
    }
  });

  it('an sshd session older than the daemon: the client\'s address from /proc/PID/fd and net/tcp at the start', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'anc-entry-sshd-')));
    const tag = `old-sshd-${process.pid}`;
    const server = await listener('127.0.0.1');
    // bash as sshd holds a connection on fd 3, and its child leads a session
    // (setsid) that says it is ready, waits for the go, then forks echo:
    // nothing of it execs while the daemon looks but the echo.
    const ready = join(dir, 'ready');
    const go = join(dir, 'go');
    const port = (server.address() as AddressInfo).port;
    entryPrograms(dir);
    const session = spawn(join(SYSTEM_DIR, 'sshd'),
      ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; /usr/bin/setsid /bin/sh -c ': > ${ready}; while [ ! -e ${go} ]; do sleep 0.05; done; /bin/echo ${tag}; true'; true`],
      { stdio: 'ignore' });
    const d = await DaemonHarness.create(['--logger_format=ecs']);
    try {
      const echo = await echoAfterStart(d, ready, go, tag);
      const p = echo.process;
      assert.deepEqual(p.entry_leader?.entry_meta, { type: 'sshd', source: { ip: '127.0.0.1' } }, JSON.stringify(p.entry_leader));
      assert.equal(p.entry_leader.same_as_process, false, 'the shell read from /proc leads');
      assert.deepEqual(checkEcs(echo).problems, []);
    } finally {
      writeFileSync(go, '');
      await d.close();
      session.kill();
      server.close();
      removeEntryPrograms(dir);
    }
  });

  it('a session older than the daemon: the leader\'s kind and terminal from /proc at the start', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'anc-entry-old-')));
    const tag = `old-session-${process.pid}`;
    entryPrograms(dir);
    // The shell leads its session on a pty before the daemon runs, says it
    // is ready, waits for the go, then forks echo: the leader never execs
    // while the daemon looks.
    const ready = join(dir, 'ready');
    const go = join(dir, 'go');
    const session = spawn(join(SYSTEM_DIR, 'ssm-session-worker'), ['-qc', `: > ${ready}; while [ ! -e ${go} ]; do sleep 0.05; done; /bin/echo ${tag}; true`, '/dev/null'],
      { env: { ...process.env, SHELL: '/bin/sh' }, stdio: 'ignore' });
    const d = await DaemonHarness.create(['--logger_format=ecs']);
    try {
      const echo = await echoAfterStart(d, ready, go, tag);
      const p = echo.process;
      assert.deepEqual(p.entry_leader?.entry_meta, { type: 'ssm' }, JSON.stringify(p.entry_leader));
      assert.equal(p.entry_leader.pid, p.session_leader?.pid, 'the shell, read from /proc, leads');
      assert.equal(p.entry_leader.same_as_process, false);
      assert.equal(p.entry_leader.interactive, true, 'the shell\'s stdin and stderr on its pty, from /proc/PID/fd');
      assert.ok(p.tty !== undefined && p.tty.char_device.major >= 136 && p.tty.char_device.major <= 143, JSON.stringify(p.tty));
      assert.deepEqual(checkEcs(echo).problems, []);
    } finally {
      writeFileSync(go, '');
      await d.close();
      session.kill();
      removeEntryPrograms(dir);
    }
  });
});
