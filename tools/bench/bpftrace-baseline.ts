/**
 * The baseline tracer of the benchmarks: bpftrace on the same three sched
 * tracepoints as ancestryd (bpftrace/exec-trace.bt), printing a line per
 * event to a file. Runs `work` under it and reports the events it printed,
 * the events it said it lost, and its CPU time while the work ran.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../test/support/paths';
import { sampleProc } from '../../test/support/proc-stat';

const SCRIPT = join(ROOT, 'tools', 'bench', 'bpftrace', 'exec-trace.bt');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BpftraceRun<T> {
  load: T;
  events: number;
  lost: number;
  cpuMs: number;
}

export async function underBpftrace<T>(work: () => T | Promise<T>): Promise<BpftraceRun<T>> {
  const out = join(tmpdir(), `ancestryd-bench-bpftrace-${process.pid}.out`);
  const fd = openSync(out, 'w');
  const cp = spawn('bpftrace', [SCRIPT], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  cp.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  for (let i = 0; i < 300 && !readFileSync(out, 'utf8').includes('Attaching'); i++) await sleep(100);
  await sleep(300);
  const c0 = sampleProc(cp.pid!)!.cpuMs;
  const load = await work();
  await sleep(1000); // let bpftrace empty its buffers
  const cpuMs = sampleProc(cp.pid!)!.cpuMs - c0;
  cp.kill('SIGINT');
  await new Promise((r) => cp.on('exit', r));
  const text = readFileSync(out, 'utf8');
  unlinkSync(out);
  let events = 0;
  let lost = 0;
  for (const l of text.split('\n')) if (/^(exec|fork|exit) /.test(l)) events++;
  for (const m of (text + stderr).matchAll(/Lost (\d+) events/g)) lost += Number(m[1]);
  return { load, events, lost, cpuMs };
}
