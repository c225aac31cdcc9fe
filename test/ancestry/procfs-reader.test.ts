import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { devFromTtyNr, LinuxProcfsReader } from '../../src/ancestry/procfs-reader';
import { argvList } from '../../src/collector/byte-text';

const root = mkdtempSync(join(tmpdir(), 'ancestryd-proc-'));
after(() => rmSync(root, { recursive: true, force: true }));

function fakeProc(pid: number, files: { stat: Buffer | string; status?: string; cmdline?: Buffer; exe?: Buffer; cwd?: string }): void {
  const dir = join(root, String(pid));
  mkdirSync(join(dir, 'ns'), { recursive: true });
  writeFileSync(join(dir, 'stat'), files.stat);
  if (files.status !== undefined) writeFileSync(join(dir, 'status'), files.status);
  if (files.cmdline !== undefined) writeFileSync(join(dir, 'cmdline'), files.cmdline);
  if (files.exe !== undefined) symlinkSync(files.exe, join(dir, 'exe'));
  if (files.cwd !== undefined) symlinkSync(files.cwd, join(dir, 'cwd'));
  symlinkSync('pid:[4026531836]', join(dir, 'ns', 'pid'));
  symlinkSync('mnt:[4026531841]', join(dir, 'ns', 'mnt'));
  writeFileSync(join(dir, 'loginuid'), '1000');
}

/** stat with fields 3.. filled: ppid 4, session 6, tty_nr 7, flags 9, starttime 22. */
function stat(pid: number, comm: Buffer, ppid: number, startTicks: number, flags = 0x400000, sid = pid, ttyNr = 0): Buffer {
  const rest = ['S', ppid, pid, sid, ttyNr, -1, flags, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, startTicks, 1000, 100];
  return Buffer.concat([Buffer.from(`${pid} (`), comm, Buffer.from(`) ${rest.join(' ')}\n`)]);
}

const STATUS = 'Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t1\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\n';

describe('LinuxProcfsReader', () => {
  it('parses stat from the last ")", so a comm with spaces and parentheses cannot shift fields', () => {
    fakeProc(4242, {
      stat: stat(4242, Buffer.from('a) (b c'), 7, 123456), status: STATUS,
      cmdline: Buffer.from('python3\0-c\0print("hi")\0'), exe: Buffer.from([0x2f, 0x6f, 0x70, 0x74, 0x2f, 0xff]), cwd: '/srv',
    });
    const r = new LinuxProcfsReader(root).read(4242);
    assert.ok(r.ok);
    assert.equal(r.comm, 'a) (b c');
    assert.equal(r.ppid, 7);
    assert.equal(r.startTicks, 123456);
    assert.equal(r.uid, 1000);
    assert.equal(r.euid, 1001);
    assert.equal(r.gid, 100);
    assert.equal(r.egid, 101);
    assert.deepEqual(argvList(r.argvText), ['python3', '-c', 'print("hi")']);
    assert.equal(r.path, '/opt/\\xff');
    assert.equal(r.cwd, '/srv');
    assert.equal(r.loginuid, 1000);
    assert.equal(r.pidNs, 4026531836);
    assert.equal(r.partial, false);
    assert.deepEqual([r.sid, r.tty], [4242, 0], 'leads its session, no terminal');
  });

  it('reads the session and the terminal, tty_nr decoded to the kernel\'s dev_t as exec records carry it', () => {
    // tty_nr packs minor's low byte, 12 bits of major, then minor's high bits: pts/300 and ttyS0.
    const pts300 = (300 & 0xff) | (136 << 8) | ((300 & ~0xff) << 12);
    fakeProc(5243, { stat: stat(5243, Buffer.from('bash'), 7, 5, 0x400000, 4200, pts300), status: STATUS });
    fakeProc(5244, { stat: stat(5244, Buffer.from('getty'), 1, 5, 0x400000, 5244, (4 << 8) | 64), status: STATUS });
    const a = new LinuxProcfsReader(root).read(5243);
    const b = new LinuxProcfsReader(root).read(5244);
    assert.ok(a.ok && b.ok);
    assert.deepEqual([a.sid, a.tty], [4200, (136 << 20) | 300]);
    assert.deepEqual([b.sid, b.tty], [5244, (4 << 20) | 64]);
    assert.equal(devFromTtyNr(0), 0);
    // The widest: major 4095, minor 2^20 - 1.
    assert.equal(devFromTtyNr(0xff | (0xfff << 8) | (0xfff00 << 12)), (0xfff << 20 | 0xfffff) >>> 0);
  });

  it('interactive: stdin and stderr named as the controlling terminal; unknown for a terminal without a known name or a link it cannot read', () => {
    const pts3 = (3 & 0xff) | (136 << 8);
    const cases: [number, number, Record<string, string | null>, boolean | null][] = [
      [5301, pts3, { 0: '/dev/pts/3', 2: '/dev/pts/3' }, true],
      [5302, pts3, { 0: '/dev/pts/3', 2: '/dev/null' }, false],
      [5303, pts3, { 0: 'pipe:[4242]', 2: '/dev/pts/3' }, false],
      [5304, pts3, { 2: '/dev/pts/3' }, false], // stdin closed
      [5305, pts3, { 0: '/dev/pts/30', 2: '/dev/pts/30' }, false], // another pty
      [5306, (4 << 8) | 1, { 0: '/dev/tty1', 2: '/dev/tty1' }, true], // a virtual console
      [5307, 0, { 0: '/dev/pts/3', 2: '/dev/pts/3' }, false], // no controlling terminal
      [5308, (188 << 8) | 0, { 0: '/dev/ttyUSB0', 2: '/dev/ttyUSB0' }, null], // a terminal we cannot name
      [5309, pts3, { 0: null, 2: '/dev/pts/3' }, null], // not a link: unreadable
    ];
    for (const [pid, ttyNr, fds, want] of cases) {
      fakeProc(pid, { stat: stat(pid, Buffer.from('sh'), 7, 5, 0x400000, pid, ttyNr), status: STATUS });
      mkdirSync(join(root, String(pid), 'fd'));
      for (const [fd, target] of Object.entries(fds)) {
        if (target === null) writeFileSync(join(root, String(pid), 'fd', fd), '');
        else symlinkSync(target, join(root, String(pid), 'fd', fd));
      }
      const r = new LinuxProcfsReader(root).read(pid);
      assert.ok(r.ok);
      assert.equal(r.interactive, want, `${pid}: ${JSON.stringify(fds)}`);
    }
    // A zombie has no descriptors left: unknown, not "not interactive".
    fakeProc(5310, { stat: Buffer.from(stat(5310, Buffer.from('sh'), 7, 5, 0x400000, 5310, pts3).toString().replace(') S ', ') Z ')), status: STATUS });
    const z = new LinuxProcfsReader(root).read(5310);
    assert.ok(z.ok && z.state === 'Z');
    assert.equal(z.interactive, null);
  });

  it('partial: a live process\'s refused exe, cwd, namespace or stdio link; one that is not there (ENOENT: a zombie, an exiting process) is not', () => {
    const pts3 = (3 & 0xff) | (136 << 8);
    const full = { status: STATUS, cmdline: Buffer.from('sh\0'), exe: Buffer.from('/bin/sh'), cwd: '/' };
    // Not a link: readlink fails with EINVAL, standing for what the kernel refuses (EACCES).
    const refuse = (pid: number, file: string) => {
      rmSync(join(root, String(pid), file), { force: true });
      writeFileSync(join(root, String(pid), file), '');
    };
    const fds = (pid: number, links: Record<string, string | null>) => {
      mkdirSync(join(root, String(pid), 'fd'));
      for (const [fd, target] of Object.entries(links)) {
        if (target === null) writeFileSync(join(root, String(pid), 'fd', fd), '');
        else symlinkSync(target, join(root, String(pid), 'fd', fd));
      }
    };
    fakeProc(5601, { stat: stat(5601, Buffer.from('sh'), 7, 5, 0x400000, 5601, pts3), ...full });
    fds(5601, { 0: '/dev/pts/3', 2: '/dev/pts/3' });
    fakeProc(5602, { stat: stat(5602, Buffer.from('sh'), 7, 5, 0x400000, 5602, pts3), ...full });
    fds(5602, { 0: null, 2: '/dev/pts/3' });
    fakeProc(5603, { stat: stat(5603, Buffer.from('sh'), 7, 5), ...full });
    refuse(5603, 'cwd');
    fakeProc(5604, { stat: stat(5604, Buffer.from('sh'), 7, 5), ...full });
    refuse(5604, 'ns/mnt');
    fakeProc(5605, { stat: stat(5605, Buffer.from('sh'), 7, 5, 0x400000, 5605, (188 << 8) | 0), ...full }); // a terminal we cannot name
    const zombie = Buffer.from(stat(5606, Buffer.from('sh'), 7, 5).toString().replace(') S ', ') Z '));
    fakeProc(5606, { stat: zombie, status: STATUS, cmdline: Buffer.alloc(0) }); // no exe, no cwd
    rmSync(join(root, '5606', 'ns', 'mnt'));
    // Exiting, still shown running: its exe, cwd and namespaces already gone.
    fakeProc(5607, { stat: stat(5607, Buffer.from('sh'), 7, 5), status: STATUS, cmdline: Buffer.alloc(0) });
    rmSync(join(root, '5607', 'ns', 'pid'));
    fakeProc(5608, { stat: stat(5608, Buffer.from('sh'), 7, 5), ...full });
    rmSync(join(root, '5608', 'cmdline'));
    mkdirSync(join(root, '5608', 'cmdline')); // a directory: EISDIR on read
    const reader = new LinuxProcfsReader(root);
    const partial = (pid: number) => {
      const r = reader.read(pid);
      assert.ok(r.ok, String(pid));
      return r.partial;
    };
    assert.deepEqual([5601, 5602, 5603, 5604, 5605, 5606, 5607, 5608].map(partial), [false, true, true, true, false, false, false, true]);
  });

  it('tcpPeer: the first established TCP connection among descriptors 0–31, from the namespace\'s tcp and tcp6 tables; partial when some of it went unread', () => {
    const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (rem: string, st: string, inode: number) =>
      `   0: 0100007F:0016 ${rem} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
    const proc = (pid: number, fds: Record<number, string>, tcp: string, tcp6: string | null) => {
      const dir = join(root, String(pid));
      mkdirSync(join(dir, 'fd'), { recursive: true });
      mkdirSync(join(dir, 'net'));
      mkdirSync(join(dir, 'ns'));
      symlinkSync('net:[4026531840]', join(dir, 'ns', 'net'));
      for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(dir, 'fd', fd));
      writeFileSync(join(dir, 'net', 'tcp'), head + tcp);
      if (tcp6 !== null) writeFileSync(join(dir, 'net', 'tcp6'), head + tcp6);
    };
    const reader = new LinuxProcfsReader(root);
    // sshd's descriptors: /dev/null, a listening socket (0A), then the client's connection (01), 198.51.100.23:52022.
    proc(5401, { 0: '/dev/null', 3: 'socket:[900]', 4: 'socket:[901]' }, row('00000000:0000', '0A', 900) + row('176433C6:CB36', '01', 901), '');
    assert.deepEqual(reader.tcpPeer(5401), { peer: { ip: '198.51.100.23', port: 52022, netNs: 4026531840 }, partial: false }, 'with the namespace the socket is in');
    // An IPv6 client in tcp6: its four words each printed as the host reads them.
    proc(5402, { 5: 'socket:[902]' }, '', row('B80D0120000000000000000001000000:CB36', '01', 902));
    assert.equal(reader.tcpPeer(5402).peer?.ip, '2001:db8::1');
    // A v4 client of a v6 socket: the IPv4 it is.
    proc(5406, { 3: 'socket:[907]' }, '', row('0000000000000000FFFF00007B00A8C0:CB36', '01', 907));
    assert.equal(reader.tcpPeer(5406).peer?.ip, '192.168.0.123');
    // Past the first 4 MiB of the namespace's table, a connection is not found (partial); within it, on the first socket, it is (whole).
    const filler = row('0100000A:CB36', '06', 1).repeat(Math.ceil((4 * 1024 * 1024) / row('0100000A:CB36', '06', 1).length));
    proc(5407, { 3: 'socket:[908]' }, filler + row('0300000A:CB36', '01', 908), '');
    assert.deepEqual(reader.tcpPeer(5407), { peer: null, partial: true });
    proc(5408, { 3: 'socket:[909]' }, row('0300000A:CB36', '01', 909) + filler, '');
    assert.deepEqual(reader.tcpPeer(5408), { peer: { ip: '10.0.0.3', port: 52022, netNs: 4026531840 }, partial: false });
    // A table of exactly 4 MiB is whole: its last row counts, and nothing is partial.
    const last = row('0500000A:CB36', '01', 910);
    const pad = ' '.repeat(4 * 1024 * 1024 - head.length - last.length - 1) + '\n';
    proc(5409, { 3: 'socket:[910]' }, pad + last, '');
    assert.deepEqual(reader.tcpPeer(5409), { peer: { ip: '10.0.0.5', port: 52022, netNs: 4026531840 }, partial: false });
    // A kernel without IPv6 has no tcp6: not partial. What it cannot read is partial only where a better answer could be:
    // a descriptor below the answer's (not above), a table while the answer is not the first socket, the namespace.
    const ipAndPartial = (pid: number) => {
      const r = reader.tcpPeer(pid);
      return [r.peer?.ip ?? null, r.partial];
    };
    proc(5410, { 3: 'socket:[911]' }, row('0600000A:CB36', '01', 911), null);
    assert.deepEqual(ipAndPartial(5410), ['10.0.0.6', false]);
    proc(5411, { 4: 'socket:[912]' }, row('0700000A:CB36', '01', 912), '');
    writeFileSync(join(root, '5411', 'fd', '3'), '');
    assert.deepEqual(ipAndPartial(5411), ['10.0.0.7', true]);
    proc(5413, { 3: 'socket:[914]' }, row('0900000A:CB36', '01', 914), '');
    writeFileSync(join(root, '5413', 'fd', '5'), '');
    assert.deepEqual(ipAndPartial(5413), ['10.0.0.9', false]);
    proc(5412, { 3: 'socket:[913]', 4: 'socket:[915]' }, row('0800000A:CB36', '01', 915), null);
    mkdirSync(join(root, '5412', 'net', 'tcp6')); // a directory: EISDIR on read
    assert.deepEqual(ipAndPartial(5412), ['10.0.0.8', true]);
    proc(5414, { 3: 'socket:[916]' }, row('0A00000A:CB36', '01', 916), null);
    mkdirSync(join(root, '5414', 'net', 'tcp6'));
    assert.deepEqual(ipAndPartial(5414), ['10.0.0.10', false]);
    proc(5415, { 3: 'socket:[917]' }, row('0B00000A:CB36', '01', 917), '');
    rmSync(join(root, '5415', 'ns', 'net'));
    writeFileSync(join(root, '5415', 'ns', 'net'), '');
    assert.deepEqual(reader.tcpPeer(5415), { peer: { ip: '10.0.0.11', port: 52022, netNs: 0 }, partial: true });
    // Two established: the lower descriptor's, as the kernel side picks it.
    proc(5403, { 7: 'socket:[904]', 6: 'socket:[903]' }, row('0100000A:CB36', '01', 904) + row('0200000A:CB36', '01', 903), '');
    assert.deepEqual(reader.tcpPeer(5403), { peer: { ip: '10.0.0.2', port: 52022, netNs: 4026531840 }, partial: false });
    // Past descriptor 31, not looked at; no socket; a process gone: none.
    proc(5404, { 32: 'socket:[905]' }, row('0100000A:CB36', '01', 905), '');
    assert.deepEqual(reader.tcpPeer(5404), { peer: null, partial: false });
    proc(5405, { 0: '/dev/null' }, row('0100000A:CB36', '01', 906), '');
    assert.deepEqual(reader.tcpPeer(5405), { peer: null, partial: false });
    assert.deepEqual(reader.tcpPeer(5499), { peer: null, partial: false });
  });

  it('hostNamespaces: kthreadd\'s (pid 2), the kernel\'s initial ones; 0 where unreadable', () => {
    const host = mkdtempSync(join(tmpdir(), 'ancestryd-proc-host-'));
    try {
      assert.deepEqual(new LinuxProcfsReader(host).hostNamespaces(), { mntNs: 0, netNs: 0 });
      mkdirSync(join(host, '2', 'ns'), { recursive: true });
      symlinkSync('mnt:[4026531832]', join(host, '2', 'ns', 'mnt'));
      symlinkSync('net:[4026531833]', join(host, '2', 'ns', 'net'));
      assert.deepEqual(new LinuxProcfsReader(host).hostNamespaces(), { mntNs: 4026531832, netNs: 4026531833 });
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  it('a zombie or unreadable exe gives an empty path, not a failure', () => {
    fakeProc(4243, { stat: stat(4243, Buffer.from('z'), 1, 5), status: STATUS, cmdline: Buffer.alloc(0), cwd: '/' });
    // Not a link: readlink refuses it (EINVAL), as the kernel refuses another user's exe (EACCES).
    writeFileSync(join(root, '4243', 'exe'), '');
    const r = new LinuxProcfsReader(root).read(4243);
    assert.ok(r.ok);
    assert.equal(r.path, '');
    assert.equal(r.partial, true);
  });

  it('caps argv at argvMaxBytes like the kernel side', () => {
    fakeProc(4244, { stat: stat(4244, Buffer.from('big'), 1, 5), status: STATUS, cmdline: Buffer.from('a'.repeat(100) + '\0b\0'), exe: Buffer.from('/x'), cwd: '/' });
    const r = new LinuxProcfsReader(root, 50).read(4244);
    assert.ok(r.ok);
    assert.equal(r.argvText, 'a'.repeat(50) + '\0');
    assert.equal(r.argvTruncated, true);
  });

  it('reports gone and malformed instead of throwing', () => {
    const reader = new LinuxProcfsReader(root);
    assert.deepEqual(reader.read(999999), { ok: false, pid: 999999, reason: 'gone' });
    assert.equal(reader.readStartTicks(999999), 'gone');
    fakeProc(4245, { stat: 'garbage', status: STATUS });
    assert.deepEqual(reader.read(4245), { ok: false, pid: 4245, reason: 'malformed' });
    fakeProc(4246, { stat: stat(4246, Buffer.from('n'), 1, 5) });
    assert.deepEqual(reader.read(4246), { ok: false, pid: 4246, reason: 'gone' }, 'status vanished mid-read');
  });

  it('reads this process from the real /proc consistently with stat', () => {
    const r = new LinuxProcfsReader().read(process.pid);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.ppid, process.ppid);
    assert.equal(r.path, process.execPath);
    assert.deepEqual(argvList(r.argvText).slice(0, 1), [process.argv0]);
    assert.equal(r.cwd, process.cwd());
    const own = readFileSync('/proc/self/stat', 'latin1');
    assert.equal(r.startTicks, Number(own.slice(own.lastIndexOf(')') + 2).split(' ')[19]));
    assert.equal(r.kernelThread, false);
    const f = own.slice(own.lastIndexOf(')') + 2).split(' ');
    assert.equal(r.sid, Number(f[3]));
    assert.equal(r.tty, devFromTtyNr(Number(f[4])));
  });
});
