/**
 * The collector alone in its own process, for benchmarks: counts what it
 * drains, prints `READY` once attached, and on a `stop` line on stdin drains,
 * detaches and prints one JSON line of counts and costs.
 *   node dist/tools/bench/collector-runner.js [--object PATH] [--extra PROG] [--no-exec-failed]
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Collector } from '../../src/collector/collector';
import { Limits } from '../../src/collector/layout';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

const counts = { exec: 0, exec_failed: 0, fork: 0, exit: 0, task: 0, invalid: 0, true_exec: 0, synthetic: 0 };
const extra = arg('extra', '');
const collector = Collector.open({
  objectPath: arg('object', 'build/exec_trace.bpf.o'),
  chainDepth: Limits.ET_CHAIN_DEFAULT,
  argvMaxBytes: Limits.ET_ARGV_DEFAULT,
  selfTgid: process.pid,
  wakeupBytes: Number(arg('wakeup-bytes', String(Limits.ET_WAKEUP_BYTES_DEFAULT))),
  ringBytes: Number(arg('ring-bytes', String(16 << 20))),
  execFailed: !process.argv.includes('--no-exec-failed'),
  extraPrograms: extra ? [extra] : [],
  waitTimeoutMs: Number(arg('wait-ms', '50')),
  batchRecords: 4096,
}, {
  onRecord(r) {
    counts[r.kind]++;
    if (r.kind === 'exec') {
      if (r.filename === '/bin/true') counts.true_exec++;
      else if (r.filename === '/bench/synthetic') counts.synthetic++;
    }
  },
  onInvalid() {
    counts.invalid++;
  },
});
const k0 = collector.counters();
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
collector.start();
process.stdout.write(`READY ${JSON.stringify({ pid: process.pid, programs: collector.attachedPrograms })}\n`);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== 'stop') return;
  rl.close();
  void (async () => {
    const k1 = collector.counters();
    await collector.close();
    const cpu = process.cpuUsage(cpu0);
    const kernel: Record<string, { emitted: number; dropped: number }> = {};
    for (const [kind, v] of Object.entries(k1)) {
      const before = k0[kind as keyof typeof k0];
      kernel[kind] = { emitted: v.emitted - before.emitted, dropped: v.dropped - before.dropped };
    }
    process.stdout.write(JSON.stringify({
      counts,
      kernel,
      drain: collector.drainStats,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
      rssKb: statusKb('VmRSS'),
      hwmKb: statusKb('VmHWM'),
    }) + '\n');
    process.exit(0);
  })();
});
