/**
 * Decoder micro-benchmark: ns per record for realistic exec, fork and exit
 * records, decoded from one buffer as the ring drain does, plus heap bytes
 * allocated per record. Prints one line per record shape. Flags: USAGE below.
 */
import { decodeRecord } from '../../src/collector/decode';
import { encodeExec, encodeExit, encodeFork } from '../../test/support/encode';
import { Flags } from '../lib/cli-args';

const flags = new Flags('usage: npm run bench:decode -- [--records 200000] [--runs 5]', {
  records: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' },
});
const RECORDS = flags.number('records', { integer: true, min: 1 });
const RUNS = flags.number('runs', { integer: true, min: 1 });

const chain = (n: number) => Array.from({ length: n }, (_, i) => ({ tgid: 1000 + i, startNs: 10_000_000_000n + BigInt(i) }));
const shapes: [string, Buffer][] = [
  ['exec depth 6, 3 args', encodeExec({
    fields: { tgid: 4242, tid: 4242, ppid: 1000, comm: 'true', start_ns: 123456789012n },
    chain: chain(6), filename: '/usr/bin/true', argv: ['/usr/bin/true', '--flag', 'value'],
  })],
  ['exec depth 16, 12 args', encodeExec({
    fields: { tgid: 4242, tid: 4242, ppid: 1000, comm: 'python3', start_ns: 123456789012n },
    chain: chain(16), filename: '/usr/bin/python3',
    argv: ['python3', '-m', 'pip', 'install', '--user', '-r', 'requirements.txt', '--no-cache-dir', '-q', '--upgrade', 'a', 'b'],
  })],
  ['fork', encodeFork({ parent_tgid: 1, child_tgid: 2, parent_start_ns: 3n, child_start_ns: 4n, comm: 'bash' })],
  ['exit', encodeExit({ tgid: 9, ppid: 1, start_ns: 10n, parent_start_ns: 11n, exit_code: 0, comm: 'true' })],
];

const gc = (globalThis as { gc?: () => void }).gc;
console.log(`# decode: ${RECORDS} records × ${RUNS} runs per shape${gc ? '' : ' (run with --expose-gc for heap figures)'}`);
for (const [name, rec] of shapes) {
  // A ring-like buffer: the record repeated, 8-byte aligned, as the drain sees it.
  const stride = (rec.length + 8 + 7) & ~7;
  const copies = 512;
  const ring = Buffer.alloc(stride * copies);
  for (let i = 0; i < copies; i++) rec.copy(ring, i * stride + 8);
  const samples: number[] = [];
  let heapPerRecord = 0;
  let sink = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RECORDS; i++) {
      const r = decodeRecord(ring, (i % copies) * stride + 8, rec.length);
      if (r.kind !== 'invalid') sink++;
    }
    const ns = Number(process.hrtime.bigint() - t0) / RECORDS;
    if (run > 0) samples.push(ns); // first run warms up the JIT
    if (run === 1) heapPerRecord = (process.memoryUsage().heapUsed - heap0) / RECORDS;
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
  console.log(`${name.padEnd(24)} ${mean.toFixed(0).padStart(6)} ns/record ± ${sd.toFixed(0)}  ` +
    `(${rec.length} B${gc ? `, ~${heapPerRecord.toFixed(0)} heap B/record before GC` : ''})${sink < 0 ? '' : ''}`);
}
