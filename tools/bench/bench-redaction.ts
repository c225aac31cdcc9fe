/**
 * cmdline_redaction_patterns' cost per command line with the default
 * patterns: typical command lines, then the costliest hostile arguments
 * found (a word or separator repeated), at 4 KiB (bpf_argv_max_bytes'
 * default) and 32 KiB (its maximum). Linear patterns give 32 KiB ≈ 8× 4 KiB;
 * a pattern that backtracks shows up here as seconds, not microseconds.
 */
import { ArgvRedactor, DEFAULT_REDACTION_PATTERNS } from '../../src/ancestry/argv-redaction';
import { Flags } from '../lib/cli-args';
import { argvOf } from '../../test/support/argv';

const flags = new Flags('usage: npm run bench:redaction -- [--lines 1000000] [--hostile-lines 200] [--runs 3]', {
  lines: { type: 'string', default: '1000000' }, 'hostile-lines': { type: 'string', default: '200' }, runs: { type: 'string', default: '3' },
});
const LINES = flags.number('lines', { integer: true, min: 1 });
const HOSTILE_LINES = flags.number('hostile-lines', { integer: true, min: 1 });
const RUNS = flags.number('runs', { integer: true, min: 1 });

const redactor = new ArgvRedactor(DEFAULT_REDACTION_PATTERNS);

function measure(lists: string[][], n: number): string {
  const set = lists.map(argvOf); // the form the pipeline hands the redactor (it masks in place: argvOf per call would be timed too)
  const us: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let sink = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const a = set[i % set.length];
      redactor.redact(a);
      sink += a.argvText.length;
    }
    us.push(Number(process.hrtime.bigint() - t0) / n / 1000);
    if (sink < 0) console.log(sink);
  }
  us.sort((a, b) => a - b);
  return `${us[us.length >> 1].toFixed(3)} µs (${us[0].toFixed(3)}–${us[us.length - 1].toFixed(3)})`;
}

const typical = [
  ['/usr/bin/git', 'status', '--porcelain'], ['/bin/bash', '-c', 'step 1234 && make -j8 all'],
  ['/usr/bin/curl', '-fsSL', 'https://example.invalid/install.sh'], ['/bin/true'],
  ['/usr/lib/jvm/bin/java', '-Xmx2g', '-cp', '/opt/app/lib/a.jar:/opt/app/lib/b.jar', 'com.example.Main', '--port', '8080'],
];
console.log(`# redaction, default patterns: median (min–max) of ${RUNS} runs per command line`);
console.log(`typical command lines          ${measure(typical, LINES)}`);
for (const unit of ['password', '--token', '--password ', 'password=', 'authorization: ', '://', 'x://a:', 'a']) {
  const row = [4, 32].map((kb) => {
    const arg = unit.repeat(Math.ceil((kb * 1024) / unit.length)).slice(0, kb * 1024);
    return `${kb} KiB ${measure([['x', arg]], HOSTILE_LINES)}`;
  });
  console.log(`${JSON.stringify(unit).padEnd(18)} repeated   ${row.join('   ')}`);
}
