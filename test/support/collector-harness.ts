/**
 * Runs the real collector in the test process and keeps every record, so
 * e2e tests can wait for the records of the processes they start.
 */
import { spawn } from 'node:child_process';
import { Collector, type CollectorOptions } from '../../src/collector/collector';
import { keepRecord, type DecodeFailure, type KernelRecord } from '../../src/collector/decode';
import { Limits } from '../../src/collector/layout';
import { BPF_OBJECT, requireBuilt } from './paths';
import { requireRootAndBpf } from './root';

export class CollectorHarness {
  readonly records: KernelRecord[] = [];
  readonly invalid: DecodeFailure[] = [];
  readonly collector: Collector;

  constructor(opts: Partial<CollectorOptions> = {}) {
    requireRootAndBpf();
    this.collector = Collector.open({
      objectPath: requireBuilt(BPF_OBJECT),
      chainDepth: Limits.ET_CHAIN_DEFAULT,
      argvMaxBytes: Limits.ET_ARGV_DEFAULT,
      // The test process forks the scenarios itself: do not filter it out.
      selfTgid: 0,
      wakeupBytes: Limits.ET_WAKEUP_BYTES_DEFAULT,
      ringBytes: 8 << 20,
      execFailed: true,
      waitTimeoutMs: 20,
      batchRecords: 4096,
      ...opts,
    }, {
      onRecord: (r) => this.records.push(keepRecord(r)),
      onInvalid: (f) => this.invalid.push(f),
    });
    this.collector.start();
  }

  /** Wait until `pick` finds something in the records (drains on the way). */
  async waitFor<T>(what: string, pick: (records: KernelRecord[]) => T | undefined, timeoutMs = 10000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.collector.drainNow();
      const found = pick(this.records);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await this.collector.close();
  }
}

export interface RunResult {
  pid: number;
  code: number | null;
  stdout: string;
}

/** Run a command to completion; resolves with its pid, exit code and stdout. */
export function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ pid: child.pid!, code, stdout }));
  });
}
