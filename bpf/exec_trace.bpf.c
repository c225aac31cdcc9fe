// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ancestryd kernel side: fork, exec, failed exec and exit of thread groups
 * into one BPF ring buffer, plus a task iterator that snapshots the live
 * processes at start. The record layouts are in exec_trace.h.
 *
 * Hooks and why:
 *  - tp_btf/sched_process_{fork,exec,exit}: BTF raw tracepoints hand us the
 *    task pointers (the child at fork, bprm at exec), cost less than classic
 *    tracepoints and need no tracefs.
 *  - fexit on the execve/execveat syscall entry points: a *failed* exec
 *    with its return value, at no cost to other syscalls. Where the kernel
 *    refuses trampolines (EPERM, as on our development VM):
 *  - tracepoint/syscalls/sys_exit_execve{,at}: the same, but it needs
 *    tracefs and moves every syscall on the host to the slow path while
 *    attached, so the daemon can leave it off. Kprobes may be compiled out.
 *  - iter/task: exact start_boottime of processes that predate the daemon
 *    (/proc only shows clock ticks).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "exec_trace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum {
	PF_KTHREAD_BIT = 0x00200000,   /* include/linux/sched.h */
	SIGNAL_GROUP_EXIT_BIT = 0x4,   /* include/linux/sched/signal.h */
	/* File types (include/uapi/linux/stat.h), socket constants (linux/socket.h, linux/net.h, net/tcp_states.h). */
	ET_S_IFMT = 0170000,
	ET_S_IFCHR = 0020000,
	ET_S_IFSOCK = 0140000,
	ET_AF_INET = 2,
	ET_AF_INET6 = 10,
	ET_SOCK_STREAM = 1,
	ET_IPPROTO_TCP = 6,
	ET_TCP_ESTABLISHED = 1,
	/*
	 * Scratch tail: chain, then filename, then argv. The verifier checks
	 * each write against the largest offset plus the largest length it can
	 * prove, so these bounds size the buffer.
	 */
	CHAIN_BYTES = ET_CHAIN_MAX * 16,
	EXE_OFF_MAX = CHAIN_BYTES + ET_FILENAME_MAX,
	ARGV_OFF_MAX = EXE_OFF_MAX + ET_EXE_MAX,
	/* One path component (NAME_MAX) past the end of the exe buffer. */
	NAME_MAX_BYTES = 256,
	/* One argv[] string read back from a failed exec. */
	FAILED_ARG_MAX = 4096,
	SCRATCH_TAIL = ARGV_OFF_MAX + ET_ARGV_MAX + FAILED_ARG_MAX,
	/* Scratch slots per CPU: exec (sched tracepoint, preemption off) and
	 * failed exec (syscall tracepoints may be preempted on recent kernels;
	 * it must not share the exec slot). */
	SLOT_EXEC = 0,
	SLOT_FAILED = 1,
	SLOTS_PER_CPU = 2,
};

const volatile struct et_config et_cfg = {
	.chain_depth = ET_CHAIN_DEFAULT,
	.argv_max_bytes = ET_ARGV_DEFAULT,
	.wakeup_bytes = ET_WAKEUP_BYTES_DEFAULT,
};

/*
 * Never read: it puts every wire-format type and enum into the object's BTF,
 * where test/collector/layout.test.ts checks them against layout.ts. Costs
 * one small .bss map.
 */
struct et_btf_anchor {
	struct et_header header;
	struct et_ancestor ancestor;
	struct et_peer peer;
	struct et_exec exec;
	struct et_fork fork;
	struct et_exit exit;
	struct et_task task;
	struct et_counter counter;
	struct et_config config;
	struct et_consumer consumer;
	enum et_limits limits;
	enum et_kind kind;
	enum et_exec_flags exec_flags;
	enum et_task_flags task_flags;
	enum et_clone_bits clone_bits;
} et_btf_anchor;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} et_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_KIND_MAX);
	__type(key, __u32);
	__type(value, struct et_counter);
} et_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct et_consumer);
} et_consumer SEC(".maps");

struct et_scratch {
	struct et_exec rec;
	__u8 tail[SCRATCH_TAIL];
};

/*
 * Exec records are assembled here and copied out with bpf_ringbuf_output at
 * their exact size. Reserving the worst case (~45 KiB) in the ring for every
 * exec would cut its capacity tenfold. A plain array indexed by CPU, because
 * per-CPU map values are limited to 32 KiB; the loader sets max_entries to
 * SLOTS_PER_CPU * possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS_PER_CPU);
	__type(key, __u32);
	__type(value, struct et_scratch);
} et_scratch SEC(".maps");

/*
 * The resolved exe path is built here backwards, component by component,
 * then copied into the record. Per CPU: exec runs with preemption off.
 */
struct et_exe_buf {
	char b[ET_EXE_MAX + NAME_MAX_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct et_exe_buf);
} et_exe_buf SEC(".maps");

static __always_inline void count(__u32 kind, bool dropped)
{
	struct et_counter *c = bpf_map_lookup_elem(&et_counters, &kind);

	if (!c)
		return;
	if (dropped)
		c->dropped++;
	else
		c->emitted++;
}

/*
 * While records flow the daemon drains on its own timer, so wakeups are only
 * forced past wakeup_bytes (a per-event wakeup costs ~75 us of consumer
 * time). Once the ring has been quiet the daemon stops its timer and sleeps
 * (et_consumer.sleeping); the first record then wakes it, once.
 *
 * A plain load and store, not an atomic exchange: two CPUs may both wake the
 * daemon (harmless), and a record racing the daemon's own last look at the
 * ring waits for its fallback poll instead (WAKEUP_WAIT_MS in ring-drain.ts);
 * neither loses a record.
 */
static __always_inline __u64 wakeup_flag(void)
{
	__u32 zero = 0;
	struct et_consumer *c = bpf_map_lookup_elem(&et_consumer, &zero);

	if (c && c->sleeping) {
		c->sleeping = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	return bpf_ringbuf_query(&et_ring, BPF_RB_AVAIL_DATA) >= et_cfg.wakeup_bytes
		       ? BPF_RB_FORCE_WAKEUP
		       : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct et_header *h, __u16 kind, __u32 size)
{
	h->kind = kind;
	h->version = ET_FORMAT_VERSION;
	h->size = size;
	h->ktime_ns = bpf_ktime_get_boot_ns();
}

/* A process is its thread group: the leader's start time is its identity. */
static __always_inline __u64 group_start(struct task_struct *t)
{
	return BPF_CORE_READ(t, group_leader, start_boottime);
}

/* The daemon's own thread group (et_consumer): its events are not reported. */
static __always_inline bool is_self(struct task_struct *t, __u32 tgid)
{
	__u32 zero = 0;
	struct et_consumer *c = bpf_map_lookup_elem(&et_consumer, &zero);

	return c && c->self_tgid == tgid && group_start(t) == c->self_start_ns;
}

/* The task's pid as its own pid namespace sees it, and that namespace. */
static __always_inline bool ns_pid(struct task_struct *t, struct upid *up)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level;

	if (!pid)
		return false;
	level = BPF_CORE_READ(pid, level);
	return bpf_core_read(up, sizeof(*up), &pid->numbers[level & 31]) == 0;
}

static __always_inline __u32 pid_ns_inum(struct task_struct *t)
{
	struct upid up;

	if (!ns_pid(t, &up))
		return 0;
	return BPF_CORE_READ(up.ns, ns.inum);
}

/* Could t have adopted an orphan: init of its namespace, or a child subreaper? */
static __always_inline bool is_reaper(struct task_struct *t)
{
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	struct upid up;

	if (BPF_CORE_READ_BITFIELD_PROBED(sig, is_child_subreaper))
		return true;
	return ns_pid(t, &up) && up.nr == 1;
}

static __always_inline __u32 mnt_ns_inum(struct task_struct *t)
{
	/* nsproxy is NULL once an exiting task dropped its namespaces. */
	return BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
}

static __always_inline __u64 cgroup_id_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline __u32 loginuid_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->loginuid))
		return BPF_CORE_READ(t, loginuid.val);
	return (__u32)-1;
}

static __always_inline __u32 sessionid_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->sessionid))
		return BPF_CORE_READ(t, sessionid);
	return (__u32)-1;
}

/* The leader of t's process group or session, as a global pid; 0 if none. */
static __always_inline __u32 leader_of(struct task_struct *t, bool session)
{
	struct pid *p = session ? BPF_CORE_READ(t, signal, pids[PIDTYPE_SID])
				: BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID]);

	return p ? BPF_CORE_READ(p, numbers[0].nr) : 0;
}

/*
 * The session's controlling terminal, the way tty_devnum() numbers it. Read
 * without the lock /proc takes: a terminal given up during this exec may
 * still be seen, which /proc could report a moment earlier too.
 */
static __always_inline __u32 tty_of(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	struct tty_driver *drv;

	if (!tty)
		return 0;
	drv = BPF_CORE_READ(tty, driver);
	if (!drv)
		return 0;
	return ((__u32)BPF_CORE_READ(drv, major) << 20) |
	       (__u32)(BPF_CORE_READ(drv, minor_start) + BPF_CORE_READ(tty, index));
}

/*
 * The file at descriptor `fd` of a file table's array `fds` of `max`
 * entries; NULL when there is none. Read without the table's lock: a
 * descriptor being replaced meanwhile may be seen before or after, as
 * /proc/PID/fd could show it.
 */
static __always_inline struct file *fd_file(struct file **fds, __u32 max, __u32 fd)
{
	struct file *f = NULL;

	if (!fds || fd >= max || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* Whether `f` is the character device numbered `tty`. */
static __always_inline bool file_is_tty(struct file *f, __u32 tty)
{
	struct inode *ino = f ? BPF_CORE_READ(f, f_inode) : NULL;

	return ino && (BPF_CORE_READ(ino, i_mode) & ET_S_IFMT) == ET_S_IFCHR &&
	       BPF_CORE_READ(ino, i_rdev) == tty;
}

/*
 * ECS's process.interactive: stdin and stderr are the session's controlling
 * terminal (i_rdev numbers a device as tty_of() does). Without a terminal
 * the answer is no; without a file table (an exiting task), unknown.
 */
static __always_inline __u32 interactive_flags(struct task_struct *t, __u32 tty)
{
	struct fdtable *fdt;
	struct file **fds;
	__u32 max;

	if (!tty)
		return ET_EXEC_TTY_CHECKED;
	fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt)
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	max = BPF_CORE_READ(fdt, max_fds);
	return ET_EXEC_TTY_CHECKED |
	       (file_is_tty(fd_file(fds, max, 0), tty) && file_is_tty(fd_file(fds, max, 2), tty) ? ET_EXEC_INTERACTIVE : 0);
}

/*
 * The far end of the first established TCP connection among descriptors
 * 0..ET_PEER_FDS_MAX-1 of `t` into `out`; false when there is none.
 */
static __always_inline bool peer_of(struct task_struct *t, struct et_peer *out)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	__u32 max, i;

	if (!fdt)
		return false;
	fds = BPF_CORE_READ(fdt, fd);
	max = BPF_CORE_READ(fdt, max_fds);
	if (!fds)
		return false;
	for (i = 0; i < ET_PEER_FDS_MAX && i < max; i++) {
		struct file *f = fd_file(fds, max, i);
		struct inode *ino;
		struct socket *sock;
		struct sock *sk;
		__u16 family;

		if (!f)
			continue;
		ino = BPF_CORE_READ(f, f_inode);
		if (!ino || (BPF_CORE_READ(ino, i_mode) & ET_S_IFMT) != ET_S_IFSOCK)
			continue;
		/* A socket's file points at its struct socket, which points back. */
		sock = BPF_CORE_READ(f, private_data);
		if (!sock || BPF_CORE_READ(sock, file) != f || BPF_CORE_READ(sock, type) != ET_SOCK_STREAM)
			continue;
		sk = BPF_CORE_READ(sock, sk);
		if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != ET_TCP_ESTABLISHED ||
		    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != ET_IPPROTO_TCP)
			continue;
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (family == ET_AF_INET) {
			__be32 a4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);

			__builtin_memset(out->addr, 0, sizeof(out->addr));
			__builtin_memcpy(out->addr, &a4, sizeof(a4));
		} else if (family == ET_AF_INET6 && bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
			/* A struct destination: BPF_CORE_READ_INTO reads sizeof(*dst). */
			BPF_CORE_READ_INTO((struct in6_addr *)out->addr, sk, __sk_common.skc_v6_daddr);
		} else {
			continue;
		}
		out->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		out->family = family;
		/* Userspace takes an address only from the host's namespace: anyone may make one of their own. */
		out->net_ns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
		return true;
	}
	return false;
}

static __always_inline struct et_scratch *scratch(__u32 slot)
{
	__u32 key = bpf_get_smp_processor_id() * SLOTS_PER_CPU + slot;

	return bpf_map_lookup_elem(&et_scratch, &key);
}

/*
 * Walk real_parent from the exec'ing process towards init, writing
 * (tgid, start) pairs into the scratch tail. Stops after pid 1 (or pid 2's
 * kernel threads), or at chain_depth, flagging truncation.
 */
static __always_inline __u32 fill_chain(struct et_ancestor *chain, int cap, __u32 *flags,
					 struct task_struct *task)
{
	struct task_struct *t = BPF_CORE_READ(task, group_leader);
	__u32 depth = et_cfg.chain_depth;
	__u32 n = 0;
	int i;

	/*
	 * One round more than the chain holds: the last only looks whether an
	 * ancestor is left, so a chain cut at depth == cap is flagged too.
	 */
	for (i = 0; i <= cap; i++) {
		struct task_struct *p;
		__u32 tgid;

		p = BPF_CORE_READ(t, real_parent);
		if (!p || p == t)
			break;
		tgid = BPF_CORE_READ(p, tgid);
		if (tgid == 0) /* the idle task: t was init or kthreadd */
			break;
		if (n >= depth || n >= (__u32)cap) {
			*flags |= ET_EXEC_CHAIN_TRUNCATED;
			break;
		}
		chain[i].tgid = tgid;
		chain[i]._pad = 0;
		chain[i].start_ns = group_start(p);
		n++;
		t = BPF_CORE_READ(p, group_leader);
	}
	return n;
}

static __always_inline void fill_exec_ids(struct et_exec *r, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);

	r->tgid = BPF_CORE_READ(task, tgid);
	r->ppid = BPF_CORE_READ(parent, tgid);
	r->uid = BPF_CORE_READ(cred, uid.val);
	r->gid = BPF_CORE_READ(cred, gid.val);
	r->euid = BPF_CORE_READ(cred, euid.val);
	r->egid = BPF_CORE_READ(cred, egid.val);
	r->loginuid = loginuid_of(task);
	r->sessionid = sessionid_of(task);
	r->pid_ns = pid_ns_inum(task);
	r->mnt_ns = mnt_ns_inum(task);
	r->exe_len = 0;
	r->pgid = leader_of(task, false);
	r->sid = leader_of(task, true);
	r->tty = tty_of(task);
	r->flags |= interactive_flags(task, r->tty);
	r->start_ns = group_start(task);
	r->parent_start_ns = group_start(parent);
	r->cgroup_id = cgroup_id_of(task);
	if (is_reaper(parent))
		r->flags |= ET_EXEC_PARENT_REAPER;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), &task->comm);
}

/*
 * v = min(v, max) in the very register the next access uses: clang
 * otherwise compares a copy and the verifier loses the bound.
 */
#define CLAMP(v, max) asm volatile("if %[x] <= %[m] goto +1; %[x] = %[m]" : [x] "+r"(v) : [m] "i"(max))

/*
 * The chain's length in bytes, read back from the record rather than taken
 * from fill_chain()'s return: the verifier then carries one unknown length
 * into the rest of the program instead of one exactly known length per walk
 * it explored, and with more than 41 ancestors the paths that follow
 * (filename, argv) times those walks exceeded its instruction budget (E2BIG,
 * issue 9). The volatile read keeps the compiler from reusing the value.
 */
static __always_inline __u64 chain_bytes(struct et_scratch *s)
{
	__u64 off = *(volatile __u16 *)&s->rec.chain_len;

	off *= sizeof(struct et_ancestor);
	CLAMP(off, CHAIN_BYTES);
	return off;
}

/* Copy the record out at its real size; count it either way. */
static __always_inline void emit_exec(struct et_scratch *s, __u64 tail_len)
{
	__u16 kind = s->rec.hdr.kind;

	CLAMP(tail_len, SCRATCH_TAIL);
	fill_header(&s->rec.hdr, kind, sizeof(s->rec) + tail_len);
	count(kind, bpf_ringbuf_output(&et_ring, s, sizeof(s->rec) + tail_len, wakeup_flag()) != 0);
}

/* Copy a filename to tail[off]; returns its length without the NUL. */
static __always_inline __u64 filename_into(struct et_scratch *s, __u64 off, const char *src, bool user)
{
	long n;

	CLAMP(off, CHAIN_BYTES);
	if (user)
		n = bpf_probe_read_user_str(&s->tail[off], ET_FILENAME_MAX, src);
	else
		n = bpf_probe_read_kernel_str(&s->tail[off], ET_FILENAME_MAX, src);
	if (n <= 0)
		n = 1;
	if (n >= ET_FILENAME_MAX)
		s->rec.flags |= ET_EXEC_FILENAME_TRUNCATED;
	s->rec.filename_len = n - 1;
	return n - 1;
}

/* State of the exe path walk, on the stack of et_exec for bpf_loop. */
struct exe_walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *root;
	struct vfsmount *root_mnt;
	__u32 pos;   /* the path built so far starts at et_exe_buf.b[pos] */
	__u32 done;
	__u32 flags;
};

static __always_inline struct vfsmount *mnt_of(struct mount *m)
{
	return (void *)m + bpf_core_field_offset(struct mount, mnt);
}

/* Prepend "/<name of d>" to the path in et_exe_buf; false when it does not fit. */
static __always_inline bool exe_prepend(struct exe_walk *w, struct dentry *d)
{
	struct et_exe_buf *buf;
	struct qstr name;
	__u32 zero = 0, len, pos;

	buf = bpf_map_lookup_elem(&et_exe_buf, &zero);
	if (!buf)
		return false;
	name = BPF_CORE_READ(d, d_name);
	len = name.len;
	if (len > NAME_MAX_BYTES - 1)
		len = NAME_MAX_BYTES - 1;
	if (w->pos < len + 1) {
		w->flags |= ET_EXEC_EXE_TRUNCATED;
		return false;
	}
	w->pos -= len + 1;
	pos = w->pos & (ET_EXE_MAX - 1);
	buf->b[pos] = '/';
	bpf_probe_read_kernel(&buf->b[pos + 1], len & (NAME_MAX_BYTES - 1), name.name);
	return true;
}

/*
 * One step of d_path's walk: the process's root ends it; at the root of a
 * mount, continue from its mountpoint in the parent mount; else prepend
 * "/<name>" and go to the parent dentry. A mount attached nowhere (another
 * namespace, a detached tree) ends it; a dentry that is its own parent
 * without being a mount's root is a pseudo file (memfd), named "/<name>"
 * as d_path's d_dname would.
 */
static long exe_walk_step(__u64 i, void *ctx)
{
	struct exe_walk *w = ctx;
	/* Locals: BPF_CORE_READ would relocate w's own fields too. */
	struct dentry *d = w->dentry;
	struct mount *m = w->mnt;
	struct vfsmount *vfs = mnt_of(m);
	struct dentry *mnt_root = BPF_CORE_READ(vfs, mnt_root);
	struct dentry *up = BPF_CORE_READ(d, d_parent);

	if (d == w->root && vfs == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	if (d == mnt_root) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);

		if (parent == m) {
			w->done = 1;
			return 1;
		}
		w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = parent;
		return 0;
	}
	if (!exe_prepend(w, d) || d == up) {
		w->done = 1;
		return 1;
	}
	w->dentry = up;
	return 0;
}

/*
 * The absolute path of the file bprm runs (the interpreter for a script),
 * as d_path renders it from the process's root, into tail[off]; returns its
 * length. bpf_d_path is not allowed in tp_btf programs, and bpf_loop keeps
 * the walk one verified step.
 */
static __always_inline __u64 exe_into(struct et_scratch *s, __u64 off, struct task_struct *task,
				      struct linux_binprm *bprm)
{
	struct exe_walk w = {};
	struct et_exe_buf *buf;
	struct dentry *dentry, *up;
	struct file *file;
	__u32 zero = 0;
	__u64 len;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
		s->rec.flags |= ET_EXEC_EXE_UNAVAILABLE;
		return 0;
	}
	file = BPF_CORE_READ(bprm, file);
	dentry = BPF_CORE_READ(file, f_path.dentry);
	w.dentry = dentry;
	w.mnt = (void *)BPF_CORE_READ(file, f_path.mnt) - bpf_core_field_offset(struct mount, mnt);
	w.root = BPF_CORE_READ(task, fs, root.dentry);
	w.root_mnt = BPF_CORE_READ(task, fs, root.mnt);
	w.pos = ET_EXE_MAX;
	/*
	 * No name on any filesystem: unlinked (d_unlinked(): unhashed, not a
	 * root), or a pseudo file such as a memfd (its own parent without
	 * being its mount's root), which d_path marks "(deleted)" too.
	 */
	up = BPF_CORE_READ(dentry, d_parent);
	if (dentry == up ? dentry != BPF_CORE_READ(file, f_path.mnt, mnt_root) : !BPF_CORE_READ(dentry, d_hash.pprev))
		s->rec.flags |= ET_EXEC_EXE_DELETED;
	bpf_loop(ET_EXE_WALK_MAX, exe_walk_step, &w, 0);
	s->rec.flags |= w.flags;
	if (!w.done)
		s->rec.flags |= ET_EXEC_EXE_TRUNCATED;
	buf = bpf_map_lookup_elem(&et_exe_buf, &zero);
	if (!buf)
		return 0;
	if (w.pos >= ET_EXE_MAX) {
		/* The root directory itself: "/". */
		w.pos = ET_EXE_MAX - 1;
		buf->b[ET_EXE_MAX - 1] = '/';
	}
	len = ET_EXE_MAX - w.pos;
	CLAMP(len, ET_EXE_MAX);
	CLAMP(off, EXE_OFF_MAX);
	if (bpf_probe_read_kernel(&s->tail[off], len, &buf->b[w.pos & (ET_EXE_MAX - 1)]))
		len = 0;
	s->rec.exe_len = len;
	return len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(et_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct et_scratch *s;
	struct mm_struct *mm;
	unsigned long arg_start, arg_end;
	__u64 off, argv_len, max, n;
	__u32 tgid;

	tgid = BPF_CORE_READ(task, tgid);
	if (is_self(task, tgid))
		return 0;
	s = scratch(SLOT_EXEC);
	if (!s)
		return 0;

	s->rec.hdr.kind = ET_KIND_EXEC;
	s->rec.flags = 0;
	s->rec.ret = 0;
	fill_exec_ids(&s->rec, task);
	s->rec.tid = old_pid;
	if ((__u32)old_pid != tgid)
		s->rec.flags |= ET_EXEC_FROM_THREAD;

	s->rec.chain_len = fill_chain((struct et_ancestor *)s->tail, ET_CHAIN_MAX, &s->rec.flags, task);
	off = chain_bytes(s);

	n = filename_into(s, off, BPF_CORE_READ(bprm, filename), false);
	off += n;
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		s->rec.flags |= ET_EXEC_INTERPRETED;
	CLAMP(off, EXE_OFF_MAX);
	exe_into(s, off, task, bprm);
	off += *(volatile __u16 *)&s->rec.exe_len;
	CLAMP(off, ARGV_OFF_MAX);

	/* argv is already on the new stack: mm->arg_start..arg_end. */
	mm = BPF_CORE_READ(task, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	argv_len = arg_end > arg_start ? arg_end - arg_start : 0;
	max = et_cfg.argv_max_bytes;
	if (argv_len > max) {
		argv_len = max;
		s->rec.flags |= ET_EXEC_ARGV_TRUNCATED;
	}
	CLAMP(argv_len, ET_ARGV_MAX);
	if (argv_len && bpf_probe_read_user(&s->tail[off], argv_len, (void *)arg_start)) {
		argv_len = 0;
		s->rec.flags |= ET_EXEC_ARGV_UNREADABLE;
	}
	s->rec.argv_len = argv_len;
	off += argv_len;
	/* A session leader execs: the connection its parent holds, where the session came from (sshd's client). */
	if (s->rec.sid == tgid) {
		struct et_peer peer;

		CLAMP(off, ARGV_OFF_MAX + ET_ARGV_MAX);
		if (peer_of(BPF_CORE_READ(task, real_parent), &peer)) {
			__builtin_memcpy(&s->tail[off], &peer, sizeof(peer));
			off += sizeof(peer);
			s->rec.flags |= ET_EXEC_PEER;
		}
	}
	emit_exec(s, off);
	return 0;
}

/*
 * A failed exec leaves the caller's memory intact, so filename and argv are
 * read back from the syscall's user pointers.
 */
static __always_inline void emit_failed_exec(const char *filename, const char *const *argv, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct et_scratch *s;
	__u64 off, start, max, room;
	long n;
	int i;

	if (is_self(task, (__u32)(bpf_get_current_pid_tgid() >> 32)))
		return;
	s = scratch(SLOT_FAILED);
	if (!s)
		return;

	s->rec.hdr.kind = ET_KIND_EXEC_FAILED;
	s->rec.flags = 0;
	s->rec.ret = ret;
	fill_exec_ids(&s->rec, task);
	s->rec.tid = (__u32)bpf_get_current_pid_tgid();
	s->rec.chain_len = fill_chain((struct et_ancestor *)s->tail, ET_CHAIN_MAX, &s->rec.flags, task);
	off = chain_bytes(s);
	start = off + filename_into(s, off, filename, true);
	s->rec.exe_len = 0;
	CLAMP(start, ARGV_OFF_MAX);

	max = et_cfg.argv_max_bytes;
	s->rec.argv_len = 0;
	for (i = 0; i < ET_FAILED_ARGS_MAX && argv; i++) {
		const char *arg = NULL;

		/*
		 * The running length lives in the record and is read back each
		 * round, as chain_bytes() does: one unknown offset per round
		 * instead of one per path so far, which past 16 KiB of argv
		 * exceeded the verifier's budget (issue 9).
		 */
		off = *(volatile __u16 *)&s->rec.argv_len;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (off >= max) {
			s->rec.flags |= ET_EXEC_ARGV_TRUNCATED;
			break;
		}
		room = max - off;
		CLAMP(room, FAILED_ARG_MAX);
		CLAMP(off, ET_ARGV_MAX - 1);
		n = bpf_probe_read_user_str(&s->tail[start + off], room, arg);
		if (n <= 0) {
			s->rec.flags |= ET_EXEC_ARGV_UNREADABLE;
			break;
		}
		/* A full read may have cut the string (its NUL is then ours). */
		if (n >= room)
			s->rec.flags |= ET_EXEC_ARGV_TRUNCATED;
		/* off < max and n <= max - off: the sum fits the u16 (max <= ET_ARGV_MAX). */
		s->rec.argv_len = off + n;
	}
	off = *(volatile __u16 *)&s->rec.argv_len;
	if (i == ET_FAILED_ARGS_MAX)
		s->rec.flags |= ET_EXEC_ARGV_TRUNCATED;
	if (off > max)
		off = max;
	CLAMP(off, ET_ARGV_MAX);
	s->rec.argv_len = off;
	emit_exec(s, start + off);
}

/*
 * The syscall exit tracepoint carries only the return value; the arguments
 * are still in the user registers saved at syscall entry.
 */
static __always_inline void on_exec_exit(long ret, bool at)
{
	struct pt_regs *regs;

	if (ret >= 0)
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (at)
		emit_failed_exec((const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				 (const char *const *)PT_REGS_PARM3_CORE_SYSCALL(regs), ret);
	else
		emit_failed_exec((const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
				 (const char *const *)PT_REGS_PARM2_CORE_SYSCALL(regs), ret);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int et_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	on_exec_exit(BPF_CORE_READ(ctx, ret), false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int et_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	on_exec_exit(BPF_CORE_READ(ctx, ret), true);
	return 0;
}

/*
 * The same from fexit on the syscalls' entry points: no syscall tracepoint,
 * so no slow path for every other syscall on the host. Kernels that refuse
 * trampolines (EPERM at load, as on our development VM) get the tracepoints
 * above instead: the loader probes these first (src/collector/load.ts).
 */
#if defined(__TARGET_ARCH_x86)
#define ET_SYSCALL(name) "__x64_sys_" #name
#elif defined(__TARGET_ARCH_arm64)
#define ET_SYSCALL(name) "__arm64_sys_" #name
#else
#error "ET_SYSCALL: name the syscall entry points of this architecture"
#endif

SEC("fexit/" ET_SYSCALL(execve))
int BPF_PROG(et_execve_fexit, const struct pt_regs *regs, long ret)
{
	on_exec_exit(ret, false);
	return 0;
}

SEC("fexit/" ET_SYSCALL(execveat))
int BPF_PROG(et_execveat_fexit, const struct pt_regs *regs, long ret)
{
	on_exec_exit(ret, true);
	return 0;
}

/* Derive clone() flags from what the child shares with its creator. */
static __always_inline __u32 derive_clone_flags(struct task_struct *creator, struct task_struct *child)
{
	__u32 f = 0;

	if (BPF_CORE_READ(child, mm) == BPF_CORE_READ(creator, mm))
		f |= ET_CLONE_VM;
	if (BPF_CORE_READ(child, fs) == BPF_CORE_READ(creator, fs))
		f |= ET_CLONE_FS;
	if (BPF_CORE_READ(child, files) == BPF_CORE_READ(creator, files))
		f |= ET_CLONE_FILES;
	if (BPF_CORE_READ(child, sighand) == BPF_CORE_READ(creator, sighand))
		f |= ET_CLONE_SIGHAND;
	if (BPF_CORE_READ(child, vfork_done))
		f |= ET_CLONE_VFORK;
	if (BPF_CORE_READ(child, real_parent, tgid) != BPF_CORE_READ(creator, tgid))
		f |= ET_CLONE_PARENT;
	if (BPF_CORE_READ(child, nsproxy, mnt_ns) != BPF_CORE_READ(creator, nsproxy, mnt_ns))
		f |= ET_CLONE_NEWNS;
	if (pid_ns_inum(child) != pid_ns_inum(creator))
		f |= ET_CLONE_NEWPID;
	return f;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(et_fork, struct task_struct *creator, struct task_struct *child)
{
	struct task_struct *parent;
	struct et_fork *r;
	__u32 tgid = BPF_CORE_READ(child, tgid);

	/* A new thread is not a new process. */
	if (BPF_CORE_READ(child, pid) != tgid)
		return 0;
	if (is_self(creator, BPF_CORE_READ(creator, tgid)))
		return 0;
	r = bpf_ringbuf_reserve(&et_ring, sizeof(*r), 0);
	if (!r) {
		count(ET_KIND_FORK, true);
		return 0;
	}
	parent = BPF_CORE_READ(child, real_parent);
	fill_header(&r->hdr, ET_KIND_FORK, sizeof(*r));
	r->parent_tgid = BPF_CORE_READ(parent, tgid);
	r->child_tgid = tgid;
	r->parent_start_ns = group_start(parent);
	r->child_start_ns = BPF_CORE_READ(child, start_boottime);
	r->clone_flags = derive_clone_flags(creator, child);
	r->creator_tgid = BPF_CORE_READ(creator, tgid);
	r->uid = BPF_CORE_READ(child, real_cred, uid.val);
	r->_pad = 0;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), &child->comm);
	bpf_ringbuf_submit(r, wakeup_flag());
	count(ET_KIND_FORK, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(et_exit, struct task_struct *task)
{
	struct task_struct *parent;
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct et_exit *r;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 code;

	/*
	 * do_exit() decrements signal->live before this tracepoint: zero means
	 * the last thread of the group is leaving, whichever thread that is.
	 */
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	if (is_self(task, tgid))
		return 0;
	r = bpf_ringbuf_reserve(&et_ring, sizeof(*r), 0);
	if (!r) {
		count(ET_KIND_EXIT, true);
		return 0;
	}
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT_BIT)
		code = BPF_CORE_READ(sig, group_exit_code);
	else
		code = BPF_CORE_READ(task, exit_code);
	parent = BPF_CORE_READ(task, real_parent);
	fill_header(&r->hdr, ET_KIND_EXIT, sizeof(*r));
	r->tgid = tgid;
	r->ppid = BPF_CORE_READ(parent, tgid);
	r->start_ns = group_start(task);
	r->parent_start_ns = group_start(parent);
	r->exit_code = code;
	r->_pad = 0;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), &task->comm);
	bpf_ringbuf_submit(r, wakeup_flag());
	count(ET_KIND_EXIT, false);
	return 0;
}

/* Bootstrap: one et_task per live thread group, read with bpf_iter_create. */
SEC("iter/task")
int et_task_iter(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct task_struct *parent;
	const struct cred *cred;
	struct et_task r = {};

	if (!task || task->pid != task->tgid)
		return 0;
	parent = BPF_CORE_READ(task, real_parent);
	cred = BPF_CORE_READ(task, real_cred);
	fill_header(&r.hdr, ET_KIND_TASK, sizeof(r));
	r.tgid = task->tgid;
	r.ppid = BPF_CORE_READ(parent, tgid);
	r.start_ns = BPF_CORE_READ(task, start_boottime);
	r.parent_start_ns = group_start(parent);
	r.uid = BPF_CORE_READ(cred, uid.val);
	r.gid = BPF_CORE_READ(cred, gid.val);
	r.euid = BPF_CORE_READ(cred, euid.val);
	r.egid = BPF_CORE_READ(cred, egid.val);
	r.loginuid = loginuid_of(task);
	r.flags = (BPF_CORE_READ(task, flags) & PF_KTHREAD_BIT) ? ET_TASK_KTHREAD : 0;
	r.pid_ns = pid_ns_inum(task);
	r.mnt_ns = mnt_ns_inum(task);
	r.cgroup_id = cgroup_id_of(task);
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), &task->comm);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

#ifdef ET_BENCH
enum {
	BENCH_CHAIN = 8,
	BENCH_TAIL = BENCH_CHAIN * 16 + 16 + 16,
};

/*
 * Only in build/exec_trace_bench.bpf.o, for drain benchmarks: every
 * getppid() emits an exec-shaped record, built like a real one (ids, creds,
 * a kernel chain walk) but with a fixed filename and argv.
 */
SEC("tracepoint/syscalls/sys_enter_getppid")
int et_bench_getppid(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct et_exec *r;
	struct et_ancestor *chain;
	__u64 off;

	r = bpf_ringbuf_reserve(&et_ring, sizeof(*r) + BENCH_TAIL, 0);
	if (!r) {
		count(ET_KIND_EXEC, true);
		return 0;
	}
	r->flags = 0;
	r->ret = 0;
	fill_exec_ids(r, task);
	r->tid = (__u32)bpf_get_current_pid_tgid();
	chain = (struct et_ancestor *)(r + 1);
	off = fill_chain(chain, BENCH_CHAIN, &r->flags, task);
	r->chain_len = off;
	off *= sizeof(*chain);
	CLAMP(off, BENCH_CHAIN * 16);
	/* The record keeps its fixed size; unused chain slots end up as slack. */
	__builtin_memcpy((char *)chain + off, "/bench/synthetic", 16);
	__builtin_memcpy((char *)chain + off + 16, "synthetic\0-burst\0", 16);
	r->filename_len = 16;
	r->argv_len = 16;
	fill_header(&r->hdr, ET_KIND_EXEC, sizeof(*r) + BENCH_TAIL);
	bpf_ringbuf_submit(r, wakeup_flag());
	count(ET_KIND_EXEC, false);
	return 0;
}
#endif
