/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The wire format between bpf/exec_trace.bpf.c and ancestryd's decoder.
 *
 * This header *is* the format: src/collector/layout.ts mirrors it and
 * test/collector/layout.test.ts fails on any size, offset, array length or
 * enum value that differs. Limits and kinds are enum constants (not #define)
 * so that they reach BTF, where the test reads them.
 *
 * All integers are native-endian (little-endian on every target we build).
 * Every record starts with struct et_header; `size` counts the whole record,
 * variable tail included. Records are 8-byte aligned by the ring buffer.
 *
 * Includers provide __u8/__u16/__u32/__u64 (vmlinux.h or <linux/types.h>).
 */
#ifndef EXEC_TRACE_H
#define EXEC_TRACE_H

enum et_limits {
	/*
	 * Bumped on any incompatible change of a record layout or of what a
	 * field means. 3: et_exec.tty (was padding in 2).
	 */
	ET_FORMAT_VERSION = 3,
	ET_COMM_LEN = 16,
	/* PATH_MAX: the kernel never hands exec a longer filename. */
	ET_FILENAME_MAX = 4096,
	/* Room for the resolved path of the executed file (d_path's PATH_MAX). */
	ET_EXE_MAX = 4096,
	/* Dentry and mount steps walked to resolve it. */
	ET_EXE_WALK_MAX = 256,
	/* Hard cap on et_config.argv_max_bytes; argv_len is a __u16. */
	ET_ARGV_MAX = 32768,
	ET_ARGV_DEFAULT = 4096,
	/* Hard cap on et_config.chain_depth: 64 real_parent steps, ~3k insns. */
	ET_CHAIN_MAX = 64,
	ET_CHAIN_DEFAULT = 32,
	/* argv[] entries read from user memory on a failed exec. */
	ET_FAILED_ARGS_MAX = 64,
	/* Default: wake the consumer once this much data is pending. */
	ET_WAKEUP_BYTES_DEFAULT = 65536,
	/* Descriptors of the parent looked at for struct et_peer. */
	ET_PEER_FDS_MAX = 32,
};

enum et_kind {
	ET_KIND_EXEC = 1,        /* struct et_exec, ret == 0 */
	ET_KIND_EXEC_FAILED = 2, /* struct et_exec, ret < 0 */
	ET_KIND_FORK = 3,        /* struct et_fork */
	ET_KIND_EXIT = 4,        /* struct et_exit */
	ET_KIND_TASK = 5,        /* struct et_task, from the bootstrap iterator only */
	ET_KIND_MAX = 6,         /* size of the per-kind counter array */
};

enum et_exec_flags {
	ET_EXEC_ARGV_TRUNCATED = 1,     /* argv longer than argv_max_bytes */
	ET_EXEC_FILENAME_TRUNCATED = 2, /* filename did not fit ET_FILENAME_MAX */
	ET_EXEC_CHAIN_TRUNCATED = 4,    /* chain_depth reached before init */
	ET_EXEC_ARGV_UNREADABLE = 8,    /* user memory read failed; argv empty */
	ET_EXEC_FROM_THREAD = 16,       /* exec called by a non-leader thread */
	/*
	 * The parent now is a reaper: pid 1 of its namespace or a child
	 * subreaper. It may have adopted this process when the parent that
	 * forked it exited, so ppid need not be the fork-time parent.
	 */
	ET_EXEC_PARENT_REAPER = 32,
	/* exe: the executed file was unlinked (deleted binary, memfd). */
	ET_EXEC_EXE_DELETED = 64,
	/* exe: longer than ET_EXE_MAX or deeper than ET_EXE_WALK_MAX; the path is its tail. */
	ET_EXEC_EXE_TRUNCATED = 128,
	/* exe: not resolved (the kernel lacks bpf_loop); exe_len is 0. */
	ET_EXEC_EXE_UNAVAILABLE = 256,
	/*
	 * Run through an interpreter (#! script, binfmt_misc): exe is the
	 * interpreter, filename the script as it was named.
	 */
	ET_EXEC_INTERPRETED = 512,
	/*
	 * File descriptors 0 and 2 were compared with the controlling terminal,
	 * so ET_EXEC_INTERACTIVE is meaningful. Programs before it set neither:
	 * their records leave interactivity unknown.
	 */
	ET_EXEC_TTY_CHECKED = 1024,
	/* stdin and stderr are the controlling terminal (ECS process.interactive). */
	ET_EXEC_INTERACTIVE = 2048,
	/* The tail ends with struct et_peer (an exec that leads its session only). */
	ET_EXEC_PEER = 4096,
};

enum et_task_flags {
	ET_TASK_KTHREAD = 1, /* PF_KTHREAD: a kernel thread, no exe or argv */
};

/*
 * Clone flags in et_fork.clone_flags are *derived* by comparing the child
 * task with its creator (the tracepoint does not see the clone() argument);
 * the bits keep their CLONE_* values from <linux/sched.h>.
 */
enum et_clone_bits {
	ET_CLONE_VM = 0x00000100,
	ET_CLONE_FS = 0x00000200,
	ET_CLONE_FILES = 0x00000400,
	ET_CLONE_SIGHAND = 0x00000800,
	ET_CLONE_VFORK = 0x00004000,
	ET_CLONE_PARENT = 0x00008000,
	ET_CLONE_NEWNS = 0x00020000,
	ET_CLONE_NEWPID = 0x20000000,
};

struct et_header {
	__u16 kind;     /* enum et_kind */
	__u16 version;  /* ET_FORMAT_VERSION */
	__u32 size;     /* whole record, header and tail included */
	__u64 ktime_ns; /* CLOCK_BOOTTIME, the clock of start_ns */
};

/* A process identity: thread-group id and the group leader's start_boottime. */
struct et_ancestor {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;
};

/*
 * The far end of a TCP connection: for the exec of a session leader, the
 * first established one among its parent's first ET_PEER_FDS_MAX
 * descriptors (the ssh client's, when the parent is sshd). Unaligned in the
 * tail.
 */
struct et_peer {
	__u8 addr[16];  /* network order: IPv4 in the first 4 bytes, or IPv6 */
	__u16 port;     /* host order */
	__u16 family;   /* AF_INET (2) or AF_INET6 (10) */
	__u32 net_ns;   /* the socket's network namespace inode */
};

/*
 * Successful or failed exec. The tail follows the fixed part, in order:
 *   struct et_ancestor chain[chain_len];  nearest parent first, via real_parent
 *   char filename[filename_len];          as passed to exec, no NUL
 *   char exe[exe_len];                    the file that runs, resolved as d_path
 *                                         would (from the process's root), no NUL;
 *                                         empty for a failed exec
 *   char argv[argv_len];                  NUL-separated, as in /proc/PID/cmdline
 *   struct et_peer peer;                  only with ET_EXEC_PEER
 * Programs before ET_EXEC_PEER never set it; a decoder that does not know
 * the flag reads the record as before (size covers the whole tail).
 */
struct et_exec {
	struct et_header hdr;
	__u32 tgid;
	__u32 tid;        /* the thread that called exec */
	__u32 ppid;       /* real_parent's tgid now (after any reparenting) */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;   /* audit uid; 0xffffffff when unset */
	__u32 sessionid;
	__s32 ret;        /* 0, or -errno of a failed exec */
	__u32 flags;      /* enum et_exec_flags */
	__u32 pid_ns;     /* pid namespace inode */
	__u32 mnt_ns;     /* mount namespace inode */
	__u16 chain_len;
	__u16 filename_len;
	__u16 argv_len;
	__u16 exe_len;
	__u32 pgid;       /* process group (global pid namespace) */
	__u64 start_ns;        /* start_boottime of the thread group */
	__u64 parent_start_ns; /* start_boottime of ppid */
	__u64 cgroup_id;       /* cgroup v2 id */
	char comm[ET_COMM_LEN];
	__u32 sid;        /* session (global pid namespace) */
	/*
	 * Controlling terminal as the kernel's dev_t, (major << 20) | minor,
	 * as tty_devnum() gives it; 0 when the session has none.
	 */
	__u32 tty;
};

/* A new thread group (threads are not reported). */
struct et_fork {
	struct et_header hdr;
	__u32 parent_tgid;  /* the child's real_parent */
	__u32 child_tgid;
	__u64 parent_start_ns;
	__u64 child_start_ns;
	__u32 clone_flags;  /* enum et_clone_bits, derived */
	__u32 creator_tgid; /* who called fork; differs from parent with CLONE_PARENT */
	__u32 uid;
	__u32 _pad;
	char comm[ET_COMM_LEN]; /* the child's comm (the creator's at fork time) */
};

/* The last thread of a thread group exited. */
struct et_exit {
	struct et_header hdr;
	__u32 tgid;
	__u32 ppid;        /* real_parent's tgid at exit (a reaper if reparented) */
	__u64 start_ns;
	__u64 parent_start_ns;
	__u32 exit_code;   /* wait status: (code << 8) | signal, 0x80 = core dumped */
	__u32 _pad;
	char comm[ET_COMM_LEN];
};

/* One live process, written by the bootstrap task iterator. */
struct et_task {
	struct et_header hdr;
	__u32 tgid;
	__u32 ppid;
	__u64 start_ns;
	__u64 parent_start_ns;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;
	__u32 flags;       /* enum et_task_flags */
	__u32 pid_ns;
	__u32 mnt_ns;
	__u64 cgroup_id;
	char comm[ET_COMM_LEN];
};

/* Per kind, per CPU: records written and ring-buffer reserve failures. */
struct et_counter {
	__u64 emitted;
	__u64 dropped;
};

/*
 * Load-time settings: the one const volatile global in .rodata. They outlive
 * the daemon that chose them when the programs are pinned, so nothing here
 * may name one daemon process (the daemon's identity is in et_consumer).
 */
struct et_config {
	__u32 chain_depth;     /* 1..ET_CHAIN_MAX */
	__u32 argv_max_bytes;  /* 0..ET_ARGV_MAX */
	__u64 wakeup_bytes;    /* force a consumer wakeup past this much pending data */
};

/*
 * The daemon that drains the ring, in the one entry of the mmapable
 * et_consumer map; written by each daemon that takes the ring over (a pinned
 * ring outlives its daemon).
 *
 * sleeping = 1: the ring has been quiet and the daemon waits for the kernel
 * with no drain timer, so the next record wakes it (and the kernel clears
 * the flag). The daemon writes it; the kernel only clears it.
 *
 * self_tgid, self_start_ns: the daemon's own events are not reported. The
 * start time makes the filter exact: a process that gets the pid of a daemon
 * that died is still reported. 0 when no daemon runs.
 *
 * dropped_seen: per kind, the et_counters drops the daemon has accounted
 * for, so the next one can tell those lost while none ran. The kernel
 * never reads it.
 */
struct et_consumer {
	__u32 sleeping;
	__u32 self_tgid;
	__u64 self_start_ns;
	__u64 dropped_seen[ET_KIND_MAX];
};

#endif /* EXEC_TRACE_H */
