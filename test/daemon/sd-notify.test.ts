/**
 * sd_notify over a real AF_UNIX datagram socket (a Python listener: Node
 * cannot bind one), both a path and the abstract namespace, as systemd
 * names them in $NOTIFY_SOCKET.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { notifyAddress, sdNotify } from '../../src/daemon/sd-notify';

const LISTENER = [
  'import socket, sys',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  'name = sys.argv[1]',
  "s.bind('\\0' + name[1:] if name.startswith('@') else name)",
  "print('bound', flush=True)",
  "print(repr(s.recv(4096).decode()), flush=True)",
].join('\n');

async function received(name: string, send: () => boolean): Promise<string> {
  const py = spawn('python3', ['-c', LISTENER, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, 'bound');
  assert.equal(send(), true);
  const got = String((await lines.next()).value);
  py.kill();
  return got;
}

describe('sdNotify', () => {
  it('sends the state to a socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anc-notify-'));
    try {
      const path = join(dir, 'notify');
      assert.equal(await received(path, () => sdNotify('READY=1\nSTATUS=collecting', path)), "'READY=1\\nSTATUS=collecting'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends to the abstract namespace ("@name")', async () => {
    const name = `@ancestryd-test-${process.pid}`;
    assert.equal(await received(name, () => sdNotify('STOPPING=1', name)), "'STOPPING=1'");
  });

  it('does nothing without NOTIFY_SOCKET, and refuses what cannot be an AF_UNIX address', () => {
    assert.equal(sdNotify('READY=1', undefined), false);
    assert.equal(sdNotify('READY=1', ''), false);
    assert.equal(notifyAddress('relative/path'), null);
    assert.equal(notifyAddress('/' + 'x'.repeat(107)), null);
    assert.notEqual(notifyAddress('/' + 'x'.repeat(106)), null);
    assert.throws(() => sdNotify('READY=1', 'relative'), /not an AF_UNIX socket path/);
    assert.throws(() => sdNotify('READY=1', join(tmpdir(), `no-such-socket-${process.pid}`)), /sendto\(.*\) failed \(errno 2\)/);
  });
});
