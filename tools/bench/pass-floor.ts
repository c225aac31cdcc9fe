/**
 * The floor under a drain pass on this machine: a bare Node process that
 * wakes on one re-armed timer every --period-ms and writes --bytes to a file
 * with one write(2), as a drain pass writes its lines, and does nothing
 * else. Its CPU per wakeup is what any timer-driven Node daemon pays here
 * before it has decoded a record: the wakeup itself, and a write(2) into
 * caches the host's other tenants have cooled since the last one
 * (docs/benchmarks.md, "Where a drain pass's time goes"). bench.ts runs it
 * right after the daemon's paced runs, under the same paced load with the
 * daemon stopped, so the two figures come from one run.
 *
 * --wait block sleeps in Atomics.wait instead, never returning to the event
 * loop: what a thread running the drain as a blocking loop (a worker that
 * waits, drains and writes, and nothing else) would pay per wakeup. Set
 * beside the timer, the difference is the event loop's own share of the
 * floor (docs/benchmarks.md, "The floor by how a pass is woken").
 *
 * Runs --warmup-secs unmeasured (the JIT, the first page faults), then
 * --secs measured; prints one JSON line: {"wakeups":N,"cpu_us":N}, CPU of
 * every thread (getrusage) over the measured part.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { Flags } from '../lib/cli-args';

const flags = new Flags('usage: node dist/tools/bench/pass-floor.js --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1] [--wait timer|block] (secs: at most 3600)', {
  file: { type: 'string' }, 'period-ms': { type: 'string', default: '15' }, bytes: { type: 'string', default: '65536' },
  secs: { type: 'string', default: '5' }, 'warmup-secs': { type: 'string', default: '1' }, wait: { type: 'string', default: 'timer' },
});
const PERIOD_MS = flags.number('period-ms', { integer: true, min: 1, max: 10_000 });
const BYTES = flags.number('bytes', { integer: true, min: 0, max: 16 * 1024 ** 2 });
// An hour at most: past 2^31 ms a Node timer fires at once (TimeoutOverflowWarning).
const SECS = flags.number('secs', { above: 0, max: 3600 });
const WARMUP_SECS = flags.number('warmup-secs', { min: 0, max: 3600 });
const WAIT = flags.choice('wait', ['timer', 'block'] as const);
const file = flags.values.file ?? flags.fail('--file is required');

const fd = openSync(file, 'w');
// Printable bytes, as a results line is: the page cache does not care, but a reader of the file might.
const block = Buffer.alloc(BYTES, 'x');
let wakeups = 0;

function report(cpu: NodeJS.CpuUsage): void {
  closeSync(fd);
  unlinkSync(file);
  process.stdout.write(`${JSON.stringify({ wakeups, cpu_us: cpu.user + cpu.system })}\n`);
}

if (WAIT === 'timer') {
  let cpu0: NodeJS.CpuUsage | null = null;
  // One Timeout re-armed with refresh(), as the drain's timer is: the cheapest way Node has to wake periodically.
  const timer = setTimeout(() => {
    if (cpu0 !== null) wakeups++;
    if (BYTES > 0) writeSync(fd, block);
    timer.refresh();
  }, PERIOD_MS);
  setTimeout(() => {
    cpu0 = process.cpuUsage();
    setTimeout(() => {
      clearTimeout(timer);
      report(process.cpuUsage(cpu0!));
    }, SECS * 1000);
  }, WARMUP_SECS * 1000);
} else {
  // Nothing ever notifies this word: each wait sleeps its full timeout in the kernel (a futex), as a blocking drain
  // loop would sleep on the ring. The window opens on a wakeup at measureAt, as the timer's opens on its own timer,
  // and its last wait ends at the window's end: the same window, to within a wakeup's latency.
  const word = new Int32Array(new SharedArrayBuffer(4));
  const measureAt = performance.now() + WARMUP_SECS * 1000;
  const endAt = measureAt + SECS * 1000;
  let cpu0: NodeJS.CpuUsage | null = null;
  for (;;) {
    const now = performance.now();
    if (cpu0 === null && now >= measureAt) cpu0 = process.cpuUsage();
    if (now >= endAt) break;
    Atomics.wait(word, 0, 0, Math.max(0, Math.min(PERIOD_MS, (cpu0 === null ? measureAt : endAt) - now)));
    const woke = performance.now();
    // The wakeups that open and close the window only read the CPU (at the loop's top), as the timer's do.
    if (woke >= endAt || (cpu0 === null && woke >= measureAt)) continue;
    if (cpu0 !== null) wakeups++;
    if (BYTES > 0) writeSync(fd, block);
  }
  report(process.cpuUsage(cpu0!));
}
