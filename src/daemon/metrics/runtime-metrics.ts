/**
 * The process_* and nodejs_* series operators know from prom-client's
 * default metrics (same names, prefixed ancestryd_), read at scrape time.
 *
 * Written here rather than taken from prom-client's collectDefaultMetrics:
 * that module loads @opentelemetry/api and costs 12 MB of RSS (measured on
 * Node 24), for a dozen numbers that /proc and process.* give directly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { ELDHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from './prom';

/**
 * The event-loop delay sampler's period. Each sample is a timer that wakes
 * the process, and a wakeup costs ~120 µs of CPU on an idle VM (measured:
 * a bare 10 ms setTimeout loop in Node 24): at the default 10 ms this
 * sampler alone cost more than the daemon's event work at 600 exec/s. A
 * stall is still seen whole: the sample that fires late records it.
 */
export const LOOP_DELAY_RESOLUTION_MS = 1000;

const PAGE_BYTES = 4096;
const NS_PER_S = 1e9;

/** Registers the series on `registry`; the returned function stops the event-loop sampler. */
export function registerRuntimeMetrics(registry: Registry, prefix: string): () => void {
  const registers = [registry];
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const loop: ELDHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loop.enable();

  const cpu = (name: string, help: string, read: (u: NodeJS.CpuUsage) => number) => new Counter({
    name: prefix + name, help, registers,
    collect() {
      // Set to the absolute figure: it only grows, as a counter must.
      this.reset();
      this.inc(read(process.cpuUsage()) / 1e6);
    },
  });
  cpu('process_cpu_user_seconds_total', 'User CPU time spent, seconds.', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time spent, seconds.', (u) => u.system);
  cpu('process_cpu_seconds_total', 'User and system CPU time spent, seconds.', (u) => u.user + u.system);

  new Gauge({
    name: prefix + 'process_start_time_seconds', help: 'Start time of the process since the epoch, seconds.', registers,
    collect() { this.set(startSeconds); },
  });
  new Gauge({
    name: prefix + 'process_resident_memory_bytes', help: 'Resident memory size, bytes.', registers,
    collect() { this.set(statm(1) * PAGE_BYTES); },
  });
  new Gauge({
    name: prefix + 'process_virtual_memory_bytes', help: 'Virtual memory size, bytes.', registers,
    collect() { this.set(statm(0) * PAGE_BYTES); },
  });
  new Gauge({
    name: prefix + 'process_open_fds', help: 'Open file descriptors.', registers,
    collect() { this.set(openFds()); },
  });
  const heap = (name: string, help: string, read: (m: NodeJS.MemoryUsage) => number) => new Gauge({
    name: prefix + name, help, registers,
    collect() { this.set(read(process.memoryUsage())); },
  });
  heap('nodejs_heap_size_total_bytes', 'V8 heap size, bytes.', (m) => m.heapTotal);
  heap('nodejs_heap_size_used_bytes', 'V8 heap used, bytes.', (m) => m.heapUsed);
  heap('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (Buffers), bytes.', (m) => m.external);
  const lag = (name: string, help: string, read: (h: ELDHistogram) => number) => new Gauge({
    name: prefix + name, help, registers,
    collect() { this.set(read(loop) / NS_PER_S); },
  });
  lag('nodejs_eventloop_lag_mean_seconds', 'Mean event loop delay, seconds.', (h) => h.mean || 0);
  lag('nodejs_eventloop_lag_p50_seconds', 'Median event loop delay, seconds.', (h) => h.percentile(50));
  lag('nodejs_eventloop_lag_p99_seconds', '99th percentile of the event loop delay, seconds.', (h) => h.percentile(99));
  lag('nodejs_eventloop_lag_max_seconds', 'Longest event loop delay, seconds.', (h) => h.max);
  new Gauge({
    name: prefix + 'nodejs_version_info', help: 'Node.js version (value 1).', labelNames: ['version'], registers,
    collect() { this.set({ version: process.version }, 1); },
  });
  return () => loop.disable();
}

/** Field `i` of /proc/self/statm, in pages (0 when unreadable). */
function statm(i: number): number {
  try {
    return Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[i]) || 0;
  } catch {
    return 0;
  }
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}
