/**
 * `ancestryd check` on the real machine: what passes as root, and the clear,
 * actionable failures without privileges or without the BPF object.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Limits } from '../../src/collector/layout';
import { fexitRefusal } from '../../src/collector/load';
import { MAIN } from '../support/daemon-harness';
import { BPF_OBJECT, requireBuilt } from '../support/paths';
import { requireRootAndBpf } from '../support/root';

interface Check { name: string; ok: boolean; detail: string; fix?: string }

function check(args: string[], uid?: number): { code: number | null; checks: Check[] } {
  const r = spawnSync(process.execPath, [requireBuilt(MAIN), 'check', '--json', ...args], {
    encoding: 'utf8', ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: r.status, checks: (JSON.parse(r.stdout) as { checks: Check[] }).checks };
}

describe('ancestryd check', () => {
  it('passes every check as root on this machine', () => {
    requireRootAndBpf();
    const r = check([`--bpf_object_path=${requireBuilt(BPF_OBJECT)}`]);
    assert.deepEqual(r.checks.filter((c) => !c.ok), []);
    assert.equal(r.code, 0);
    assert.deepEqual(r.checks.map((c) => c.name), ['privileges', 'libbpf', 'kernel BTF', 'BPF ring buffer', 'BPF object', 'tracefs', 'failed-exec capture', 'bpf pins']);
  });

  it('says which hook reports failed execs and what it costs: fexit where this kernel loads it, else the tracepoints and why', () => {
    requireRootAndBpf();
    const refused = fexitRefusal(requireBuilt(BPF_OBJECT));
    const on = check([`--bpf_object_path=${requireBuilt(BPF_OBJECT)}`]).checks;
    const capture = on.find((c) => c.name === 'failed-exec capture')!.detail;
    const tracefs = on.find((c) => c.name === 'tracefs')!.detail;
    if (refused === null) {
      assert.match(capture, /^fexit on the execve and execveat syscalls: no cost to other syscalls$/);
      assert.equal(tracefs, 'not needed (failed execs come from fexit)');
    } else {
      assert.ok(capture.startsWith(`syscall tracepoints sys_exit_execve and sys_exit_execveat (this kernel refuses fexit: ${refused})`), capture);
      assert.match(capture, /\+55–72 ns per syscall/);
      assert.match(tracefs, /^\/sys\/kernel(\/debug)?\/tracing/);
    }
    const off = check([`--bpf_object_path=${requireBuilt(BPF_OBJECT)}`, '--exec_failed_events=false']).checks;
    assert.equal(off.find((c) => c.name === 'failed-exec capture')!.detail, 'off (exec_failed_events=false): no cost to other syscalls');
  });

  it('says what to do when run without privileges (exit 4)', () => {
    requireRootAndBpf(); // to switch to nobody
    const r = check([`--bpf_object_path=${BPF_OBJECT}`], 65534);
    assert.equal(r.code, 4);
    const priv = r.checks.find((c) => c.name === 'privileges')!;
    assert.equal(priv.ok, false);
    assert.match(priv.detail, /uid 65534, CAP_BPF=false CAP_PERFMON=false/);
    assert.match(priv.fix!, /run as root/);
    assert.equal(r.checks.find((c) => c.name === 'tracefs')!.ok, true, 'tracefs is seen as mounted even when its directory is unreadable');
  });

  it('bpf pins: what is pinned under bpf_pin_path, a root off bpffs refused with the fix, off named as a blind window', () => {
    requireRootAndBpf();
    const root = `/sys/fs/bpf/anc-check-${process.pid}`;
    const obj = `--bpf_object_path=${requireBuilt(BPF_OBJECT)}`;
    const pins = (args: string[]) => {
      const r = check([obj, ...args]);
      return { code: r.code, c: r.checks.find((c) => c.name === 'bpf pins')! };
    };
    try {
      let r = pins([`--bpf_pin_path=${root}`]);
      assert.equal(r.code, 0);
      assert.match(r.c.detail, new RegExp(`no pinned set yet; the daemon pins w${Limits.ET_FORMAT_VERSION}-[0-9a-f]{16} at start`));
      mkdirSync(`${root}/w1-0123456789abcdef`, { recursive: true });
      r = pins([`--bpf_pin_path=${root}`]);
      assert.equal(r.code, 0, 'a set of another build does not fail the check: the next start replaces it');
      assert.match(r.c.detail, /w1-0123456789abcdef: left by another build .*wire version 1\); this build cannot read its wire format/);
      r = pins(['--bpf_pin_path=/tmp/anc-not-bpffs']);
      assert.equal(r.code, 4);
      assert.match(r.c.detail, /not on a bpffs mount/);
      assert.match(r.c.fix!, /mount -t bpf bpf \/sys\/fs\/bpf/);
      r = pins(['--bpf_pin=false']);
      assert.equal(r.code, 0);
      assert.match(r.c.detail, /off \(bpf_pin=false\).*blind window/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the missing BPF object and how to build it', () => {
    const r = check(['--bpf_object_path=/nonexistent/exec_trace.bpf.o']);
    assert.equal(r.code, 4);
    const obj = r.checks.find((c) => c.name === 'BPF object')!;
    assert.deepEqual([obj.ok, obj.detail, obj.fix], [false, '/nonexistent/exec_trace.bpf.o not readable', 'build it with "make"']);
  });
});
