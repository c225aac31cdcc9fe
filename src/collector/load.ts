/**
 * Opens, configures, loads and attaches build/exec_trace.bpf.o through
 * libbpf, and undoes whatever succeeded when a later step fails. close()
 * detaches and frees in reverse order and may be called any number of times.
 */
import { AncestrydError } from '../errors';
import { EtConfig, EtCounter, Kind, Limits } from './layout';
import { describeErrno, loadNative, withSignalsBlocked, type Native, type Ptr } from './libbpf';

export interface ProgramOptions {
  objectPath: string;
  /** Ancestors walked per exec in the kernel (1..ET_CHAIN_MAX). */
  chainDepth: number;
  /** argv bytes copied per exec (0..ET_ARGV_MAX). */
  argvMaxBytes: number;
  /** Events of this thread group are not reported (the daemon itself). */
  selfTgid: number;
  /** Pending bytes that force a consumer wakeup. */
  wakeupBytes: number;
  /** Ring buffer size: a power of two, at least one page. */
  ringBytes: number;
  /** Attach the syscall-exit tracepoints that report failed execs. */
  execFailed: boolean;
  /** More programs to attach by name (the benchmark object's synthetic source). */
  extraPrograms?: readonly string[];
  /** libbpf's own messages, for the daemon's log. */
  onLibbpfMessage?: (level: LibbpfLevel, message: string) => void;
}

export type LibbpfLevel = 'warn' | 'info' | 'debug';

export type CounterKind = 'exec' | 'exec_failed' | 'fork' | 'exit';
export type KernelCounters = Record<CounterKind, { emitted: number; dropped: number }>;

const PROGRAMS_ALWAYS = ['et_exec', 'et_fork', 'et_exit'] as const;
const PROGRAMS_EXEC_FAILED = ['et_execve_exit', 'et_execveat_exit'] as const;
const ITER_PROGRAM = 'et_task_iter';
const SLOTS_PER_CPU = 2;
const LEVELS: LibbpfLevel[] = ['warn', 'info', 'debug'];

/** libbpf's print hook is process-global; messages go to whichever program is loading. */
let printSink: ((level: LibbpfLevel, msg: string) => void) | null = null;
let printRegistered = false;
const printBuf = Buffer.alloc(16384);

function installPrint(n: Native): void {
  if (printRegistered) return;
  const cb = n.register(((level: number, fmt: string, ap: Ptr) => {
    const sink = printSink;
    if (!sink) return 0;
    const len = n.c.vsnprintf(printBuf, printBuf.length, fmt, ap);
    sink(LEVELS[level] ?? 'debug', printBuf.toString('utf8', 0, Math.max(0, Math.min(len, printBuf.length - 1))));
    return 0;
  }) as never, n.printFn);
  n.bpf.libbpf_set_print(cb);
  printRegistered = true;
}

export class ExecTraceProgram {
  private obj: Ptr | null;
  private links: Ptr[] = [];
  private readonly n: Native;
  readonly ringFd: number;
  readonly ringBytes: number;
  /** The mmapable et_consumer map: the drain's sleeping flag. */
  readonly consumerFd: number;
  private readonly countersFd: number;
  private readonly iterProg: Ptr;
  private readonly ncpu: number;
  readonly attached: string[] = [];

  private constructor(n: Native, obj: Ptr, opts: ProgramOptions) {
    this.n = n;
    this.obj = obj;
    this.ncpu = n.bpf.libbpf_num_possible_cpus();
    this.ringFd = this.mapFd('et_ring');
    this.ringBytes = n.bpf.bpf_map__max_entries(this.map('et_ring'));
    this.consumerFd = this.mapFd('et_consumer');
    this.countersFd = this.mapFd('et_counters');
    this.iterProg = this.program(ITER_PROGRAM);
    const names = [...PROGRAMS_ALWAYS, ...(opts.execFailed ? PROGRAMS_EXEC_FAILED : []), ...(opts.extraPrograms ?? [])];
    for (const name of names) {
      const link = n.bpf.bpf_program__attach(this.program(name));
      if (link === null) {
        const e = n.errno();
        this.close();
        throw new AncestrydError('ANC_BPF_ATTACH', `attaching BPF program ${name} failed: ${describeErrno(n, e)}`
          + (name.includes('execve') ? '; failed-exec events need tracefs: mount -t tracefs tracefs /sys/kernel/tracing, or set exec_failed_events=false' : ''));
      }
      this.links.push(link);
      this.attached.push(name);
    }
  }

  /** Open → configure → load → attach; on failure nothing stays loaded. */
  static open(opts: ProgramOptions): ExecTraceProgram {
    validate(opts);
    const n = loadNative();
    installPrint(n);
    const log: string[] = [];
    printSink = (level, msg) => {
      if (level !== 'debug') log.push(msg);
      opts.onLibbpfMessage?.(level, msg.trimEnd());
    };
    try {
      const obj = n.bpf.bpf_object__open_file(opts.objectPath, null);
      if (obj === null) {
        const e = n.errno();
        throw new AncestrydError('ANC_BPF_LOAD', `opening ${opts.objectPath} failed: ${describeErrno(n, e)}`
          + (Math.abs(e) === 2 ? '; build it with "make"' : ''));
      }
      try {
        configure(n, obj, opts);
        const err = withSignalsBlocked(n, () => n.bpf.bpf_object__load(obj));
        if (err < 0) {
          throw new AncestrydError('ANC_BPF_LOAD', `loading ${opts.objectPath} failed: ${describeErrno(n, err)}`
            + loadHint(-err) + verifierTail(log));
        }
        return new ExecTraceProgram(n, obj, opts);
      } catch (err) {
        n.bpf.bpf_object__close(obj);
        throw err;
      }
    } finally {
      printSink = opts.onLibbpfMessage ? (l, m) => opts.onLibbpfMessage?.(l, m.trimEnd()) : null;
    }
  }

  /** Per-kind records written and reserve failures, summed over CPUs. */
  readCounters(): KernelCounters {
    const out = {} as KernelCounters;
    const kinds: [CounterKind, number][] = [
      ['exec', Kind.ET_KIND_EXEC], ['exec_failed', Kind.ET_KIND_EXEC_FAILED],
      ['fork', Kind.ET_KIND_FORK], ['exit', Kind.ET_KIND_EXIT],
    ];
    const key = Buffer.alloc(4);
    const value = Buffer.alloc(EtCounter.size * this.ncpu);
    for (const [name, kind] of kinds) {
      key.writeUInt32LE(kind);
      if (this.n.bpf.bpf_map_lookup_elem(this.countersFd, key, value) < 0) {
        throw new AncestrydError('ANC_BPF_LOAD', `reading et_counters failed: ${describeErrno(this.n, this.n.errno())}`);
      }
      let emitted = 0;
      let dropped = 0;
      for (let cpu = 0; cpu < this.ncpu; cpu++) {
        emitted += Number(value.readBigUInt64LE(cpu * EtCounter.size + EtCounter.fields.emitted[0]));
        dropped += Number(value.readBigUInt64LE(cpu * EtCounter.size + EtCounter.fields.dropped[0]));
      }
      out[name] = { emitted, dropped };
    }
    return out;
  }

  /**
   * Run the task iterator once: a snapshot of every live thread group as
   * concatenated et_task records.
   */
  snapshotTasks(): Buffer {
    const n = this.n;
    const link = n.bpf.bpf_program__attach_iter(this.iterProg, null);
    if (link === null) {
      throw new AncestrydError('ANC_BPF_ATTACH', `attaching the task iterator failed: ${describeErrno(n, n.errno())}`);
    }
    try {
      const fd = n.bpf.bpf_iter_create(n.bpf.bpf_link__fd(link));
      if (fd < 0) throw new AncestrydError('ANC_BPF_ATTACH', `bpf_iter_create failed: ${describeErrno(n, fd)}`);
      try {
        const chunks: Buffer[] = [];
        for (;;) {
          const chunk = Buffer.alloc(64 * 1024);
          const got = n.c.read(fd, chunk, chunk.length);
          if (got < 0) {
            const e = n.errno();
            if (e === 4) continue; // EINTR
            throw new AncestrydError('ANC_BPF_ATTACH', `reading the task iterator failed: ${describeErrno(n, e)}`);
          }
          if (got === 0) break;
          chunks.push(chunk.subarray(0, got));
        }
        return Buffer.concat(chunks);
      } finally {
        n.c.close(fd);
      }
    } finally {
      n.bpf.bpf_link__destroy(link);
    }
  }

  /** Stop producing records; the maps (and what is in the ring) stay until close(). */
  detach(): void {
    for (let i = this.links.length - 1; i >= 0; i--) this.n.bpf.bpf_link__destroy(this.links[i]);
    this.links = [];
    this.attached.length = 0;
  }

  close(): void {
    this.detach();
    if (this.obj !== null) {
      this.n.bpf.bpf_object__close(this.obj);
      this.obj = null;
    }
  }

  private map(name: string): Ptr {
    const m = this.obj === null ? null : this.n.bpf.bpf_object__find_map_by_name(this.obj, name);
    if (m === null) throw new AncestrydError('ANC_BPF_LOAD', `map ${name} is missing from the BPF object: rebuild it with "make"`);
    return m;
  }

  private mapFd(name: string): number {
    const fd = this.n.bpf.bpf_map__fd(this.map(name));
    if (fd < 0) throw new AncestrydError('ANC_BPF_LOAD', `map ${name} has no fd: ${describeErrno(this.n, fd)}`);
    return fd;
  }

  private program(name: string): Ptr {
    const p = this.obj === null ? null : this.n.bpf.bpf_object__find_program_by_name(this.obj, name);
    if (p === null) throw new AncestrydError('ANC_BPF_LOAD', `program ${name} is missing from the BPF object: rebuild it with "make"`);
    return p;
  }
}

function validate(o: ProgramOptions): void {
  const bad = (what: string) => { throw new AncestrydError('ANC_CONFIG_INVALID', what); };
  if (!Number.isInteger(o.chainDepth) || o.chainDepth < 1 || o.chainDepth > Limits.ET_CHAIN_MAX) {
    bad(`chain depth ${o.chainDepth} is out of range [1, ${Limits.ET_CHAIN_MAX}]`);
  }
  if (!Number.isInteger(o.argvMaxBytes) || o.argvMaxBytes < 0 || o.argvMaxBytes > Limits.ET_ARGV_MAX) {
    bad(`argv bytes ${o.argvMaxBytes} is out of range [0, ${Limits.ET_ARGV_MAX}]`);
  }
  if (!Number.isInteger(o.ringBytes) || o.ringBytes < 4096 || (o.ringBytes & (o.ringBytes - 1)) !== 0) {
    bad(`ring buffer size ${o.ringBytes} must be a power of two of at least 4096 bytes`);
  }
}

/** Patch .rodata and map sizes between open and load. */
function configure(n: Native, obj: Ptr, o: ProgramOptions): void {
  const find = (name: string): Ptr => {
    const m = n.bpf.bpf_object__find_map_by_name(obj, name);
    if (m === null) throw new AncestrydError('ANC_BPF_LOAD', `map ${name} is missing from ${o.objectPath}: rebuild it with "make"`);
    return m;
  };
  const rodata = find('.rodata');
  const size = [0];
  const cur = n.bpf.bpf_map__initial_value(rodata, size);
  if (cur === null || size[0] < EtConfig.size) {
    throw new AncestrydError('ANC_BPF_LOAD', `.rodata of ${o.objectPath} is ${size[0]} bytes, expected at least ${EtConfig.size}: rebuild it with "make"`);
  }
  // et_cfg is the only .rodata variable, at offset 0; the layout test keeps it so.
  const img = Buffer.from(n.view(cur, size[0]));
  const f = EtConfig.fields;
  img.writeUInt32LE(o.chainDepth, f.chain_depth[0]);
  img.writeUInt32LE(o.argvMaxBytes, f.argv_max_bytes[0]);
  img.writeUInt32LE(o.selfTgid >>> 0, f.self_tgid[0]);
  img.writeUInt32LE(0, f._pad[0]);
  img.writeBigUInt64LE(BigInt(o.wakeupBytes), f.wakeup_bytes[0]);
  check(n, n.bpf.bpf_map__set_initial_value(rodata, img, img.length), 'setting .rodata');
  check(n, n.bpf.bpf_map__set_max_entries(find('et_ring'), o.ringBytes), 'sizing et_ring');
  check(n, n.bpf.bpf_map__set_max_entries(find('et_scratch'), SLOTS_PER_CPU * n.bpf.libbpf_num_possible_cpus()), 'sizing et_scratch');
  if (!o.execFailed) {
    for (const name of PROGRAMS_EXEC_FAILED) {
      const p = n.bpf.bpf_object__find_program_by_name(obj, name);
      if (p !== null) check(n, n.bpf.bpf_program__set_autoload(p, false), `disabling ${name}`);
    }
  }
}

function check(n: Native, rc: number, step: string): void {
  if (rc < 0) throw new AncestrydError('ANC_BPF_LOAD', `${step} failed: ${describeErrno(n, rc)}`);
}

function loadHint(errno: number): string {
  if (errno === 1) return '; run as root or grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE';
  if (errno === 13) return '; the verifier rejected a program (log below)';
  return '';
}

/** The end of libbpf's messages: on a verifier rejection that is the reason. */
function verifierTail(log: string[]): string {
  if (log.length === 0) return '';
  const text = log.join('').split('\n').filter((l) => l.trim() !== '');
  return '\n' + text.slice(-40).join('\n');
}
