/**
 * Memory of the ancestry engine (issue 3): heap bytes per cached process
 * and process RSS with N cached processes (default 10 000), for typical
 * argv. Records are encoded to wire bytes and decoded with decode.ts, so
 * the table holds exactly what the daemon's table would. Also prints the table's own
 * estimate (stats.estimatedBytes) next to the measurement, to keep that
 * estimate honest.
 *
 * Flags: USAGE below; --exited is the share of the processes that exit.
 */
import { decodeRecord } from '../../src/collector/decode';
import { ancestorJson } from '../../src/events/ancestor-json';
import { SyntheticKernel } from '../../test/ancestry/synthetic-kernel';
import { encodeExec, encodeExit, encodeFork } from '../../test/support/encode';
import { Flags } from '../lib/cli-args';

const flags = new Flags('usage: npm run bench:ancestry-memory -- [--processes 10000] [--exited 0.5]', {
  processes: { type: 'string', default: '10000' }, exited: { type: 'string', default: '0.5' },
});
const N = flags.number('processes', { integer: true, min: 1 });
const EXITED = flags.number('exited', { min: 0, max: 1 });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc: the figures need a full GC before each reading');
  process.exit(2);
}


/** Command lines of the shapes a fleet sees: short tools, interpreters with flags, long JVM/containers. */
const SHAPES: ((i: number) => [string, string[]])[] = [
  (i) => ['/usr/bin/grep', ['grep', '-rn', `pattern${i}`, '/etc']],
  (i) => ['/usr/bin/python3', ['python3', '-m', 'http.server', '--bind', '127.0.0.1', String(8000 + (i % 1000))]],
  (i) => ['/bin/sh', ['sh', '-c', `cd /var/lib/app${i % 97} && ./run.sh --config /etc/app/config.yaml`]],
  (i) => ['/usr/bin/ssh', ['ssh', '-o', 'BatchMode=yes', `deploy@host${i}.example.internal`, 'uptime']],
  (i) => ['/usr/lib/jvm/java-17/bin/java', ['java', '-Xmx512m', '-jar', `/opt/svc${i % 13}/service.jar`, '--spring.profiles.active=prod']],
];

function mib(b: number): string {
  return `${(b / 1048576).toFixed(1)} MiB`;
}

interface Ident {
  pid: number;
  startNs: bigint;
}

function main(): void {
  // The model kernel only for init and the snapshot; the measured records are
  // built here and dropped, so nothing but the table holds on to them.
  const k = new SyntheticKernel();
  const shell = k.preexisting(k.init, '/bin/bash', ['-bash']);
  const t = k.table({ cacheSize: N + 1000, cacheTtlSeconds: 86_400, maxDepth: 32 });
  t.bootstrap(k.snapshot());
  const parents: Ident[] = [{ pid: shell.pid, startNs: shell.startNs }];
  const children: Ident[] = [];
  let now = k.nowNs;
  let nextPid = 1000;
  gc!();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const est0 = t.stats.estimatedBytes;
  let argvBytes = 0;
  const ring = Buffer.alloc(1 << 16);
  const apply = (rec: Buffer) => {
    rec.copy(ring, 0);
    t.apply(decodeRecord(ring, 0, rec.length));
  };
  for (let i = 0; i < N; i++) {
    // A bushy tree: every 8th process is a parent of later ones, as shells and services are.
    const parent = parents[Math.floor(i / 8) % parents.length];
    const me: Ident = { pid: nextPid++, startNs: BigInt(now += 1000) };
    apply(encodeFork({
      parent_tgid: parent.pid, child_tgid: me.pid, parent_start_ns: parent.startNs, child_start_ns: me.startNs,
      creator_tgid: parent.pid, uid: 1000, comm: 'bash',
    }, BigInt(now += 1000)));
    const [path, argv] = SHAPES[i % SHAPES.length](i);
    apply(encodeExec({
      ktimeNs: BigInt(now += 1000),
      fields: {
        tgid: me.pid, tid: me.pid, ppid: parent.pid, uid: 1000, gid: 1000, euid: 1000, egid: 1000, loginuid: 1000,
        sessionid: 3, pid_ns: 4026531836, mnt_ns: 4026531841, start_ns: me.startNs, parent_start_ns: parent.startNs,
        cgroup_id: BigInt(4000 + (i % 50)), comm: path.slice(path.lastIndexOf('/') + 1),
      },
      chain: [{ tgid: parent.pid, startNs: parent.startNs }, { tgid: shell.pid, startNs: shell.startNs }, { tgid: 1, startNs: k.init.startNs }],
      filename: path, argv,
    }));
    argvBytes += argv.reduce((a, s) => a + s.length + 1, 0);
    if (i % 8 === 0) parents.push(me);
    else children.push(me);
  }
  // Some exit (kept: TTL is a day, nothing needs evicting).
  let exited = 0;
  for (const c of children) {
    if (exited >= N * EXITED) break;
    apply(encodeExit({ tgid: c.pid, ppid: 1, start_ns: c.startNs, parent_start_ns: k.init.startNs, exit_code: 0, comm: 'x' }, BigInt(now += 1000)));
    exited++;
  }
  let jsonBytes = 0;
  for (const p of parents) {
    const v = t.lookup(p.pid, p.startNs);
    if (v !== null) jsonBytes += ancestorJson(v).length;
  }
  children.length = 0;
  gc!();
  const m = process.memoryUsage();
  const st = t.stats;
  // The identities kept for the tree above are the benchmark's, not the table's.
  const mine = parents.length * 64;
  const per = (m.heapUsed - heap0 - mine) / N;
  console.log(`# ancestry memory: ${N} processes (${exited} exited, ${st.pinned} pinned), `
    + `mean argv ${(argvBytes / N).toFixed(0)} B, ${parents.length} parents; node ${process.version}`);
  console.log(`heap per cached process      ${per.toFixed(0)} B   (target ≤ 1024 B)`);
  console.log(`table estimate per process   ${((st.estimatedBytes - est0) / N).toFixed(0)} B   (stats.estimatedBytes)`);
  console.log(`heap for ${N}               ${mib(m.heapUsed - heap0)}   (parents' element texts, held by the formats, not the table: ${mib(jsonBytes)})`);
  console.log(`RSS with ${N} cached        ${mib(m.rss)}   (grew ${mib(m.rss - rss0)} from ${mib(rss0)} before)`);
}

main();
