/**
 * The TypeScript mirror of bpf/exec_trace.h. test/collector/layout.test.ts
 * checks every size, offset, array length and enum value here against the C
 * compiler and against the BTF of the built object; change both sides together.
 */

/** enum et_limits */
export const Limits = {
  ET_FORMAT_VERSION: 3,
  ET_COMM_LEN: 16,
  ET_FILENAME_MAX: 4096,
  ET_EXE_MAX: 4096,
  ET_EXE_WALK_MAX: 256,
  ET_ARGV_MAX: 32768,
  ET_ARGV_DEFAULT: 4096,
  ET_CHAIN_MAX: 64,
  ET_CHAIN_DEFAULT: 32,
  ET_FAILED_ARGS_MAX: 64,
  ET_WAKEUP_BYTES_DEFAULT: 65536,
  ET_PEER_FDS_MAX: 32,
} as const;

/** enum et_kind */
export const Kind = {
  ET_KIND_EXEC: 1,
  ET_KIND_EXEC_FAILED: 2,
  ET_KIND_FORK: 3,
  ET_KIND_EXIT: 4,
  ET_KIND_TASK: 5,
  ET_KIND_MAX: 6,
} as const;

/** enum et_exec_flags */
export const ExecFlags = {
  ET_EXEC_ARGV_TRUNCATED: 1,
  ET_EXEC_FILENAME_TRUNCATED: 2,
  ET_EXEC_CHAIN_TRUNCATED: 4,
  ET_EXEC_ARGV_UNREADABLE: 8,
  ET_EXEC_FROM_THREAD: 16,
  ET_EXEC_PARENT_REAPER: 32,
  ET_EXEC_EXE_DELETED: 64,
  ET_EXEC_EXE_TRUNCATED: 128,
  ET_EXEC_EXE_UNAVAILABLE: 256,
  ET_EXEC_INTERPRETED: 512,
  ET_EXEC_TTY_CHECKED: 1024,
  ET_EXEC_INTERACTIVE: 2048,
  ET_EXEC_PEER: 4096,
} as const;

/** enum et_task_flags */
export const TaskFlags = {
  ET_TASK_KTHREAD: 1,
} as const;

/** enum et_clone_bits */
export const CloneBits = {
  ET_CLONE_VM: 0x100,
  ET_CLONE_FS: 0x200,
  ET_CLONE_FILES: 0x400,
  ET_CLONE_SIGHAND: 0x800,
  ET_CLONE_VFORK: 0x4000,
  ET_CLONE_PARENT: 0x8000,
  ET_CLONE_NEWNS: 0x20000,
  ET_CLONE_NEWPID: 0x20000000,
} as const;

export const Enums = {
  et_limits: Limits,
  et_kind: Kind,
  et_exec_flags: ExecFlags,
  et_task_flags: TaskFlags,
  et_clone_bits: CloneBits,
} as const;

/** [offset, size in bytes]; arrays give the whole array's size. */
export type Field = readonly [offset: number, size: number];

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, Field>>;
}

function layout<F extends Record<string, Field>>(name: string, size: number, fields: F) {
  return { name, size, fields } as const;
}

export const EtHeader = layout('et_header', 16, {
  kind: [0, 2],
  version: [2, 2],
  size: [4, 4],
  ktime_ns: [8, 8],
});

export const EtAncestor = layout('et_ancestor', 16, {
  tgid: [0, 4],
  _pad: [4, 4],
  start_ns: [8, 8],
});

export const EtPeer = layout('et_peer', 24, {
  addr: [0, 16],
  port: [16, 2],
  family: [18, 2],
  net_ns: [20, 4],
});

export const EtExec = layout('et_exec', 128, {
  hdr: [0, 16],
  tgid: [16, 4],
  tid: [20, 4],
  ppid: [24, 4],
  uid: [28, 4],
  gid: [32, 4],
  euid: [36, 4],
  egid: [40, 4],
  loginuid: [44, 4],
  sessionid: [48, 4],
  ret: [52, 4],
  flags: [56, 4],
  pid_ns: [60, 4],
  mnt_ns: [64, 4],
  chain_len: [68, 2],
  filename_len: [70, 2],
  argv_len: [72, 2],
  exe_len: [74, 2],
  pgid: [76, 4],
  start_ns: [80, 8],
  parent_start_ns: [88, 8],
  cgroup_id: [96, 8],
  comm: [104, 16],
  sid: [120, 4],
  tty: [124, 4],
});

export const EtFork = layout('et_fork', 72, {
  hdr: [0, 16],
  parent_tgid: [16, 4],
  child_tgid: [20, 4],
  parent_start_ns: [24, 8],
  child_start_ns: [32, 8],
  clone_flags: [40, 4],
  creator_tgid: [44, 4],
  uid: [48, 4],
  _pad: [52, 4],
  comm: [56, 16],
});

export const EtExit = layout('et_exit', 64, {
  hdr: [0, 16],
  tgid: [16, 4],
  ppid: [20, 4],
  start_ns: [24, 8],
  parent_start_ns: [32, 8],
  exit_code: [40, 4],
  _pad: [44, 4],
  comm: [48, 16],
});

export const EtTask = layout('et_task', 96, {
  hdr: [0, 16],
  tgid: [16, 4],
  ppid: [20, 4],
  start_ns: [24, 8],
  parent_start_ns: [32, 8],
  uid: [40, 4],
  gid: [44, 4],
  euid: [48, 4],
  egid: [52, 4],
  loginuid: [56, 4],
  flags: [60, 4],
  pid_ns: [64, 4],
  mnt_ns: [68, 4],
  cgroup_id: [72, 8],
  comm: [80, 16],
});

export const EtCounter = layout('et_counter', 16, {
  emitted: [0, 8],
  dropped: [8, 8],
});

export const EtConfig = layout('et_config', 16, {
  chain_depth: [0, 4],
  argv_max_bytes: [4, 4],
  wakeup_bytes: [8, 8],
});

export const EtConsumer = layout('et_consumer', 64, {
  sleeping: [0, 4],
  self_tgid: [4, 4],
  self_start_ns: [8, 8],
  dropped_seen: [16, 48],
});

export const Structs: readonly StructLayout[] = [
  EtHeader, EtAncestor, EtPeer, EtExec, EtFork, EtExit, EtTask, EtCounter, EtConfig, EtConsumer,
];
