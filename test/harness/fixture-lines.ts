/**
 * Hand-made truth lines and daemon result lines for the checker's tests.
 * Result lines come from the daemon's own formatter (src/events/osquery-result.ts),
 * so a format change that the checker cannot read fails these tests.
 */
import type { ExecLineage, IncompleteReason, ProcessView } from '../../src/ancestry/process-view';
import { OsqueryResultFormat } from '../../src/events/osquery-result';
import { clock, host, makeExecRecord, makeView } from '../events/lineage-fixture';
import type { PidTicks } from '../support/check/truth';

/** ns start time of a process started at `ticks`, somewhere inside the tick (floor must recover it). */
export function nsOf(ticks: number, within = 4_321_987n): bigint {
  return BigInt(ticks) * 10_000_000n + within;
}

export interface FakeExec {
  tag: string;
  mode?: string;
  pid: number;
  ticks: number;
  parentNow: number;
  lineage: PidTicks[];
}

export function truthLine(t: FakeExec): string {
  return JSON.stringify({
    tag: t.tag, mode: t.mode ?? 'flat', pid: t.pid, start_ticks: t.ticks, parent_now: t.parentNow,
    lineage: t.lineage,
  });
}

export interface LineOptions {
  /** The ancestry the daemon reports; default the truth's. */
  ancestry?: PidTicks[];
  complete?: boolean;
  reason?: IncompleteReason | null;
  currentParent?: number;
  pid?: number;
  ticks?: number;
  numerics?: boolean;
  ktimeNs?: number;
  /** exec_failed: the errno execve returned. */
  failedErrno?: number;
  /** Override one ancestor's entity id (to make it disagree with pid/start). */
  badEntityAt?: number;
}

/** The daemon's exec line for `t`, as the file sink writes it. */
export function resultLine(t: FakeExec, o: LineOptions = {}): string {
  const f = new OsqueryResultFormat({ host, clock, numerics: o.numerics ?? false });
  const ancestry = (o.ancestry ?? t.lineage).map(([pid, ticks], i, all): ProcessView => {
    const ppid = i + 1 < all.length ? all[i + 1][0] : 0;
    const v = makeView(pid, ppid, { startBoottimeNs: nsOf(ticks, BigInt(1000 + i)) });
    return i === o.badEntityAt ? { ...v, entityId: `${v.entityId.split('-')[0]}-${nsOf(ticks + 1)}-${pid}` } : v;
  });
  const pid = o.pid ?? t.pid;
  const argv = ['/bin/true', t.tag];
  const process = makeView(pid, ancestry[0]?.pid ?? 0, {
    startBoottimeNs: nsOf(o.ticks ?? t.ticks), argv, cmdline: argv.join(' '), path: '/bin/true', comm: 'true',
    currentPpid: o.currentParent ?? t.parentNow,
  });
  const record = makeExecRecord(process, o.ktimeNs ?? 3_600_123_456_789, o.failedErrno
    ? { kind: 'exec_failed', ret: -o.failedErrno } : {});
  const l: ExecLineage = {
    record, process, ancestry, currentParent: null,
    complete: o.complete ?? true, incompleteReason: o.reason ?? null, missingAncestor: null,
  };
  return f.exec(l);
}

/** A three-ancestor truth: worker 200@50 → procgen 100@40 → init 1@0. */
export function fake(tag: string, over: Partial<FakeExec> = {}): FakeExec {
  return { tag, pid: 300, ticks: 60, parentNow: 200, lineage: [[200, 50], [100, 40], [1, 0]], ...over };
}
