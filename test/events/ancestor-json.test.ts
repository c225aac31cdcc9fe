import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord, type ExecRecord } from '../../src/collector/decode';
import { exeName, type ExecLineage, type ProcessView } from '../../src/ancestry/process-view';
import { ancestorJson } from '../../src/events/ancestor-json';
import { ancestryJson } from '../support/ancestry-json';
import { encodeExec } from '../support/encode';
import { SyntheticKernel } from '../ancestry/synthetic-kernel';
import { argvList } from '../../src/collector/byte-text';

const FIELDS = [
  'exe_name', 'pid', 'ppid', 'path', 'cmdline', 'proc_time', 'proc_time_hr', 'entity_id', 'parent_entity_id',
  'uid', 'gid', 'euid', 'egid', 'start_boottime', 'comm', 'cwd', 'source', 'exited',
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes that break naive JSON: quotes, backslashes, controls, NUL, invalid and valid UTF-8. */
const NASTY = [0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0x27, 0x2f];

function randomBytes(r: () => number, max: number, nul: boolean): Buffer {
  const n = Math.floor(r() * max);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const pick = r();
    b[i] = pick < 0.5 ? NASTY[Math.floor(r() * NASTY.length)] : Math.floor(r() * 256);
    if (!nul && b[i] === 0) b[i] = 0x41;
  }
  return b;
}

function checkElement(json: string, v: ProcessView): void {
  const o = JSON.parse(json) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o), FIELDS);
  assert.equal(o.path, v.path);
  assert.equal(o.cmdline, v.cmdline);
  assert.equal(o.comm, v.comm);
  assert.equal(o.exe_name, exeName(v));
  assert.equal(o.entity_id, v.entityId);
  assert.equal(o.pid, v.pid);
  // 64-bit values are exact integers in the text (JSON.parse itself rounds them).
  assert.equal(/"proc_time_hr":(\d+)/.exec(json)?.[1], v.startEpochNs.toString());
  assert.equal(/"start_boottime":(\d+)/.exec(json)?.[1], v.startBoottimeNs.toString());
  assert.equal(o.proc_time, Number(v.startEpochNs / 1_000_000_000n));
}

describe('ancestorJson', () => {
  it('is valid JSON that round-trips path and argv for any bytes (issue 3)', () => {
    const k = new SyntheticKernel();
    const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
    const t = k.table();
    t.bootstrap(k.snapshot());
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const parent = k.fork(shell);
      t.apply(parent.record);
      const child = k.fork(parent.proc);
      t.apply(child.record);
      const raw = (p: typeof parent.proc, chainFrom: typeof shell[]) => decodeRecord(encodeExec({
        ktimeNs: BigInt(k.tick()),
        fields: {
          tgid: p.pid, tid: p.pid, ppid: p.parent!.pid, start_ns: p.startNs, parent_start_ns: p.parent!.startNs,
          uid: 1000, comm: randomBytes(r, 16, false),
        },
        chain: chainFrom.map((a) => ({ tgid: a.pid, startNs: a.startNs })),
        filename: Buffer.concat([Buffer.from('/opt/'), randomBytes(r, 60, true)]),
        argv: randomBytes(r, 200, true),
      }), 0, 1 << 16) as ExecRecord;
      const rec = raw(parent.proc, [shell, k.init]);
      assert.equal(rec.kind, 'exec');
      const res = t.apply(rec) as ExecLineage;
      checkElement(ancestorJson(res.process), res.process);
      // The same process as an ancestor, rendered from the cache.
      const res2 = t.apply(raw(child.proc, [parent.proc, shell, k.init])) as ExecLineage;
      const json = ancestryJson(res2.ancestry);
      const arr = JSON.parse(json) as unknown[];
      assert.equal(arr.length, 3);
      checkElement(ancestorJson(res2.ancestry[0]), res2.ancestry[0]);
      assert.equal((arr[0] as { path: string }).path, rec.filename);
      assert.equal((arr[0] as { cmdline: string }).cmdline, argvList(rec.argvText).join(' '));
    }
  });

  it('renders invalid UTF-8 as visible \\xNN and keeps valid multibyte text', () => {
    const k = new SyntheticKernel();
    const t = k.table();
    t.bootstrap(k.snapshot());
    const p = k.fork(k.init);
    t.apply(p.record);
    const rec = decodeRecord(encodeExec({
      ktimeNs: BigInt(k.tick()),
      fields: { tgid: p.proc.pid, tid: p.proc.pid, ppid: 1, start_ns: p.proc.startNs, parent_start_ns: k.init.startNs, comm: 'x' },
      chain: [{ tgid: 1, startNs: k.init.startNs }],
      filename: Buffer.from([0x2f, 0x74, 0xff, 0x22, 0x0a]), argv: Buffer.from('say\0"hi"\0caf\xc3\xa9\0\x00x\n', 'latin1'),
    }), 0, 4096) as ExecRecord;
    const res = t.apply(rec) as ExecLineage;
    const o = JSON.parse(ancestorJson(res.process)) as { path: string; cmdline: string; exe_name: string };
    assert.equal(o.path, '/t\\xff"\n');
    assert.equal(o.exe_name, 't\\xff"\n');
    assert.equal(o.cmdline, 'say "hi" café  x\n');
  });
});
