/**
 * The whole daemon on the real kernel, as an operator runs it: `ancestryd
 * run`, then the CLI and /metrics against it, then SIGTERM.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags';
import { DaemonHarness, MAIN } from '../support/daemon-harness';
import { requireBuilt, ROOT } from '../support/paths';

const PROCGEN = join(ROOT, 'build', 'procgen');

interface OsqueryRow {
  name: string;
  columns: Record<string, string>;
}

describe('ancestryd run', () => {
  let d: DaemonHarness;
  before(async () => {
    requireBuilt(PROCGEN);
    // A small cache, so that lookups also miss under load.
    d = await DaemonHarness.create(['--process_ancestry_cache_size=32', '--event_types=exec,exec_failed,fork,exit']);
    await d.start();
  });
  after(async () => {
    await d?.close();
  });

  it('answers `ancestryd ancestry $$` with the calling shell\'s lineage', () => {
    const r = spawnSync('/bin/bash', ['-c', `exec 3>&1; "${process.execPath}" "${MAIN}" ancestry $$ --json --admin_socket="${join(d.dir, 'run', 'admin.sock')}"; echo "shell=$$"`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const shell = Number(/shell=(\d+)/.exec(r.stdout)![1]);
    const res = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('shell='))) as {
      pid: number; complete: boolean; process: { pid: number; path: string }; ancestry: { pid: number; entity_id: string }[];
    };
    assert.equal(res.pid, shell);
    assert.equal(res.process.path, realpathSync('/bin/bash'), 'path is the file that ran, as the kernel resolved it');
    assert.equal(res.ancestry[0].pid, process.pid, 'the shell was started by this test process');
    assert.equal(res.ancestry.at(-1)!.pid, 1, 'the lineage ends at init');
    assert.equal(res.complete, true);
    const table = d.cli(['ancestry', String(process.pid)]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^\\s+0\\s+${process.pid}\\s`, 'm'), 'table output lists the process at depth 0');
  });

  it('moves /metrics under load and reports cache hits and misses in stats', async () => {
    const before = await d.metric('ancestryd_events_total', '{type="exec"}');
    const gen = spawnSync(PROCGEN, ['churn', '--duration', '2', '--workers', '2', '--rate', '300'], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const execs = JSON.parse(gen.stdout) as { execs: number };
    let now = before;
    for (let i = 0; i < 50 && now < before + execs.execs; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await d.metric('ancestryd_events_total', '{type="exec"}');
    }
    assert.ok(now >= before + execs.execs, `exec events went from ${before} to ${now} for ${execs.execs} execs`);
    assert.ok(await d.metric('ancestryd_ring_records_total', '{kind="fork"}') > 0);
    assert.ok(await d.metric('ancestryd_process_resident_memory_bytes') > 0);

    const stats = d.cli(['stats', '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    const s = JSON.parse(stats.stdout) as Record<string, number>;
    assert.ok(s.cache_hits > 0, `cache_hits ${s.cache_hits}`);
    assert.ok(s.cache_misses > 0, `cache_misses ${s.cache_misses} (a 32-entry cache under load must miss)`);
    // The limit is enforced before each record is applied (the previous
    // record's views must stay valid until then): one new entry may sit above it.
    assert.ok(s.cache_size <= 32 + 1, `cache_size ${s.cache_size} within process_ancestry_cache_size`);
    const text = d.cli(['stats']);
    assert.match(text.stdout, /^cache_hits:\s+\d+$/m);
  });

  it('keeps recent events per pid for `ancestryd events`', () => {
    const child = spawnSync('/bin/sh', ['-c', 'echo $$; exec /bin/true events-probe'], { encoding: 'utf8' });
    const pid = Number(child.stdout.trim());
    let rows: OsqueryRow[] = [];
    for (let i = 0; i < 50 && !rows.some((r) => r.columns.cmdline === '/bin/true events-probe'); i++) {
      spawnSync('sleep', ['0.1']);
      const r = d.cli(['events', '--pid', String(pid)]);
      rows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as OsqueryRow);
    }
    assert.ok(rows.some((r) => r.columns.cmdline === '/bin/true events-probe'), JSON.stringify(rows));
    assert.ok(rows.every((r) => r.columns.pid === String(pid)));
  });

  it('prints a hostile process\'s argv to the terminal escaped: no ESC, CR or bidi override reaches it', async () => {
    const hostile = 'x\x1b[2J\x1b[Hfake\rrow\u202eevil';
    // $0 of a shell that stays (no exec of its last command): the hostile text is in its argv.
    const child = spawn('/bin/sh', ['-c', 'sleep 5; true', hostile], { stdio: 'ignore' });
    try {
      let out = '';
      for (let i = 0; i < 50 && !out.includes('fake'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        out = d.cli(['ancestry', String(child.pid)]).stdout;
      }
      assert.ok(out.includes('x\\x1b[2J\\x1b[Hfake\\x0drow\\u{202e}evil'), out);
      assert.ok(!/[\x1b\r\u202e]/.test(out), 'no raw control or bidi character in the output');
      const json = d.cli(['ancestry', String(child.pid), '--json']).stdout;
      assert.ok(!/[\x1b\r\u202e]/.test(json));
      assert.equal((JSON.parse(json) as { process: { cmdline: string } }).process.cmdline, `/bin/sh -c sleep 5; true ${hostile}`);
    } finally {
      child.kill();
    }
  });

  it('refuses a second instance', () => {
    const r = spawnSync(process.execPath, [MAIN, 'run', ...d.args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 3, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, /already running|another ancestryd/i);
  });

  it('flushes every event on SIGTERM and exits 0', async () => {
    const tag = `sigterm-${process.pid}`;
    for (let i = 0; i < 50; i++) spawnSync('/bin/true', [`${tag}-${i}`]);
    const code = await d.stop();
    assert.equal(code, 0, d.stderr);
    const rows = d.resultLines().map((l) => JSON.parse(l) as OsqueryRow);
    const seen = new Set(rows.filter((r) => r.name === 'process_events').map((r) => r.columns.cmdline));
    const missing = Array.from({ length: 50 }, (_, i) => `/bin/true ${tag}-${i}`).filter((c) => !seen.has(c));
    assert.deepEqual(missing, [], 'events of the last moments before SIGTERM are in the file');
    assert.ok(rows.some((r) => r.name === 'process_fork_events') && rows.some((r) => r.name === 'process_exit_events'));
    assert.match(d.stderr, /"msg":"stopped"/);
  });
});

describe('ancestryd run: SIGHUP', () => {
  it('applies a changed event_types and keeps running on a broken config', async () => {
    const d = await DaemonHarness.create();
    const conf = join(d.dir, 'ancestryd.conf');
    writeFileSync(conf, JSON.stringify({ options: { event_types: 'exec' } }));
    d.args.push(`--config=${conf}`);
    try {
      await d.start();
      const forks = () => d.resultLines().filter((l) => l.includes('"name":"process_fork_events"')).length;
      spawnSync('/bin/true', ['before-hup']);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(forks(), 0, 'no fork events while event_types=exec');

      writeFileSync(conf, JSON.stringify({ options: { event_types: 'exec,fork' } }));
      d.child!.kill('SIGHUP');
      for (let i = 0; i < 50 && !d.stderr.includes('configuration reloaded'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(d.stderr, /"changed":\["event_types"\]/);
      spawnSync('/bin/true', ['after-hup']);
      for (let i = 0; i < 50 && forks() === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(forks() > 0, 'fork events after the reload');

      writeFileSync(conf, '{"options": {"process_ancestry_max_depth": 200}}');
      d.child!.kill('SIGHUP');
      for (let i = 0; i < 50 && !d.stderr.includes('reload failed'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(d.stderr, /process_ancestry_max_depth=200 is out of range \[1, 64\]/);
      assert.equal((await fetch(`http://127.0.0.1:${d.port}/readyz`)).status, 200, 'still running and ready');
      assert.equal(await d.stop(), 0);
    } finally {
      await d.close();
    }
  });
});

describe('ancestryd run: signals during start-up (issue 10)', () => {
  /** Spawns `ancestryd run` and resolves once it holds its pidfile, i.e. its JS is running but it is not ready yet. */
  async function starting(d: DaemonHarness): Promise<ChildProcess> {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, MAIN, 'run', ...d.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    d.child = child;
    child.stderr!.on('data', (b: Buffer) => { d.stderr += b.toString(); });
    d.exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128))));
    const pidfile = join(d.dir, 'run', 'ancestryd.pid');
    for (let i = 0; i < 400 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(existsSync(pidfile), `pidfile appeared: ${d.stderr}`);
    return child;
  }

  it('a SIGHUP before ready is applied once ready, and the daemon runs on', async () => {
    const d = await DaemonHarness.create();
    try {
      const child = await starting(d);
      child.kill('SIGHUP');
      for (let i = 0; i < 300 && !d.stderr.includes('ancestryd ready'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(child.exitCode, null, `still running: ${d.stderr}`);
      // Held until the daemon could act on it (the BPF load itself runs with signals blocked).
      for (let i = 0; i < 50 && !d.stderr.includes('configuration reloaded'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(d.stderr, /configuration reloaded/);
      assert.equal((await fetch(`http://127.0.0.1:${d.port}/readyz`)).status, 200);
      child.kill('SIGTERM');
      assert.equal(await d.exit, 0, d.stderr);
      assert.equal(existsSync(join(d.dir, 'run', 'ancestryd.pid')), false, 'pidfile removed');
    } finally {
      await d.close();
    }
  });

  it('a SIGTERM before ready stops it cleanly: exit 0, pidfile and socket removed', async () => {
    const d = await DaemonHarness.create();
    try {
      const child = await starting(d);
      child.kill('SIGTERM');
      assert.equal(await d.exit, 0, d.stderr);
      assert.equal(existsSync(join(d.dir, 'run', 'ancestryd.pid')), false, 'pidfile removed');
      assert.equal(existsSync(join(d.dir, 'run', 'admin.sock')), false, 'admin socket removed');
    } finally {
      await d.close();
    }
  });
});

describe('ancestryd run: metrics port taken by another user (issue 10)', () => {
  it('runs without the endpoint, says so in stats, and binds it once the port is free', async () => {
    const d = await DaemonHarness.create();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(d.port, '127.0.0.1', () => resolve()));
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, MAIN, 'run', ...d.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    d.child = child;
    child.stderr!.on('data', (b: Buffer) => { d.stderr += b.toString(); });
    d.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !d.stderr.includes('ancestryd ready'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(child.exitCode, null, `still running: ${d.stderr}`);
      assert.match(d.stderr, /metrics endpoint unavailable/);
      const stats = JSON.parse(d.cli(['stats', '--json']).stdout) as { ready: boolean; metrics_endpoint: { listening: boolean; error: string } };
      assert.equal(stats.ready, true);
      assert.equal(stats.metrics_endpoint.listening, false);
      assert.match(stats.metrics_endpoint.error, /EADDRINUSE/);
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await fetch(`http://127.0.0.1:${d.port}/readyz`).then((r) => r.status, () => 0);
      }
      assert.equal(status, 200, 'the endpoint came back once the port was free');
      assert.equal((JSON.parse(d.cli(['stats', '--json']).stdout) as { metrics_endpoint: { listening: boolean } }).metrics_endpoint.listening, true);
      assert.equal(await d.stop(), 0, d.stderr);
    } finally {
      squatter.close();
      await d.close();
    }
  });
});

describe('ancestryd run: a drain pass larger than the pass buffer', () => {
  it('writes every exec of a 2 s pass (MBs of lines, handed over in slices), none twice', async () => {
    requireBuilt(PROCGEN);
    // A 2 s drain period and no early kernel wakeup: one pass holds ~2 s of execs.
    const d = await DaemonHarness.create(['--bpf_drain_timeout_ms=2000', '--bpf_wakeup_bytes=8M']);
    try {
      await d.start();
      const tag = `bigpass${process.pid}`;
      const gen = spawnSync(PROCGEN, ['flat', '--workers', '2', '--duration', '2', '--rate', '1000', '--tag', tag], { encoding: 'utf8' });
      assert.equal(gen.status, 0, gen.stderr);
      const execs = (JSON.parse(gen.stdout.trim().split('\n').pop()!) as { execs: number }).execs;
      assert.equal(await d.stop(), 0, d.stderr);
      const cmdlines = d.resultLines().map((l) => JSON.parse(l) as OsqueryRow)
        .filter((r) => r.name === 'process_events' && r.columns.cmdline.startsWith(`/bin/true ${tag}-`)).map((r) => r.columns.cmdline);
      const bytes = d.resultLines().reduce((a, l) => a + l.length + 1, 0);
      assert.ok(bytes > 3 * 1024 * 1024, `the run wrote ${bytes} bytes: more than the 1 MiB slice several times over`);
      assert.equal(cmdlines.length, execs, 'every exec written');
      assert.equal(new Set(cmdlines).size, execs, 'none twice');
    } finally {
      await d.close();
    }
  });
});

describe('ancestryd run: directories another user controls', () => {
  it('refuses a logger_path owned by another user, naming it, and never touches what a planted symlink points to', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'anc-theirs-'));
    const theirs = join(outside, 'logs');
    mkdirSync(theirs, { mode: 0o755 });
    const victim = join(outside, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    symlinkSync(victim, join(theirs, 'ancestryd.results.log'));
    chownSync(theirs, 65534, 65534);
    const d = await DaemonHarness.create([`--logger_path=${theirs}`]);
    try {
      await assert.rejects(d.start(20_000), /exited with 2 before it was ready/);
      assert.match(d.stderr, new RegExp(`logger_path: directory ${theirs} \\(owner uid 65534, mode 0755\\) may be written by another user`));
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.equal(statSync(victim).mode & 0o777, 0o644);
    } finally {
      await d.close();
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
