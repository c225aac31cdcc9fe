/**
 * Exec events in the daemon's real formats (src/events) from made-up
 * processes, for the Kafka sink's tests and benchmark: realistic size and
 * shape (a 4-deep lineage; osquery result lines ~3.3 KB, ECS ~2.6 KB), and a sequence
 * number recoverable from every line (seqOf) so a consumer can check by id
 * what arrived.
 *
 * Event n has ktime BASE_KTIME_NS + n·1000 ns, so its eid
 * ("<boot8>-<ktime>-<tid>-<kind>") and its entity id are unique per n.
 */
import type { ExecLineage, ProcessView } from '../../../src/ancestry/process-view';
import type { ExecRecord } from '../../../src/collector/decode';
import { KernelChain } from '../../../src/collector/kernel-chain';
import { createFormat, type EventFormat, type FormatName } from '../../../src/events';
import { argvOf } from '../argv';

export const SAMPLE_BOOT_ID = '3f2a9c1e5b7d4e2f8a1c6d3b9e0f7a25';
const BASE_KTIME_NS = 700_000_000_000;
const EPOCH_OFFSET_NS = 1_764_000_000_000_000_000n;

function view(pid: number, ppid: number, startNs: bigint, path: string, argv: string[], parent: ProcessView | null): ProcessView {
  return {
    entityId: `${SAMPLE_BOOT_ID}-${startNs}-${pid}`,
    pid,
    startBoottimeNs: startNs,
    startEpochNs: startNs + EPOCH_OFFSET_NS,
    ppid,
    parentEntityId: parent?.entityId ?? null,
    currentPpid: ppid,
    currentParentEntityId: parent?.entityId ?? null,
    path,
    argv,
    cmdline: argv.join(' '),
    argvTruncated: false,
    comm: path.slice(path.lastIndexOf('/') + 1).slice(0, 15),
    cwd: '/home/builder/src/project',
    uid: 1000, gid: 1000, euid: 1000, egid: 1000, loginuid: 1000,
    cgroupId: 4242n, pidNs: 4026531836, mntNs: 4026531841,
    execCount: 1, execChain: [], source: 'event', kernelThread: false, entryKind: 0, interactive: false, sourceIp: null,
    exitBootNs: null, exitCode: null, exitSignal: null,
  };
}

const INIT = view(1, 0, 100_000_000n, '/usr/lib/systemd/systemd', ['/sbin/init', 'splash'], null);
const SSHD = view(812, 1, 2_400_000_000n, '/usr/sbin/sshd', ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], INIT);
const SHELL = view(20_411, 812, 90_000_000_000n, '/usr/bin/bash', ['-bash'], SSHD);

export class SampleEvents {
  readonly format: EventFormat;

  constructor(readonly formatName: FormatName = 'osquery', hostIdentifier = 'ci-host-01') {
    this.format = createFormat(formatName, {
      host: { hostname: hostIdentifier, hostIdentifier, machineId: 'b7e3f1d2c4a5968778695a4b3c2d1e0f', bootId: SAMPLE_BOOT_ID },
      clock: { bootId: SAMPLE_BOOT_ID, epochNs: (bootNs: bigint) => bootNs + EPOCH_OFFSET_NS },
    });
  }

  /** Event `seq` (≥ 0) as one JSON line without newline. */
  line(seq: number): string {
    return this.format.exec(this.lineage(seq));
  }

  /** What the ancestry engine would hand the format for event `seq`. */
  lineage(seq: number): ExecLineage {
    const ktimeNs = BASE_KTIME_NS + seq * 1000;
    const pid = 30_000 + (seq % 2_000_000);
    const make = view(pid - 1, SHELL.pid, BigInt(ktimeNs - 500_000), '/usr/bin/make', ['make', '-j8', 'all'], SHELL);
    const argv = ['/usr/bin/gcc', '-O2', '-Wall', '-c', `src/module_${seq}.c`, '-o', `build/module_${seq}.o`];
    const proc = view(pid, make.pid, BigInt(ktimeNs - 1000), '/usr/bin/gcc', argv, make);
    const record: ExecRecord = {
      kind: 'exec', ktimeNs, tgid: pid, tid: pid, ppid: make.pid,
      uid: 1000, gid: 1000, euid: 1000, egid: 1000, loginuid: 1000, sessionid: 3, pgid: pid, sid: SHELL.pid, tty: 0, ret: 0, flags: 0, peer: null,
      pidNs: 4026531836, mntNs: 4026531841, startNs: proc.startBoottimeNs, parentStartNs: make.startBoottimeNs,
      cgroupId: 4242n, comm: 'gcc', filename: '/usr/bin/gcc', exe: '/usr/bin/gcc', ...argvOf(argv),
      chain: KernelChain.EMPTY,
    };
    return {
      record, process: proc, ancestry: [make, SHELL, SSHD, INIT], currentParent: null,
      complete: true, incompleteReason: null, missingAncestor: null,
    };
  }

  /** `count` lines from `from`. */
  lines(from: number, count: number): string[] {
    const out: string[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.line(from + i);
    return out;
  }

  /** The kernel time of event `seq` (what the pipeline would pass to enqueue). */
  static ktimeNs(seq: number): number {
    return BASE_KTIME_NS + seq * 1000;
  }

  /** The entity id event `seq` carries. */
  static entityId(seq: number): string {
    const pid = 30_000 + (seq % 2_000_000);
    return `${SAMPLE_BOOT_ID}-${BASE_KTIME_NS + seq * 1000 - 1000}-${pid}`;
  }
}

const EID_RE = /"(?:eid|id)":"[0-9a-f]{8}-(\d+)-\d+-\d"/;

/** The sequence number of a SampleEvents line (osquery or ECS), or -1. */
export function seqOf(line: string | Buffer): number {
  const m = EID_RE.exec(typeof line === 'string' ? line : line.toString('utf8'));
  return m === null ? -1 : (Number(m[1]) - BASE_KTIME_NS) / 1000;
}
