import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { argvList, commandLine, text } from '../../src/collector/byte-text';
import { decodeRecord, keepRecord, READABLE_VERSIONS, type ExecRecord } from '../../src/collector/decode';
import { KernelChain } from '../../src/collector/kernel-chain';
import { EtExec, ExecFlags, Kind, Limits } from '../../src/collector/layout';
import { encodeExec, encodeExit, encodeFork, encodeTask } from '../support/encode';
import { argvOf } from '../support/argv';

/** Place a record at an odd offset inside a larger buffer, as in the ring's data area. */
function inRing(rec: Buffer, pad = 24): { buf: Buffer; off: number } {
  const buf = Buffer.alloc(pad + rec.length + 64, 0xee);
  rec.copy(buf, pad);
  return { buf, off: pad };
}

describe('decodeRecord', () => {
  it('decodes an exec with chain, filename and argv', () => {
    const rec = encodeExec({
      ktimeNs: 123456789n,
      fields: {
        tgid: 4242, tid: 4243, ppid: 4000, uid: 1000, gid: 1001, euid: 0, egid: 0, loginuid: 1000, sessionid: 7,
        ret: 0, flags: ExecFlags.ET_EXEC_FROM_THREAD, pid_ns: 4026531836, mnt_ns: 4026531832,
        start_ns: 2n ** 60n + 5n, parent_start_ns: 99n, cgroup_id: 77n, comm: 'true', pgid: 4242, sid: 4100,
        tty: (136 << 20) | 3,
      },
      chain: [{ tgid: 4000, startNs: 99n }, { tgid: 1, startNs: 1n }],
      filename: '/bin/true',
      argv: ['/bin/true', 'a', 'b c'],
    });
    const { buf, off } = inRing(rec);
    const r = decodeRecord(buf, off, rec.length) as ExecRecord;
    assert.equal(r.kind, 'exec');
    assert.equal(r.ktimeNs, 123456789);
    assert.deepEqual(
      [r.tgid, r.tid, r.ppid, r.uid, r.gid, r.euid, r.egid, r.loginuid, r.sessionid, r.ret, r.pidNs, r.mntNs],
      [4242, 4243, 4000, 1000, 1001, 0, 0, 1000, 7, 0, 4026531836, 4026531832]);
    assert.equal(r.startNs, 2n ** 60n + 5n, 'start times beyond 2^53 ns stay exact');
    assert.equal(r.parentStartNs, 99n);
    assert.equal(r.cgroupId, 77n);
    assert.equal(r.comm, 'true');
    assert.equal(r.filename, '/bin/true');
    assert.equal(r.argvText, '/bin/true\0a\0b c\0', 'argv as the kernel laid it out, decoded once');
    assert.deepEqual(argvList(r.argvText), ['/bin/true', 'a', 'b c']);
    assert.equal(commandLine(r.argvText), '/bin/true a b c');
    assert.deepEqual(r.chain.refs(), [{ tgid: 4000, startNs: 99n }, { tgid: 1, startNs: 1n }]);
    assert.equal(r.flags & ExecFlags.ET_EXEC_FROM_THREAD, ExecFlags.ET_EXEC_FROM_THREAD);
    assert.deepEqual([r.pgid, r.sid, r.tty], [4242, 4100, (136 << 20) | 3], 'group, session and terminal (pts/3)');
  });

  it('keeps chain start times exact over the whole u64 range, and finds an ancestor by identity', () => {
    // 2^53 ns is ~104 days of uptime: past it a start time has no exact Number.
    const far = [2n ** 53n + 1n, 2n ** 64n - 1n, 0xffffffffn, 2n ** 32n];
    const refs = far.map((startNs, i) => ({ tgid: 10 + i, startNs }));
    const rec = encodeExec({ fields: { tgid: 77, tid: 77, ppid: 10 }, chain: refs, filename: '/x', argv: ['x'] });
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.deepEqual(r.chain.refs(), refs);
    assert.equal(r.chain.startNs(1), 2n ** 64n - 1n);
    assert.equal(r.chain.indexOf(12, 0xffffffffn), 2);
    assert.equal(r.chain.indexOf(12, 0xfffffffen), -1, 'same pid, another start: another process');
    assert.equal(r.chain.indexOf(99, 2n ** 32n), -1);
    assert.deepEqual(KernelChain.of(refs).refs(), refs);
    // Read in place: the ring's memory is reused after the pass, a kept copy is not.
    const { buf, off } = inRing(rec);
    const inPlace = decodeRecord(buf, off, rec.length) as ExecRecord;
    const kept = keepRecord(inPlace) as ExecRecord;
    buf.fill(0);
    assert.equal(inPlace.chain.tgid(0), 0);
    assert.deepEqual(kept.chain.refs(), refs);
    // Printed or logged, a record shows its ancestors, not the ring's memory; past its end a chain refuses to read.
    assert.deepEqual(JSON.parse(JSON.stringify(kept.chain, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))),
      refs.map((a) => ({ tgid: a.tgid, startNs: String(a.startNs) })));
    assert.match(inspect(kept), /chain: \[\n? *\{ tgid: 10, startNs: 9007199254740993n \}/);
    assert.throws(() => kept.chain.tgid(4), RangeError);
    assert.throws(() => kept.chain.startNs(-1), RangeError);
    const none = encodeExec({ fields: { tgid: 77 }, filename: '/x', argv: ['x'] });
    assert.equal((decodeRecord(none, 0, none.length) as ExecRecord).chain.length, 0);
  });

  it('reads a version-2 exec, the same layout with no terminal', () => {
    assert.deepEqual(READABLE_VERSIONS, [Limits.ET_FORMAT_VERSION, 2]);
    const rec = encodeExec({ version: 2, fields: { tgid: 7, sid: 7 }, filename: '/bin/true', argv: ['/bin/true'] });
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.equal(r.kind, 'exec');
    assert.deepEqual([r.tgid, r.sid, r.tty], [7, 7, 0]);
  });

  it('reads et_peer after argv when ET_EXEC_PEER says so: IPv4, IPv6, a v4 client of a v6 socket', () => {
    const v6 = Buffer.from('20010db8000000000000000000000001', 'hex');
    const mapped = Buffer.from('00000000000000000000ffffc0000207', 'hex');
    for (const [addr, family, ip] of [
      [Buffer.from([10, 0, 0, 7, ...new Array(12).fill(0)]), 2, '10.0.0.7'], [v6, 10, '2001:db8::1'], [mapped, 10, '192.0.2.7'],
    ] as const) {
      const rec = encodeExec({
        fields: { tgid: 9, sid: 9, flags: ExecFlags.ET_EXEC_PEER }, filename: '/bin/bash', argv: ['-bash'], peer: { addr, port: 52022, family, netNs: 4026531840 },
      });
      const { buf, off } = inRing(rec, 29);
      const r = decodeRecord(buf, off, rec.length) as ExecRecord;
      assert.deepEqual(r.peer, { ip, port: 52022, netNs: 4026531840 });
      assert.deepEqual(argvList(r.argvText), ['-bash'], 'argv ends where the peer starts');
    }
    // Without the flag, the same bytes are slack, as a decoder before the flag read them.
    const plain = encodeExec({ fields: { tgid: 9 }, filename: '/bin/bash', argv: ['-bash'], peer: { addr: v6, port: 1, family: 10, netNs: 1 } });
    assert.equal((decodeRecord(plain, 0, plain.length) as ExecRecord).peer, null);
  });

  it('rejects a peer the record has no room for, or of a family the kernel side never writes', () => {
    const short = encodeExec({ fields: { flags: ExecFlags.ET_EXEC_PEER }, filename: '/bin/bash', argv: ['-bash'] });
    assert.equal((decodeRecord(short, 0, short.length) as { reason: string }).reason, 'tail_overflow');
    const bad = encodeExec({ fields: { flags: ExecFlags.ET_EXEC_PEER }, argv: ['-bash'], peer: { addr: Buffer.alloc(16), port: 1, family: 1, netNs: 1 } });
    assert.equal((decodeRecord(bad, 0, bad.length) as { reason: string }).reason, 'bad_peer');
  });

  it('decodes a failed exec with its negative errno', () => {
    const rec = encodeExec({ kind: Kind.ET_KIND_EXEC_FAILED, fields: { tgid: 10, ret: -2 }, filename: '/nonexistent', argv: ['x'] });
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.equal(r.kind, 'exec_failed');
    assert.equal(r.ret, -2);
    assert.equal(r.filename, '/nonexistent');
  });

  it('keeps argv that the kernel truncated without a final NUL', () => {
    const rec = encodeExec({ fields: { flags: ExecFlags.ET_EXEC_ARGV_TRUNCATED }, argv: Buffer.from('sh\0-c\0echo hel') });
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.deepEqual(argvList(r.argvText), ['sh', '-c', 'echo hel']);
    assert.equal(r.argvText, 'sh\0-c\0echo hel\0', 'the cut argument is ended as the others are');
    assert.ok(r.flags & ExecFlags.ET_EXEC_ARGV_TRUNCATED);
  });

  it('keeps empty arguments, and tells an empty argv from one empty argument', () => {
    const decoded = (argv: Buffer | string[]) => {
      const rec = encodeExec({ argv });
      return (decodeRecord(rec, 0, rec.length) as ExecRecord).argvText;
    };
    assert.deepEqual(argvList(decoded(['a', '', 'b'])), ['a', '', 'b']);
    assert.deepEqual(argvList(decoded(['a', ''])), ['a', '']);
    assert.equal(decoded(Buffer.alloc(0)), '');
    assert.deepEqual(argvList(''), [], 'execve with an empty argv');
    assert.equal(commandLine(''), '');
    assert.equal(decoded(Buffer.from([0])), '\0');
    assert.deepEqual(argvList('\0'), [''], 'one empty argument');
    assert.equal(commandLine('\0'), '');
  });

  it('escapes argv as a whole exactly as it would escape each argument alone', () => {
    // An escape looks at the next byte; the NUL between arguments must not change what it sees.
    const args = [Buffer.from('a\\'), Buffer.from('x41'), Buffer.from([0x5c, 0xff]), Buffer.from([0xc3]), Buffer.from([0xa9, 0x5c])];
    const rec = encodeExec({ argv: Buffer.concat(args.flatMap((a) => [a, Buffer.from([0])])) });
    const got = argvList((decodeRecord(rec, 0, rec.length) as ExecRecord).argvText);
    assert.deepEqual(got, args.map((a) => text(a, 0, a.length)));
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.deepEqual(argvOf(got), { argvText: r.argvText, cmdline: r.cmdline });
  });

  it('renders bytes that are not UTF-8 as \\xNN and keeps valid UTF-8', () => {
    const name = Buffer.concat([Buffer.from('/tmp/caf\u00e9-'), Buffer.from([0xff, 0xc3]), Buffer.from('"\n')]);
    const rec = encodeExec({ filename: name, argv: Buffer.from([0x41, 0x80, 0x00]) });
    const r = decodeRecord(rec, 0, rec.length) as ExecRecord;
    assert.equal(r.filename, '/tmp/caf\u00e9-\\xff\\xc3"\n');
    assert.deepEqual(argvList(r.argvText), ['A\\x80']);
    assert.equal(JSON.parse(JSON.stringify(r.filename)), r.filename);
  });

  it('decodes fork, exit and task records', () => {
    const fork = encodeFork({
      parent_tgid: 1, child_tgid: 2, parent_start_ns: 3n, child_start_ns: 4n,
      clone_flags: 0x4100, creator_tgid: 5, uid: 6, comm: 'bash',
    });
    assert.deepEqual(decodeRecord(fork, 0, fork.length), {
      kind: 'fork', ktimeNs: 1000, parentTgid: 1, childTgid: 2, parentStartNs: 3n, childStartNs: 4n,
      cloneFlags: 0x4100, creatorTgid: 5, uid: 6, comm: 'bash',
    });
    const exit = encodeExit({ tgid: 9, ppid: 1, start_ns: 10n, parent_start_ns: 11n, exit_code: (3 << 8) | 0x80 | 6, comm: 'a' });
    assert.deepEqual(decodeRecord(exit, 0, exit.length), {
      kind: 'exit', ktimeNs: 1000, tgid: 9, ppid: 1, startNs: 10n, parentStartNs: 11n,
      status: (3 << 8) | 0x80 | 6, exitCode: 3, signal: 6, coreDumped: true, comm: 'a',
    });
    const task = encodeTask({ tgid: 1, ppid: 0, start_ns: 5n, flags: 1, comm: 'kthreadd', loginuid: 0xffffffff });
    const t = decodeRecord(task, 0, task.length);
    assert.equal(t.kind, 'task');
    if (t.kind === 'task') {
      assert.equal(t.kthread, true);
      assert.equal(t.loginuid, 4294967295);
      assert.equal(t.comm, 'kthreadd');
    }
  });

  it('reads a comm that fills all 16 bytes without a NUL', () => {
    const fork = encodeFork({ comm: 'abcdefghijklmnop' });
    const { buf, off } = inRing(fork);
    const r = decodeRecord(buf, off, fork.length);
    assert.equal(r.kind === 'fork' && r.comm, 'abcdefghijklmnop');
  });

  describe('rejects malformed records with a reason instead of throwing', () => {
    it('shorter than a header', () => {
      assert.deepEqual(decodeRecord(Buffer.alloc(8), 0, 8), { kind: 'invalid', reason: 'short_record', rawKind: 0 });
    });
    it('unknown kind', () => {
      const rec = encodeFork({});
      rec.writeUInt16LE(99, 0);
      assert.deepEqual(decodeRecord(rec, 0, rec.length), { kind: 'invalid', reason: 'unknown_kind', rawKind: 99 });
    });
    it('another format version', () => {
      const rec = encodeExec({ version: Limits.ET_FORMAT_VERSION + 1 });
      assert.equal((decodeRecord(rec, 0, rec.length) as { reason: string }).reason, 'bad_version');
    });
    it('header size larger than the ring record', () => {
      const rec = encodeExec({ filename: '/bin/true' });
      assert.equal((decodeRecord(rec, 0, rec.length - 1) as { reason: string }).reason, 'size_mismatch');
    });
    it('fixed part cut short', () => {
      const rec = encodeExec({ size: EtExec.size - 8 });
      assert.equal((decodeRecord(rec, 0, rec.length) as { reason: string }).reason, 'short_record');
      const fork = encodeFork({});
      fork.writeUInt32LE(20, 4);
      assert.equal((decodeRecord(fork, 0, fork.length) as { reason: string }).reason, 'short_record');
    });
    it('tail lengths that overrun the record', () => {
      const rec = encodeExec({ filename: '/bin/true', argv: ['true'] });
      rec.writeUInt16LE(200, EtExec.fields.argv_len[0]);
      assert.equal((decodeRecord(rec, 0, rec.length) as { reason: string }).reason, 'tail_overflow');
      const chain = encodeExec({});
      chain.writeUInt16LE(Limits.ET_CHAIN_MAX + 1, EtExec.fields.chain_len[0]);
      assert.equal((decodeRecord(chain, 0, chain.length) as { reason: string }).reason, 'tail_overflow');
    });
  });
});

describe('text', () => {
  it('rejects overlong encodings and surrogates as invalid bytes', () => {
    assert.equal(text(Buffer.from([0xc0, 0xaf]), 0, 2), '\\xc0\\xaf');
    assert.equal(text(Buffer.from([0xed, 0xa0, 0x80]), 0, 3), '\\xed\\xa0\\x80');
    assert.equal(text(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xfe]), 0, 5), '\u{1f600}\\xfe');
  });
  it('byte 0xff and the text "\\xff" stay apart: a backslash that could start an escape is doubled (issue 10 item 10)', () => {
    const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)));
    const t = (buf: Buffer) => text(buf, 0, buf.length);
    assert.equal(t(b([0xff])), '\\xff');
    assert.equal(t(b('\\xff')), '\\\\xff');
    assert.notEqual(t(b([0xff])), t(b('\\xff')));
    // Other backslashes stay single: grep '\d', C:\Windows.
    assert.equal(t(b('\\d+')), '\\d+');
    assert.equal(t(b('C:\\Windows')), 'C:\\Windows');
    assert.equal(t(b('a\\\\b')), 'a\\\\\\b'); // two backslashes: the first is doubled, the second is not
    assert.equal(t(b('a\\', [0xfe])), 'a\\\\\\xfe'); // before an escaped byte
    assert.equal(t(b('end\\')), 'end\\');
    // Read back left to right, every case gives the bytes it came from.
    const readBack = (s: string): Buffer => {
      const out: number[] = [];
      for (let i = 0; i < s.length;) {
        if (s[i] === '\\' && s[i + 1] === '\\') { out.push(0x5c); i += 2; continue; }
        if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(s.slice(i + 2, i + 4))) { out.push(parseInt(s.slice(i + 2, i + 4), 16)); i += 4; continue; }
        const cp = s.codePointAt(i)!;
        out.push(...Buffer.from(String.fromCodePoint(cp)));
        i += cp > 0xffff ? 2 : 1;
      }
      return Buffer.from(out);
    };
    for (let seed = 1; seed <= 2000; seed++) {
      let x = seed;
      const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) % 256;
      const alphabet = [0x5c, 0x78, 0x66, 0x41, 0xff, 0xc3, 0xa9, 0x80, 0x30];
      const bytes = Buffer.from(Array.from({ length: 1 + (seed % 12) }, () => alphabet[rnd() % alphabet.length]));
      assert.deepEqual(readBack(t(bytes)), bytes, `bytes ${bytes.toString('hex')}`);
    }
  });

  it('keeps NUL, quotes and control characters as characters JSON can carry', () => {
    const s = text(Buffer.from('a\u0000"\\\u0007'), 0, 6);
    assert.equal(JSON.parse(JSON.stringify(s)), s);
  });
});
