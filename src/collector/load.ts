/**
 * Opens, configures, loads and attaches build/exec_trace.bpf.o through
 * libbpf, and undoes whatever succeeded when a later step fails. close()
 * detaches and frees in reverse order and may be called any number of times.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { AncestrydError, isAncestrydError } from '../errors';
import { EtConfig, EtCounter, Kind, Limits } from './layout';
import { BPF_TRACE_ITER, CLOCK_BOOTTIME, clockNs, describeErrno, EINTR, loadNative, withSignalsBlocked, type Native, type Ptr } from './libbpf';
import { seenDropsOf } from './consumer-state';
import {
  LINK_PREFIX, linkNames, listPinnedSets, lockPinRoot, openSet, PIN_ITER, pinSetName, publishSet, removeSet, replacedName,
  stagingDir, unpinLinks, type PinnedSet,
} from './pins';

/** What the programs are made of: the object and the settings written into it at load. */
export interface ProgramSettings {
  objectPath: string;
  /** Ancestors walked per exec in the kernel (1..ET_CHAIN_MAX). */
  chainDepth: number;
  /** argv bytes copied per exec (0..ET_ARGV_MAX). */
  argvMaxBytes: number;
  /** Pending bytes that force a consumer wakeup. */
  wakeupBytes: number;
  /** Ring buffer size: a power of two, at least one page. */
  ringBytes: number;
  /** Report failed execs (fexit or the syscall-exit tracepoints, failedExecHook). */
  execFailed: boolean;
  /**
   * Which programs report failed execs. open() fills it in when unset: fexit
   * where this kernel loads it (fexitRefusal), else the tracepoints.
   */
  failedExecHook?: FailedExecHook;
  /** More programs to attach by name (the benchmark object's synthetic source). */
  extraPrograms?: readonly string[];
}

export interface ProgramOptions extends ProgramSettings {
  /**
   * bpf_pin: the bpffs directory of pinned sets (src/collector/pins.ts); the
   * programs then stay attached when the daemon stops. Unset: load, and
   * detach at close.
   */
  pinRoot?: string | null;
  /** libbpf's own messages, for the daemon's log. */
  onLibbpfMessage?: (level: LibbpfLevel, message: string) => void;
}

export type LibbpfLevel = 'warn' | 'info' | 'debug';

export type CounterKind = 'exec' | 'exec_failed' | 'fork' | 'exit';
export type KernelCounters = Record<CounterKind, { emitted: number; dropped: number }>;

const PROGRAMS_ALWAYS = ['et_exec', 'et_fork', 'et_exit'] as const;
/**
 * Failed execs, by hook. fexit costs other syscalls nothing; the syscall-exit
 * tracepoints move every syscall on the host to the slow path while attached
 * (+55–72 ns per syscall, `make bench`), and need tracefs.
 */
const PROGRAMS_EXEC_FAILED = {
  fexit: ['et_execve_fexit', 'et_execveat_fexit'],
  tracepoint: ['et_execve_exit', 'et_execveat_exit'],
} as const;
export type FailedExecHook = keyof typeof PROGRAMS_EXEC_FAILED;
const FAILED_EXEC_PROGRAMS: ReadonlySet<string> = new Set([...PROGRAMS_EXEC_FAILED.fexit, ...PROGRAMS_EXEC_FAILED.tracepoint]);
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

/** How this daemon came by its kernel side (bpf_pin). */
export type PinState = 'off' | 'created' | 'adopted';

/**
 * A pinned set of another build or other settings, found at start: its
 * programs are detached once ours are attached, and its ring is drained
 * (Collector) before it is removed.
 */
export interface RetiredSet {
  readonly name: string;
  dir: string;
  readonly wireVersion: number | null;
  readonly ringFd: number;
  readonly ringBytes: number;
  readonly countersFd: number;
  /** Its ring's drops its last daemon had not accounted for. */
  readonly droppedWhileDown: Record<CounterKind, number>;
}

/** The kernel objects the daemon reads, whether it loaded them or found them pinned. */
interface Parts {
  obj: Ptr | null;
  links: Ptr[];
  attached: string[];
  ringFd: number;
  ringBytes: number;
  consumerFd: number;
  countersFd: number;
  iterFd: number;
  /** fds from bpf_obj_get (adopted sets), closed by close(). */
  ownFds: number[];
  pinState: PinState;
  pinDir: string | null;
}

export class ExecTraceProgram {
  private obj: Ptr | null;
  private links: Ptr[];
  private readonly n: Native;
  readonly ringFd: number;
  readonly ringBytes: number;
  /** The mmapable et_consumer map: the drain's sleeping flag and the daemon's identity. */
  readonly consumerFd: number;
  private readonly countersFd: number;
  private readonly iterFd: number;
  private ownFds: number[];
  private readonly ncpu: number;
  readonly attached: string[];
  pinState: PinState;
  /** The pinned set's directory; null when not pinned. */
  pinDir: string | null;
  /** Why bpf_pin could not pin (the programs run unpinned), or null. */
  pinProblem: string | null = null;
  /** The pin root's lock (lockPinRoot), held while this daemon runs; -1 unpinned. */
  lockFd = -1;
  /** Sets replaced at this start (an upgrade); the collector drains and removes them. */
  retired: RetiredSet[] = [];
  /** CLOCK_BOOTTIME from before our attach to after the retired sets' detach: both rings saw events then. */
  overlap: { fromNs: number; toNs: number } | null = null;
  /** Why failed execs do not come from fexit here (the kernel's refusal), or null. */
  fexitRefusal: string | null = null;

  private constructor(n: Native, p: Parts) {
    this.n = n;
    this.obj = p.obj;
    this.links = p.links;
    this.attached = p.attached;
    this.ringFd = p.ringFd;
    this.ringBytes = p.ringBytes;
    this.consumerFd = p.consumerFd;
    this.countersFd = p.countersFd;
    this.iterFd = p.iterFd;
    this.ownFds = p.ownFds;
    this.pinState = p.pinState;
    this.pinDir = p.pinDir;
    this.ncpu = n.bpf.libbpf_num_possible_cpus();
  }

  /** Which hook reports failed execs, from the programs attached (a pinned set's too); null when off. */
  get failedExecHook(): FailedExecHook | null {
    for (const hook of ['fexit', 'tracepoint'] as const) if (this.attached.includes(PROGRAMS_EXEC_FAILED[hook][0])) return hook;
    return null;
  }

  /**
   * Without opts.pinRoot: open → configure → load → attach; on failure
   * nothing stays loaded. With it: adopt the pinned set made exactly as this
   * daemon would make it, or load, attach and pin a new one, detaching any
   * other set only once the new programs are attached (no instant with
   * nothing attached).
   */
  static open(given: ProgramOptions): ExecTraceProgram {
    validate(given);
    const n = loadNative();
    installPrint(n);
    const refusal = given.execFailed && given.failedExecHook === undefined ? fexitRefusal(given.objectPath) : null;
    const opts: ProgramOptions = given.execFailed
      ? { ...given, failedExecHook: given.failedExecHook ?? (refusal === null ? 'fexit' : 'tracepoint') }
      : given;
    const p = ExecTraceProgram.openWith(n, opts);
    if (refusal !== null) p.fexitRefusal = refusal;
    return p;
  }

  /** load(), and when fexit passed the probe but this load refuses it, the tracepoints instead. */
  private static loadFalling(n: Native, opts: ProgramOptions, pin: { staging: string; dir: string } | null): ExecTraceProgram {
    try {
      return ExecTraceProgram.load(n, opts, pin);
    } catch (err) {
      if (opts.failedExecHook !== 'fexit') throw err;
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      opts.onLibbpfMessage?.('warn', `failed execs: fexit refused (${why}); using the syscall tracepoints`);
      const p = ExecTraceProgram.load(n, { ...opts, failedExecHook: 'tracepoint' }, pin);
      p.fexitRefusal = why;
      return p;
    }
  }

  private static openWith(n: Native, opts: ProgramOptions): ExecTraceProgram {
    if (!opts.pinRoot) return ExecTraceProgram.loadFalling(n, opts, null);
    const root = opts.pinRoot;
    const lockFd = lockPinRoot(n, root);
    const retired: RetiredSet[] = [];
    try {
      const name = pinSetName(opts);
      const dir = join(root, name);
      const sets = listPinnedSets(root);
      const own = sets.find((s) => s.name === name);
      // Sets of other builds or settings: an upgrade, or one a killed upgrade left behind.
      for (const s of sets) if (s !== own) retired.push(openRetired(n, s));
      let p: ExecTraceProgram;
      if (own !== undefined && missingLinks(dir, programNames(opts)).length === 0) {
        p = ExecTraceProgram.adopt(n, dir);
        for (const r of retired) unpinLinks(r.dir);
      } else {
        if (own !== undefined) {
          // Someone removed a link: a blind spot. Drain it like an old set and pin a whole one.
          opts.onLibbpfMessage?.('warn', `pinned set ${dir} lacks ${missingLinks(dir, programNames(opts)).join(', ')}: replacing it`);
          own.dir = replacedName(dir);
          renameSync(dir, own.dir);
          retired.push(openRetired(n, own));
        }
        const fromNs = clockNs(n, CLOCK_BOOTTIME);
        p = ExecTraceProgram.loadFalling(n, opts, { staging: stagingDir(root), dir });
        for (const r of retired) unpinLinks(r.dir);
        if (retired.length > 0) p.overlap = { fromNs, toNs: clockNs(n, CLOCK_BOOTTIME) };
      }
      p.retired = retired;
      p.lockFd = lockFd;
      return p;
    } catch (err) {
      for (const r of retired) closeRetired(n, r);
      n.c.close(lockFd);
      throw err;
    }
  }

  private static load(n: Native, opts: ProgramOptions, pin: { staging: string; dir: string } | null): ExecTraceProgram {
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
      let p: ExecTraceProgram | null = null;
      try {
        configure(n, obj, opts);
        const err = withSignalsBlocked(n, () => n.bpf.bpf_object__load(obj));
        if (err < 0) {
          throw new AncestrydError('ANC_BPF_LOAD', `loading ${opts.objectPath} failed: ${describeErrno(n, err)}`
            + loadHint(-err) + verifierTail(log));
        }
        p = new ExecTraceProgram(n, {
          obj, links: [], attached: [], ringFd: mapFd(n, obj, 'et_ring'), ringBytes: n.bpf.bpf_map__max_entries(findMap(n, obj, 'et_ring')),
          consumerFd: mapFd(n, obj, 'et_consumer'), countersFd: mapFd(n, obj, 'et_counters'),
          iterFd: n.bpf.bpf_program__fd(findProgram(n, obj, ITER_PROGRAM)), ownFds: [],
          pinState: pin === null ? 'off' : 'created', pinDir: pin === null ? null : pin.dir,
        });
        p.attach(programNames(opts));
        if (pin !== null) {
          try {
            p.pinInto(pin.staging);
            publishSet(pin.staging, pin.dir);
          } catch (err) {
            if (!isAncestrydError(err) || err.code !== 'ANC_BPF_PIN') throw err;
            // Kernels before 5.15 attach syscall tracepoints without a BPF
            // link, which cannot be pinned: run as with bpf_pin=false, and say so.
            removeSet(pin.staging);
            p.pinProblem = err.message;
            p.pinState = 'off';
            p.pinDir = null;
            opts.onLibbpfMessage?.('warn', `${err.message}: the programs are not pinned and detach when the daemon stops`);
          }
        }
        return p;
      } catch (err) {
        if (p !== null) p.close(false);
        else n.bpf.bpf_object__close(obj);
        if (pin !== null) removeSet(pin.staging);
        throw err;
      }
    } finally {
      printSink = opts.onLibbpfMessage ? (l, m) => opts.onLibbpfMessage?.(l, m.trimEnd()) : null;
    }
  }

  /** Take over a pinned set: its programs stay attached, its ring holds what happened while no daemon ran. */
  private static adopt(n: Native, dir: string): ExecTraceProgram {
    const set = openSet(n, dir, true);
    const attached = linkNames(dir);
    try {
      // Hold each link, as a daemon that loaded them does: pins removed
      // under a running daemon (rm, not `ancestryd unpin`) then leave its
      // programs attached until it stops, and the next start replaces the set.
      for (const name of attached) {
        const fd = n.bpf.bpf_obj_get(join(dir, LINK_PREFIX + name));
        if (fd < 0) throw new AncestrydError('ANC_BPF_PIN', `opening the pinned link ${name} in ${dir} failed: ${describeErrno(n, fd)}`);
        set.fds.push(fd);
      }
    } catch (err) {
      for (const fd of set.fds) n.c.close(fd);
      throw err;
    }
    return new ExecTraceProgram(n, {
      obj: null, links: [], attached, ringFd: set.ringFd, ringBytes: set.ringBytes, consumerFd: set.consumerFd,
      countersFd: set.countersFd, iterFd: set.iterFd, ownFds: set.fds, pinState: 'adopted', pinDir: dir,
    });
  }

  private attach(names: readonly string[]): void {
    const n = this.n;
    for (const name of names) {
      const link = n.bpf.bpf_program__attach(findProgram(n, this.obj!, name));
      if (link === null) {
        const e = n.errno();
        throw new AncestrydError('ANC_BPF_ATTACH', `attaching BPF program ${name} failed: ${describeErrno(n, e)}`
          + (name.endsWith('_exit') && name.includes('execve') ? '; failed-exec events need tracefs: mount -t tracefs tracefs /sys/kernel/tracing, or set exec_failed_events=false' : ''));
      }
      this.links.push(link);
      this.attached.push(name);
    }
  }

  private pinInto(dir: string): void {
    const n = this.n;
    const pin = (fd: number, file: string): void => {
      const rc = n.bpf.bpf_obj_pin(fd, join(dir, file));
      if (rc < 0) throw new AncestrydError('ANC_BPF_PIN', `pinning ${join(dir, file)} failed: ${describeErrno(n, rc)}`);
    };
    pin(this.ringFd, 'et_ring');
    pin(this.consumerFd, 'et_consumer');
    pin(this.countersFd, 'et_counters');
    pin(this.iterFd, PIN_ITER);
    for (let i = 0; i < this.links.length; i++) pin(n.bpf.bpf_link__fd(this.links[i]), LINK_PREFIX + this.attached[i]);
  }

  /** Per-kind records written and reserve failures, summed over CPUs (a pinned set's since it was made). */
  readCounters(): KernelCounters {
    return readCounters(this.n, this.countersFd, this.ncpu);
  }

  /**
   * Run the task iterator once: a snapshot of every live thread group as
   * concatenated et_task records.
   */
  snapshotTasks(): Buffer {
    const n = this.n;
    const link = n.bpf.bpf_link_create(this.iterFd, 0, BPF_TRACE_ITER, null);
    if (link < 0) {
      throw new AncestrydError('ANC_BPF_ATTACH', `attaching the task iterator failed: ${describeErrno(n, link)}`);
    }
    try {
      const fd = n.bpf.bpf_iter_create(link);
      if (fd < 0) throw new AncestrydError('ANC_BPF_ATTACH', `bpf_iter_create failed: ${describeErrno(n, fd)}`);
      try {
        const chunks: Buffer[] = [];
        for (;;) {
          const chunk = Buffer.alloc(64 * 1024);
          const got = n.c.read(fd, chunk, chunk.length);
          if (got < 0) {
            const e = n.errno();
            if (e === EINTR) continue;
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
      n.c.close(link);
    }
  }

  /** Stop producing records; the maps (and what is in the ring) stay until close(). Not for a pinned set. */
  detach(): void {
    for (let i = this.links.length - 1; i >= 0; i--) this.n.bpf.bpf_link__destroy(this.links[i]);
    this.links = [];
    this.attached.length = 0;
  }

  /**
   * Free what this process holds. keepPinned: a pinned set's programs stay
   * attached and its maps pinned for the next daemon; otherwise the links
   * are destroyed (detaching the programs) first.
   */
  close(keepPinned = true): void {
    const n = this.n;
    if (keepPinned && this.pinState !== 'off') {
      // bpf_link__destroy would detach (a perf link's detach also disables
      // its perf event, which outlives the pin): disconnect, then close the fd only.
      for (const l of this.links) {
        const fd = n.bpf.bpf_link__fd(l);
        n.bpf.bpf_link__disconnect(l);
        n.bpf.bpf_link__destroy(l);
        if (fd >= 0) n.c.close(fd);
      }
      this.links = [];
    } else {
      this.detach();
    }
    if (this.obj !== null) {
      n.bpf.bpf_object__close(this.obj);
      this.obj = null;
    }
    for (const fd of this.ownFds) n.c.close(fd);
    this.ownFds = [];
    if (this.lockFd >= 0) n.c.close(this.lockFd);
    this.lockFd = -1;
  }
}


/** The programs a set made with these options attaches. */
function programNames(opts: ProgramOptions): string[] {
  return [...PROGRAMS_ALWAYS, ...(opts.execFailed ? PROGRAMS_EXEC_FAILED[opts.failedExecHook ?? 'tracepoint'] : []),
    ...(opts.extraPrograms ?? [])];
}

/**
 * Why this kernel will not load the fexit programs (its error), or null when
 * it does: a load of those alone, with a one-page ring. Asked once per object
 * file: a kernel that refuses trampolines (lockdown, no
 * CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, our VM's EPERM) keeps refusing.
 */
export function fexitRefusal(objectPath: string): string | null {
  const known = fexitProbes.get(objectPath);
  if (known !== undefined) return known;
  const n = loadNative();
  installPrint(n);
  const saved = printSink;
  // The probe's refusal is expected on many kernels: not worth libbpf's warnings in the log.
  printSink = () => undefined;
  let answer: string | null;
  try {
    const obj = n.bpf.bpf_object__open_file(objectPath, null);
    if (obj === null) return `opening ${objectPath} failed: ${describeErrno(n, n.errno())}`;
    try {
      configure(n, obj, {
        objectPath, chainDepth: 1, argvMaxBytes: 0, wakeupBytes: 0, ringBytes: 4096, execFailed: true, failedExecHook: 'fexit',
      }, new Set(PROGRAMS_EXEC_FAILED.fexit));
      const err = withSignalsBlocked(n, () => n.bpf.bpf_object__load(obj));
      answer = err < 0 ? describeErrno(n, err) : null;
    } catch (err) {
      answer = err instanceof Error ? err.message : String(err);
    } finally {
      n.bpf.bpf_object__close(obj);
    }
  } finally {
    printSink = saved;
  }
  fexitProbes.set(objectPath, answer);
  return answer;
}

const fexitProbes = new Map<string, string | null>();

function missingLinks(dir: string, expected: readonly string[]): string[] {
  const have = new Set(linkNames(dir));
  return expected.filter((name) => !have.has(name));
}

/** Open the maps of a set to be replaced (refused while a running daemon drains it). */
function openRetired(n: Native, s: PinnedSet): RetiredSet {
  const set = openSet(n, s.dir, false);
  try {
    const seen = seenDropsOf(n, set.consumerFd, set.consumerValueSize);
    const counters = readCounters(n, set.countersFd, n.bpf.libbpf_num_possible_cpus());
    return {
      name: s.name, dir: s.dir, wireVersion: s.wireVersion, ringFd: set.ringFd, ringBytes: set.ringBytes, countersFd: set.countersFd,
      droppedWhileDown: droppedSince(counters, seen),
    };
  } catch (err) {
    n.c.close(set.ringFd);
    n.c.close(set.countersFd);
    throw err;
  } finally {
    n.c.close(set.consumerFd);
  }
}

/** Drops per kind the counters hold beyond what a daemon accounted for. */
export function droppedSince(c: KernelCounters, seen: Record<CounterKind, number>): Record<CounterKind, number> {
  const out = {} as Record<CounterKind, number>;
  for (const k of Object.keys(seen) as CounterKind[]) out[k] = Math.max(0, c[k].dropped - seen[k]);
  return out;
}

export function closeRetired(n: Native, r: RetiredSet): void {
  n.c.close(r.ringFd);
  n.c.close(r.countersFd);
}

export function readCounters(n: Native, countersFd: number, ncpu: number): KernelCounters {
  const out = {} as KernelCounters;
  const kinds: [CounterKind, number][] = [
    ['exec', Kind.ET_KIND_EXEC], ['exec_failed', Kind.ET_KIND_EXEC_FAILED],
    ['fork', Kind.ET_KIND_FORK], ['exit', Kind.ET_KIND_EXIT],
  ];
  const key = Buffer.alloc(4);
  const value = Buffer.alloc(EtCounter.size * ncpu);
  for (const [name, kind] of kinds) {
    key.writeUInt32LE(kind);
    if (n.bpf.bpf_map_lookup_elem(countersFd, key, value) < 0) {
      throw new AncestrydError('ANC_BPF_LOAD', `reading et_counters failed: ${describeErrno(n, n.errno())}`);
    }
    let emitted = 0;
    let dropped = 0;
    for (let cpu = 0; cpu < ncpu; cpu++) {
      emitted += Number(value.readBigUInt64LE(cpu * EtCounter.size + EtCounter.fields.emitted[0]));
      dropped += Number(value.readBigUInt64LE(cpu * EtCounter.size + EtCounter.fields.dropped[0]));
    }
    out[name] = { emitted, dropped };
  }
  return out;
}

function findMap(n: Native, obj: Ptr, name: string): Ptr {
  const m = n.bpf.bpf_object__find_map_by_name(obj, name);
  if (m === null) throw new AncestrydError('ANC_BPF_LOAD', `map ${name} is missing from the BPF object: rebuild it with "make"`);
  return m;
}

function mapFd(n: Native, obj: Ptr, name: string): number {
  const fd = n.bpf.bpf_map__fd(findMap(n, obj, name));
  if (fd < 0) throw new AncestrydError('ANC_BPF_LOAD', `map ${name} has no fd: ${describeErrno(n, fd)}`);
  return fd;
}

function findProgram(n: Native, obj: Ptr, name: string): Ptr {
  const p = n.bpf.bpf_object__find_program_by_name(obj, name);
  if (p === null) throw new AncestrydError('ANC_BPF_LOAD', `program ${name} is missing from the BPF object: rebuild it with "make"`);
  return p;
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

/** Patch .rodata and map sizes between open and load, and choose the programs that load. */
function configure(n: Native, obj: Ptr, o: ProgramOptions, only?: ReadonlySet<string>): void {
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
  img.writeBigUInt64LE(BigInt(o.wakeupBytes), f.wakeup_bytes[0]);
  check(n, n.bpf.bpf_map__set_initial_value(rodata, img, img.length), 'setting .rodata');
  check(n, n.bpf.bpf_map__set_max_entries(find('et_ring'), o.ringBytes), 'sizing et_ring');
  check(n, n.bpf.bpf_map__set_max_entries(find('et_scratch'), SLOTS_PER_CPU * n.bpf.libbpf_num_possible_cpus()), 'sizing et_scratch');
  // Of the failed-exec programs only the chosen hook's load (fexit ones fail to
  // load where trampolines are refused); `only`: nothing else either (the probe).
  const wanted: ReadonlySet<string> = new Set(o.execFailed ? PROGRAMS_EXEC_FAILED[o.failedExecHook ?? 'tracepoint'] : []);
  for (let p = n.bpf.bpf_object__next_program(obj, null); p !== null; p = n.bpf.bpf_object__next_program(obj, p)) {
    const name = n.bpf.bpf_program__name(p);
    const load = only !== undefined ? only.has(name) : !FAILED_EXEC_PROGRAMS.has(name) || wanted.has(name);
    if (!load) check(n, n.bpf.bpf_program__set_autoload(p, false), `disabling ${name}`);
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
