import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAncestrydError } from '../../../src/errors';
import { adminRequest, describeConnectError } from '../../../src/daemon/admin/admin-client';
import { AdminRequestError, type AncestryResponse } from '../../../src/daemon/admin/admin-protocol';
import { AdminHandlers, startAdminServer } from '../../../src/daemon/admin/admin-socket';
import { EXIT, exitCodeFor } from '../../../src/daemon/exit-codes';

const base = mkdtempSync(join(tmpdir(), 'ancestryd-admin-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `run${n++}`, 'admin.sock');

const LINEAGE: AncestryResponse = {
  pid: 42, entity_id: 'e42', complete: true, incomplete_reason: null, current_parent: null,
  process: { exe_name: 'sh', pid: 42, ppid: 1, path: '/bin/sh', cmdline: 'sh -c x', proc_time: 1, proc_time_hr: '1000000000', entity_id: 'e42', uid: 0, start_boottime: '5' },
  ancestry: [],
};

function handlers(): AdminHandlers {
  return new AdminHandlers()
    .register('ancestry', ({ pid }) => {
      if (pid !== 42) throw new AdminRequestError('not_found', `pid ${pid} is not in the process table`);
      return LINEAGE;
    })
    .register('stats', () => ({ cache_hits: 1, big: 2n ** 64n }))
    .register('events', async ({ limit }) => Array.from({ length: limit }, (_, i) => ({ i })))
    .register('boom', () => { throw new Error('handler bug'); });
}

/** Raw NDJSON exchange: writes `payload`, reads `lines` response lines. */
function exchange(path: string, payload: string, lines: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (c: string) => {
      buf += c;
      const got = buf.split('\n').filter((l) => l !== '');
      if (got.length >= lines && buf.endsWith('\n')) {
        s.destroy();
        resolve(got.map((l) => JSON.parse(l)));
      }
    });
    s.on('error', reject);
  });
}

describe('admin socket', () => {
  it('is root only: socket 0600 in a 0700 directory it creates', async () => {
    const path = fresh();
    const server = await startAdminServer({ path, handlers: handlers() });
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
      assert.ok(lstatSync(path).isSocket());
    } finally {
      await server.close();
    }
    assert.equal(existsSync(path), false, 'close() removes the socket');
  });

  it('answers the registered methods and ping, with validated params', async () => {
    const path = fresh();
    const server = await startAdminServer({ path, handlers: handlers() });
    try {
      assert.deepEqual(await adminRequest(path, 'ancestry', { pid: 42 }), LINEAGE);
      const ping = await adminRequest(path, 'ping', {});
      assert.equal(ping.pid, process.pid);
      assert.deepEqual(ping.methods, ['ping', 'ancestry', 'boom', 'events', 'stats']);
      assert.deepEqual(await adminRequest(path, 'stats', {}), { cache_hits: 1, big: '18446744073709551616' });
      assert.equal((await adminRequest(path, 'events', { limit: 3 })).length, 3);
      await assert.rejects(adminRequest(path, 'ancestry', { pid: 7 }), (err) => {
        assert.ok(isAncestrydError(err, 'ANC_ADMIN'));
        assert.equal(err.message, 'pid 7 is not in the process table');
        assert.equal(exitCodeFor(err), EXIT.FAILURE);
        return true;
      });
      await assert.rejects(adminRequest(path, 'ancestry', { pid: -1 } as never), /ancestry: pid must be an integer in \[1, 4194304\], got -1/);
      await assert.rejects(adminRequest(path, 'events', { limit: 0 }), /events: limit must be an integer/);
      await assert.rejects(adminRequest(path, 'nosuch', {}), /unknown method "nosuch"; this daemon answers ping, ancestry, boom, events, stats/);
      await assert.rejects(adminRequest(path, 'boom', {}), /handler bug/);
    } finally {
      await server.close();
    }
  });

  it('answers several requests on one connection in order, and bad lines with errors', async () => {
    const path = fresh();
    const server = await startAdminServer({ path, handlers: handlers() });
    try {
      const res = await exchange(path, '{"id":1,"method":"events","params":{"limit":2}}\nnot json\n{"id":3,"method":"stats"}\n[1]\n', 4);
      assert.deepEqual(res, [
        { id: 1, ok: true, result: [{ i: 0 }, { i: 1 }] },
        { id: null, ok: false, error: { code: 'bad_request', message: 'request is not valid JSON' } },
        { id: 3, ok: true, result: { cache_hits: 1, big: '18446744073709551616' } },
        { id: null, ok: false, error: { code: 'bad_request', message: 'request must be a JSON object' } },
      ]);
      const [big] = await exchange(path, 'x'.repeat(70 * 1024), 1);
      assert.deepEqual(big, { id: null, ok: false, error: { code: 'bad_request', message: 'request longer than 65536 bytes' } });
    } finally {
      await server.close();
    }
    assert.equal(server.connections, 0);
  });

  it('refuses to start when another daemon answers on the socket', async () => {
    const path = fresh();
    const first = await startAdminServer({ path, handlers: handlers() });
    try {
      await assert.rejects(startAdminServer({ path, handlers: handlers() }), (err) => {
        assert.ok(isAncestrydError(err, 'ANC_ALREADY_RUNNING'));
        assert.match(err.message, /^another ancestryd answers on .*admin\.sock: stop it first/);
        assert.equal(exitCodeFor(err), EXIT.ALREADY_RUNNING);
        return true;
      });
      assert.equal((await adminRequest(path, 'ping', {})).pid, process.pid, 'the first one still answers');
    } finally {
      await first.close();
    }
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const path = fresh();
    mkdirSync(join(path, '..'), { mode: 0o700 });
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    assert.ok(lstatSync(path).isSocket(), 'the killed process left its socket behind');
    await assert.rejects(adminRequest(path, 'ping', {}), (err) => {
      assert.match((err as Error).message, /is the daemon running\? \(ECONNREFUSED\)/);
      assert.equal(exitCodeFor(err), EXIT.UNREACHABLE);
      return true;
    });
    const server = await startAdminServer({ path, handlers: handlers() });
    try {
      assert.equal((await adminRequest(path, 'ping', {})).pid, process.pid);
    } finally {
      await server.close();
    }
  });

  it('refuses a path that is not a socket and a directory others may write', async () => {
    const path = fresh();
    mkdirSync(join(path, '..'), { mode: 0o700 });
    writeFileSync(path, 'not a socket');
    await assert.rejects(startAdminServer({ path, handlers: handlers() }),
      (err) => isAncestrydError(err, 'ANC_CONFIG_INVALID') && /exists and is not a socket: remove it or choose another path/.test(err.message));
    const open = join(base, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await assert.rejects(startAdminServer({ path: join(open, 'admin.sock'), handlers: handlers() }),
      (err) => isAncestrydError(err, 'ANC_CONFIG_INVALID') && /mode 0777\) may be written by another user/.test(err.message));
  });

  it('says whether the daemon is down or the caller lacks permission', async () => {
    const missing = join(base, 'nothing-here.sock');
    await assert.rejects(adminRequest(missing, 'ping', {}), (err) => {
      assert.equal((err as Error).message, `cannot reach ancestryd at ${missing}: is the daemon running? (ENOENT)`);
      assert.equal(exitCodeFor(err), EXIT.UNREACHABLE);
      return true;
    });
    const denied = describeConnectError('/run/ancestryd/admin.sock', 'EACCES');
    assert.equal(denied.message, 'permission denied on /run/ancestryd/admin.sock (EACCES): the admin socket is root only: run this as root (sudo)');
    assert.equal(exitCodeFor(denied), EXIT.NOT_PERMITTED);
    assert.equal(describeConnectError('/run/ancestryd/admin.sock', 'ENOENT').message,
      'cannot reach ancestryd at /run/ancestryd/admin.sock: is the daemon running? (ENOENT)');
  });

  it('allows the typed handlers to be registered once only', () => {
    const h = new AdminHandlers().register('tree', () => ({ pid: 1, entity_id: 'e', comm: 'init', path: '/sbin/init', children: [] }));
    assert.throws(() => h.register('tree', () => ({ pid: 1, entity_id: 'e', comm: 'init', path: '', children: [] })), /registered twice/);
  });
});
