/**
 * Hand-built process views and lineages (the ancestry engine's contract,
 * src/ancestry/process-view.ts) for format and sink tests and benchmarks.
 */
import type {
  ExecLineage, ExitEventView, ForkEventView, ProcessView,
} from '../../src/ancestry/process-view';
import type { ExecRecord, ExitRecord, ForkRecord } from '../../src/collector/decode';
import { KernelChain } from '../../src/collector/kernel-chain';
import type { EventClock, HostIdentity } from '../../src/events/schema';
import { argvOf } from '../support/argv';

export const BOOT_ID = '5f1c2a9e8d7b4c3a9e8d7b4c3a2f1e0d';
/** epoch ns − boottime ns: puts ktime 0 at 2026-11-27T08:00:00Z. */
export const OFFSET_NS = 1_795_766_400_000_000_000n;

export const clock: EventClock = {
  bootId: BOOT_ID,
  epochNs: (bootNs: bigint) => bootNs + OFFSET_NS,
};

export const host: HostIdentity = {
  hostname: 'build-07',
  hostIdentifier: 'build-07',
  machineId: '0b7ac1de9f2e4e8d8c1f2a3b4c5d6e7f',
  bootId: BOOT_ID,
};

export function entityId(pid: number, startNs: bigint): string {
  return `${BOOT_ID}-${startNs}-${pid}`;
}

export function makeView(pid: number, ppid: number, over: Partial<ProcessView> = {}): ProcessView {
  const startBoottimeNs = over.startBoottimeNs ?? BigInt(pid) * 1_000_000_123n;
  const argv = over.argv ?? [`/usr/bin/proc${pid}`, '--flag', `arg-${pid}`];
  const base: ProcessView = {
    entityId: entityId(pid, startBoottimeNs),
    pid,
    startBoottimeNs,
    startEpochNs: startBoottimeNs + OFFSET_NS,
    ppid,
    parentEntityId: ppid === 0 ? null : entityId(ppid, BigInt(ppid) * 1_000_000_123n),
    currentPpid: ppid,
    currentParentEntityId: ppid === 0 ? null : entityId(ppid, BigInt(ppid) * 1_000_000_123n),
    path: `/usr/bin/proc${pid}`,
    argv,
    cmdline: argv.join(' '),
    argvTruncated: false,
    comm: `proc${pid}`.slice(0, 15),
    cwd: '/home/dev',
    uid: 1000,
    gid: 1000,
    euid: 1000,
    egid: 1000,
    loginuid: 1000,
    cgroupId: 4242n,
    pidNs: 4026531836,
    mntNs: 4026531841,
    execCount: 1,
    execChain: [],
    source: 'event',
    interactive: false,
    sourceIp: null,
    kernelThread: false,
    entryKind: 0,
    exitBootNs: null,
    exitCode: null,
    exitSignal: null,
  };
  return { ...base, ...over };
}

export function makeExecRecord(view: ProcessView, ktimeNs: number, over: Partial<ExecRecord> = {}): ExecRecord {
  return {
    kind: 'exec',
    ktimeNs,
    tgid: view.pid,
    tid: view.pid,
    ppid: view.ppid,
    uid: view.uid,
    gid: view.gid,
    euid: view.euid,
    egid: view.egid,
    loginuid: view.loginuid,
    sessionid: 3,
    pgid: view.pid,
    sid: view.ppid,
    tty: 0,
    ret: 0,
    flags: 0,
    pidNs: view.pidNs,
    mntNs: view.mntNs,
    startNs: view.startBoottimeNs,
    parentStartNs: 0n,
    cgroupId: view.cgroupId,
    comm: view.comm,
    filename: view.path,
    exe: over.kind === 'exec_failed' ? '' : view.path,
    ...argvOf(view.argv),
    chain: KernelChain.EMPTY,
    peer: null,
    ...over,
  };
}

/**
 * An exec of pid 10000+depth whose lineage is `depth` ancestors ending at
 * pid 1 (systemd), each with a realistic path and command line.
 */
export function makeLineage(depth = 10, ktimeNs = 3_600_123_456_789, over: Partial<ProcessView> = {}): ExecLineage {
  const ancestry: ProcessView[] = [];
  for (let i = 0; i < depth; i++) {
    const pid = i === depth - 1 ? 1 : 1000 + (depth - 1 - i) * 37;
    const ppid = i === depth - 1 ? 0 : i === depth - 2 ? 1 : 1000 + (depth - 2 - i) * 37;
    ancestry.push(makeView(pid, ppid, pid === 1
      ? { path: '/usr/lib/systemd/systemd', argv: ['/sbin/init', 'splash'], cmdline: '/sbin/init splash', comm: 'systemd', uid: 0, euid: 0, gid: 0, egid: 0, loginuid: 4294967295, source: 'bootstrap' }
      : { argv: ['/bin/bash', '-c', `step ${pid} && make -j8 all`], cmdline: `/bin/bash -c step ${pid} && make -j8 all` }));
  }
  const ppid = ancestry.length > 0 ? ancestry[0].pid : 1;
  const process = makeView(20000 + depth, ppid, {
    path: '/usr/bin/curl',
    argv: ['curl', '-fsSL', 'https://example.invalid/install.sh'],
    cmdline: 'curl -fsSL https://example.invalid/install.sh',
    comm: 'curl',
    parentEntityId: ancestry[0]?.entityId ?? null,
    currentParentEntityId: ancestry[0]?.entityId ?? null,
    ...over,
  });
  return {
    record: makeExecRecord(process, ktimeNs),
    process,
    ancestry,
    currentParent: null,
    complete: true,
    incompleteReason: null,
    missingAncestor: null,
  };
}

export function makeForkEvent(ktimeNs = 3_600_000_000_000): ForkEventView {
  const parent = makeView(500, 1);
  const child = makeView(501, 500, { parentEntityId: parent.entityId });
  const record: ForkRecord = {
    kind: 'fork', ktimeNs, parentTgid: 500, childTgid: 501, parentStartNs: parent.startBoottimeNs,
    childStartNs: child.startBoottimeNs, cloneFlags: 0x4000, creatorTgid: 500, uid: 1000, comm: child.comm,
  };
  return { record, process: child, parent };
}

export function makeExitEvent(ktimeNs = 3_700_000_000_000): ExitEventView {
  const p = makeView(777, 500, { exitBootNs: ktimeNs, exitCode: 3, exitSignal: 0 });
  const record: ExitRecord = {
    kind: 'exit', ktimeNs, tgid: 777, ppid: 500, startNs: p.startBoottimeNs, parentStartNs: 0n,
    status: 3 << 8, exitCode: 3, signal: 0, coreDumped: false, comm: p.comm,
  };
  return { record, process: p };
}
