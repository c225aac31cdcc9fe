/**
 * The collector alone in its own process, for benchmarks: counts what it
 * drains, prints `READY` once attached, and on a `stop` line on stdin drains,
 * detaches and prints one JSON line of counts and costs. Flags: USAGE below.
 */
import { createInterface } from 'node:readline';
import { Collector } from '../../src/collector/collector';
import { Limits } from '../../src/collector/layout';
import { sampleProc } from '../../test/support/proc-stat';
import { Flags } from '../lib/cli-args';

const flags = new Flags(`usage: node dist/tools/bench/collector-runner.js [--object build/exec_trace.bpf.o] [--extra PROG] [--no-exec-failed]
       [--wakeup-bytes ${Limits.ET_WAKEUP_BYTES_DEFAULT}] [--ring-bytes ${16 << 20}] [--wait-ms 50]`, {
  object: { type: 'string', default: 'build/exec_trace.bpf.o' }, extra: { type: 'string', default: '' },
  'no-exec-failed': { type: 'boolean', default: false }, 'wakeup-bytes': { type: 'string', default: String(Limits.ET_WAKEUP_BYTES_DEFAULT) },
  'ring-bytes': { type: 'string', default: String(16 << 20) }, 'wait-ms': { type: 'string', default: '50' },
});

const counts = { exec: 0, exec_failed: 0, fork: 0, exit: 0, task: 0, invalid: 0, true_exec: 0, synthetic: 0 };
const extra = flags.values.extra;
const collector = Collector.open({
  objectPath: flags.values.object,
  chainDepth: Limits.ET_CHAIN_DEFAULT,
  argvMaxBytes: Limits.ET_ARGV_DEFAULT,
  selfTgid: process.pid,
  wakeupBytes: flags.number('wakeup-bytes', { integer: true, min: 1 }),
  ringBytes: flags.number('ring-bytes', { integer: true, min: 1 }),
  execFailed: !flags.values['no-exec-failed'],
  extraPrograms: extra ? [extra] : [],
  waitTimeoutMs: flags.number('wait-ms', { integer: true, min: 0 }),
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
    const mem = sampleProc(process.pid)!;
    process.stdout.write(JSON.stringify({
      counts,
      kernel,
      drain: collector.drainStats,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
      rssKb: mem.rssKb,
      hwmKb: mem.hwmKb,
    }) + '\n');
    process.exit(0);
  })();
});
