/**
 * Runs the real collector in the test process and feeds every record to one
 * or more process tables (each with its own options), keeping the raw
 * records as an independent oracle: expected lineages are built from fork
 * records and the task snapshot, never from the table under test.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BootClock } from '../../../src/collector/boot-clock';
import { Collector } from '../../../src/collector/collector';
import { keepRecord, type ExecRecord, type ForkRecord, type KernelRecord, type TaskRecord } from '../../../src/collector/decode';
import { Limits } from '../../../src/collector/layout';
import { ancestorJson } from '../../../src/events/ancestor-json';
import { ancestryJson } from '../../support/ancestry-json';
import { startTicks } from '../../../src/ancestry/identity';
import { LinuxProcfsReader } from '../../../src/ancestry/procfs-reader';
import type { ExecLineage, ProcessView } from '../../../src/ancestry/process-view';
import { ProcessTable, type ProcessTableOptions } from '../../../src/ancestry/table';
import { BPF_OBJECT, requireBuilt, ROOT } from '../../support/paths';
import { requireRootAndBpf } from '../../support/root';
import { argvList } from '../../../src/collector/byte-text';

export const SCENARIO = join(ROOT, 'build', 'ancestry-scenario');

/** A process identity as the assertions compare it. */
export interface Ident {
  pid: number;
  startNs: bigint;
}

export interface ViewCopy extends Ident {
  entityId: string;
  ppid: number;
  path: string;
  cmdline: string;
  exited: boolean;
  source: string;
  execCount: number;
  execChain: string[];
}

/** What one table said about one exec; copied because results are reused. */
export interface Captured {
  table: number;
  record: ExecRecord;
  process: ViewCopy;
  ancestry: ViewCopy[];
  currentParent: ViewCopy | null;
  complete: boolean;
  reason: string | null;
  missing: { pid: number; entityId: string | null } | null;
  /** ancestryJson(ancestry) and ancestorJson(process), rendered while the views were valid. */
  ancestryJson: string;
  processJson: string;
}

export type TableOpts = Partial<Omit<ProcessTableOptions, 'clock' | 'procfs'>>;

export interface HarnessOptions {
  tables?: TableOpts[];
  ringBytes?: number;
  chainDepth?: number;
}

function copy(v: ProcessView): ViewCopy {
  return {
    pid: v.pid, startNs: v.startBoottimeNs, entityId: v.entityId, ppid: v.ppid, path: v.path, cmdline: v.cmdline,
    exited: v.exitBootNs !== null, source: v.source, execCount: v.execCount, execChain: v.execChain.map((i) => i.path),
  };
}

export class AncestryHarness {
  readonly clock = new BootClock();
  readonly tables: ProcessTable[];
  readonly records: KernelRecord[] = [];
  readonly captured: Captured[] = [];
  tasks: TaskRecord[] = [];
  readonly collector: Collector;
  private started = false;

  /** Loads and attaches; records wait in the ring until bootstrap() and start(). */
  constructor(private readonly tag: string, opts: HarnessOptions = {}) {
    requireRootAndBpf();
    requireBuilt(SCENARIO);
    const procfs = new LinuxProcfsReader();
    this.tables = (opts.tables ?? [{}]).map((o) => new ProcessTable({
      clock: this.clock, procfs, cacheSize: 65536, cacheTtlSeconds: 300, maxDepth: 64, ...o,
    }));
    this.collector = Collector.open({
      objectPath: requireBuilt(BPF_OBJECT),
      chainDepth: opts.chainDepth ?? Limits.ET_CHAIN_DEFAULT,
      argvMaxBytes: Limits.ET_ARGV_DEFAULT,
      // The test process forks the scenarios itself: do not filter it out.
      selfTgid: 0,
      wakeupBytes: Limits.ET_WAKEUP_BYTES_DEFAULT,
      ringBytes: opts.ringBytes ?? 8 << 20,
      execFailed: false,
      waitTimeoutMs: 20,
      batchRecords: 4096,
    }, {
      onRecord: (r) => this.onRecord(r),
      onInvalid: () => undefined,
    });
  }

  /** Snapshot the live processes into every table, as the daemon does at start. */
  bootstrap(): void {
    this.tasks = this.collector.snapshot();
    for (const t of this.tables) t.bootstrap(this.tasks);
  }

  start(): void {
    this.started = true;
    this.collector.start();
  }

  private onRecord(raw: KernelRecord): void {
    // Captures outlive the drain pass, whose ring memory an exec's chain reads.
    const r = keepRecord(raw);
    this.records.push(r);
    const watched = (r.kind === 'exec' || r.kind === 'exec_failed') && argvList(r.argvText).some((a) => a.includes(this.tag));
    for (let i = 0; i < this.tables.length; i++) {
      const res = this.tables[i].apply(r);
      if (!watched || res === null || !('ancestry' in res)) continue;
      const l = res as ExecLineage;
      this.captured.push({
        table: i, record: r as ExecRecord, process: copy(l.process), ancestry: l.ancestry.map(copy),
        currentParent: l.currentParent === null ? null : copy(l.currentParent), complete: l.complete,
        reason: l.incompleteReason, missing: l.missingAncestor === null ? null : { ...l.missingAncestor },
        ancestryJson: ancestryJson(l.ancestry), processJson: ancestorJson(l.process),
      });
    }
  }

  drainNow(): void {
    this.collector.drainNow();
  }

  /** Helpers whose failure ends a wait at once, with their stderr. */
  readonly helpers: Helper[] = [];

  async waitFor<T>(what: string, pick: () => T | undefined, timeoutMs = 15000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.started) this.collector.drainNow();
      const found = pick();
      if (found !== undefined) return found;
      for (const h of this.helpers) h.throwIfFailed();
      if (Date.now() > deadline) {
        const errors = this.tables.map((t) => t.stats.skipped.internal_error);
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (table internal errors: ${errors.join(', ')}`
          + `${this.tables.some((t) => t.lastError !== null) ? `; last: ${String(this.tables.find((t) => t.lastError !== null)?.lastError)}` : ''})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The exec of `leaf <tag>` as table i saw it. */
  leaf(tag: string, table = 0): Promise<Captured> {
    return this.waitFor(`the lineage of "leaf ${tag}" (table ${table})`, () => this.captured.find(
      (c) => c.table === table && argvList(c.record.argvText)[1] === 'leaf' && argvList(c.record.argvText)[2] === tag));
  }

  /** A process the helper created, with its exact start from its fork record (ticks checked against /proc). */
  forked(line: HelperLine): Ident {
    // A reused pid can start twice within one tick: the parent it printed tells them apart.
    const all = this.records.filter((r): r is ForkRecord => r.kind === 'fork' && r.childTgid === line.pid
      && startTicks(r.childStartNs) === line.start_ticks);
    const f = all.length > 1 ? all.find((r) => r.parentTgid === line.ppid) : all[0];
    if (f === undefined) throw new Error(`no fork record for ${line.role} (pid ${line.pid}, ${line.start_ticks} ticks)`);
    return { pid: f.childTgid, startNs: f.childStartNs };
  }

  /** A process that predates the tables, from the task snapshot. */
  fromSnapshot(line: { pid: number; start_ticks: number; role?: string }): Ident {
    const t = this.tasks.find((x) => x.tgid === line.pid && startTicks(x.startNs) === line.start_ticks);
    if (t === undefined) throw new Error(`pid ${line.pid} (${line.role ?? '?'}) is not in the snapshot`);
    return { pid: t.tgid, startNs: t.startNs };
  }

  /** This test process and its ancestors up to pid 1, exact, from the snapshot. */
  selfAndAncestors(): Ident[] {
    const byId = new Map(this.tasks.map((t) => [`${t.tgid}:${t.startNs}`, t]));
    let cur = this.tasks.find((t) => t.tgid === process.pid);
    if (cur === undefined) throw new Error('the test process is not in the task snapshot');
    const out: Ident[] = [];
    while (cur !== undefined) {
      out.push({ pid: cur.tgid, startNs: cur.startNs });
      if (cur.ppid === 0) break;
      cur = byId.get(`${cur.ppid}:${cur.parentStartNs}`);
      if (cur === undefined) throw new Error(`the snapshot breaks above pid ${out.at(-1)?.pid}`);
    }
    if (out.at(-1)?.pid !== 1) throw new Error('the snapshot chain of the test process does not reach pid 1');
    return out;
  }

  entityId(i: Ident): string {
    return `${this.clock.bootId}-${i.startNs}-${i.pid}`;
  }

  async close(): Promise<void> {
    await this.collector.close();
  }
}

export interface HelperLine {
  role: string;
  tag: string;
  pid: number;
  tid: number;
  ppid: number;
  start_ticks: number;
  [k: string]: unknown;
}

/** The scenario helper as a child process: its JSON lines, its stdin, its exit. */
export class Helper {
  readonly lines: HelperLine[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private exitCode: number | null = null;
  private exit: Promise<number | null>;

  constructor(args: string[], harness?: AncestryHarness) {
    harness?.helpers.push(this);
    this.child = spawn(SCENARIO, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, nl)) as HelperLine);
        buf = buf.slice(nl + 1);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString('utf8'); });
    this.exit = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  throwIfFailed(): void {
    if (this.exitCode !== null && this.exitCode !== 0) throw new Error(`helper exited with ${this.exitCode}: ${this.stderr}`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async line(role: string, timeoutMs = 10000): Promise<HelperLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = this.lines.find((x) => x.role === role);
      if (l !== undefined) return l;
      if (Date.now() > deadline) throw new Error(`helper printed no "${role}" line in ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  all(role: string): HelperLine[] {
    return this.lines.filter((x) => x.role === role);
  }

  send(line: string): void {
    this.child.stdin.write(line + '\n');
  }

  async done(): Promise<void> {
    const code = await this.exit;
    if (code !== 0) throw new Error(`helper exited with ${code}: ${this.stderr}`);
  }
}

export function ident(v: Ident): string {
  return `${v.pid}:${v.startNs}`;
}

export function idents(vs: readonly Ident[]): string[] {
  return vs.map(ident);
}
