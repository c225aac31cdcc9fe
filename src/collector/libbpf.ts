/**
 * koffi bindings to libbpf.so.1 (Debian libbpf1, 1.1+) and the few libc calls
 * the collector needs. Loaded lazily so that `ancestryd check` can report a
 * missing libbpf instead of crashing on import.
 *
 * koffi 3 facts this relies on: pointers come back as BigInt (or null),
 * opaque types are not checked, `_Out_` parameters take a one-element array,
 * and `fn.async(...args, cb)` runs the call on a worker thread.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { AncestrydError } from '../errors';

export type Ptr = bigint;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
/** mmap's MAP_FAILED as koffi returns it: (void *)-1, not -1. */
export const MAP_FAILED = 0xffffffffffffffffn;
export const SC_PAGESIZE = 30;
export const EPOLL_CTL_ADD = 1;
export const EPOLLIN = 1;
export const EPOLL_CLOEXEC = 0o2000000;
/** struct epoll_event is packed (12 bytes) on x86-64 only. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
export const CLOCK_REALTIME = 0;
export const CLOCK_BOOTTIME = 7;
export const EINTR = 4;
export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;
/** glibc's sigset_t: 1024 bits. */
export const SIGSET_BYTES = 128;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
/** enum bpf_attach_type: a task iterator's link. */
export const BPF_TRACE_ITER = 28;

export interface LibbpfApi {
  libbpf_set_print(fn: unknown): unknown;
  libbpf_num_possible_cpus(): number;
  libbpf_major_version(): number;
  libbpf_minor_version(): number;
  libbpf_probe_bpf_map_type(mapType: number, opts: null): number;
  libbpf_probe_bpf_helper(progType: number, helper: number, opts: null): number;
  bpf_object__open_file(path: string, opts: null): Ptr | null;
  bpf_object__load(obj: Ptr): number;
  bpf_object__close(obj: Ptr): void;
  bpf_object__find_program_by_name(obj: Ptr, name: string): Ptr | null;
  bpf_object__find_map_by_name(obj: Ptr, name: string): Ptr | null;
  bpf_program__set_autoload(prog: Ptr, autoload: boolean): number;
  bpf_object__next_program(obj: Ptr, prev: Ptr | null): Ptr | null;
  bpf_program__name(prog: Ptr): string;
  bpf_program__attach(prog: Ptr): Ptr | null;
  bpf_link__destroy(link: Ptr): number;
  bpf_link__disconnect(link: Ptr): void;
  bpf_link__fd(link: Ptr): number;
  bpf_iter_create(linkFd: number): number;
  bpf_map__fd(map: Ptr): number;
  bpf_map__set_max_entries(map: Ptr, n: number): number;
  bpf_map__max_entries(map: Ptr): number;
  bpf_map__initial_value(map: Ptr, size: number[]): Ptr | null;
  bpf_map__set_initial_value(map: Ptr, data: Buffer, size: number): number;
  bpf_map_lookup_elem(fd: number, key: Buffer, value: Buffer): number;
  bpf_program__fd(prog: Ptr): number;
  bpf_link_create(progFd: number, targetFd: number, attachType: number, opts: null): number;
  bpf_obj_pin(fd: number, path: string): number;
  bpf_obj_get(path: string): number;
  bpf_obj_get_info_by_fd(fd: number, info: Buffer, len: number[]): number;
}

export interface LibcApi {
  strerror(errnum: number): string;
  sysconf(name: number): number;
  mmap(addr: null, length: number, prot: number, flags: number, fd: number, offset: number): Ptr;
  munmap(addr: Ptr, length: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Buffer): number;
  epoll_wait: ((epfd: number, events: Buffer, max: number, timeoutMs: number) => number) & {
    async(epfd: number, events: Buffer, max: number, timeoutMs: number,
      cb: (err: unknown, n: number) => void): void;
  };
  read(fd: number, buf: Buffer, count: number): number;
  close(fd: number): number;
  clock_gettime(clock: number, ts: Buffer): number;
  vsnprintf(buf: Buffer, size: number, fmt: string, ap: Ptr): number;
  pthread_sigmask(how: number, set: Buffer | null, oldset: Buffer | null): number;
  flock(fd: number, operation: number): number;
  /** glibc: gives free heap memory back to the kernel; 1 when some was. */
  malloc_trim(pad: number): number;
}

export interface Native {
  bpf: LibbpfApi;
  c: LibcApi;
  printFn: TypeObject;
  view(ptr: Ptr, length: number): ArrayBuffer;
  errno(): number;
  register(fn: (...args: never[]) => unknown, type: TypeObject): bigint;
}

let native: Native | null = null;

/** Bind libbpf and libc once; throws ANC_LIBBPF with the fix when libbpf is missing. */
export function loadNative(): Native {
  if (native) return native;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch (err) {
    throw new AncestrydError('ANC_LIBBPF',
      `libbpf.so.1 could not be loaded (${(err as Error).message}): install it with "apt-get install libbpf1"`,
      { cause: err });
  }
  const libc = koffi.load('libc.so.6');
  for (const t of ['bpf_object', 'bpf_program', 'bpf_map', 'bpf_link']) koffi.opaque(t);
  // va_list is an array type on x86-64 and a struct passed by reference on
  // arm64: 'void *' carries it on both.
  const printFn = koffi.proto('int et_libbpf_print_fn(int level, const char *fmt, void *ap)');
  const bpf: LibbpfApi = {
    libbpf_set_print: lib.func('void *libbpf_set_print(et_libbpf_print_fn *fn)'),
    libbpf_num_possible_cpus: lib.func('int libbpf_num_possible_cpus()'),
    libbpf_major_version: lib.func('uint32_t libbpf_major_version()'),
    libbpf_minor_version: lib.func('uint32_t libbpf_minor_version()'),
    libbpf_probe_bpf_map_type: lib.func('int libbpf_probe_bpf_map_type(int map_type, const void *opts)'),
    libbpf_probe_bpf_helper: lib.func('int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void *opts)'),
    bpf_object__open_file: lib.func('bpf_object *bpf_object__open_file(const char *path, const void *opts)'),
    bpf_object__load: lib.func('int bpf_object__load(bpf_object *obj)'),
    bpf_object__close: lib.func('void bpf_object__close(bpf_object *obj)'),
    bpf_object__find_program_by_name: lib.func('bpf_program *bpf_object__find_program_by_name(const bpf_object *obj, const char *name)'),
    bpf_object__find_map_by_name: lib.func('bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)'),
    bpf_program__set_autoload: lib.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    bpf_object__next_program: lib.func('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prog)'),
    bpf_program__name: lib.func('const char *bpf_program__name(const bpf_program *prog)'),
    bpf_program__attach: lib.func('bpf_link *bpf_program__attach(const bpf_program *prog)'),
    bpf_link__destroy: lib.func('int bpf_link__destroy(bpf_link *link)'),
    bpf_link__disconnect: lib.func('void bpf_link__disconnect(bpf_link *link)'),
    bpf_link__fd: lib.func('int bpf_link__fd(const bpf_link *link)'),
    bpf_iter_create: lib.func('int bpf_iter_create(int link_fd)'),
    bpf_map__fd: lib.func('int bpf_map__fd(const bpf_map *map)'),
    bpf_map__set_max_entries: lib.func('int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)'),
    bpf_map__max_entries: lib.func('uint32_t bpf_map__max_entries(const bpf_map *map)'),
    bpf_map__initial_value: lib.func('void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)'),
    bpf_map__set_initial_value: lib.func('int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    bpf_map_lookup_elem: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    bpf_program__fd: lib.func('int bpf_program__fd(const bpf_program *prog)'),
    bpf_link_create: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
    bpf_obj_pin: lib.func('int bpf_obj_pin(int fd, const char *pathname)'),
    bpf_obj_get: lib.func('int bpf_obj_get(const char *pathname)'),
    bpf_obj_get_info_by_fd: lib.func('int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)'),
  };
  const c = {
    strerror: libc.func('const char *strerror(int errnum)'),
    sysconf: libc.func('long sysconf(int name)'),
    mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: libc.func('int munmap(void *addr, size_t length)'),
    epoll_create1: libc.func('int epoll_create1(int flags)'),
    epoll_ctl: libc.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
    epoll_wait: libc.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
    read: libc.func('long read(int fd, void *buf, size_t count)'),
    close: libc.func('int close(int fd)'),
    clock_gettime: libc.func('int clock_gettime(int clk, void *ts)'),
    vsnprintf: libc.func('int vsnprintf(void *buf, size_t size, const char *fmt, void *ap)'),
    pthread_sigmask: libc.func('int pthread_sigmask(int how, const void *set, void *oldset)'),
    flock: libc.func('int flock(int fd, int operation)'),
    malloc_trim: libc.func('int malloc_trim(size_t pad)'),
  } as unknown as LibcApi;
  native = {
    bpf,
    c,
    printFn,
    view: (ptr, length) => koffi.view(ptr, length),
    errno: () => koffi.errno(),
    register: (fn, type) => koffi.register(fn, koffi.pointer(type)),
  };
  return native;
}

/** "Operation not permitted (EPERM 1)"-style text for a positive or negative errno. */
export function describeErrno(n: Native, e: number): string {
  const code = Math.abs(e);
  return `${n.c.strerror(code)} (errno ${code})`;
}

/** Nanoseconds on one clock, as a Number (exact below 2^53 ns, ~104 days). */
export function clockNs(n: Native, clock: number): number {
  const ts = Buffer.alloc(16);
  n.c.clock_gettime(clock, ts);
  return Number(ts.readBigInt64LE(0)) * 1e9 + Number(ts.readBigInt64LE(8));
}

/**
 * Run fn with every signal blocked on this thread. The verifier gives up
 * with EAGAIN when a signal is pending (libbpf retries five times): a
 * profiler's SIGPROF every few ms, or a SIGTERM during start-up, would make
 * loading fail. Process-directed signals go to Node's other threads
 * meanwhile; the rest are delivered when the mask is restored.
 */
export function withSignalsBlocked<T>(n: Native, fn: () => T): T {
  const all = Buffer.alloc(SIGSET_BYTES, 0xff);
  const old = Buffer.alloc(SIGSET_BYTES);
  if (n.c.pthread_sigmask(SIG_BLOCK, all, old) !== 0) return fn();
  try {
    return fn();
  } finally {
    n.c.pthread_sigmask(SIG_SETMASK, old, null);
  }
}
