// ancestryd process generator: creates processes by fork+exec at a target
// rate or flat out, with N workers, in the shapes that break ancestry
// trackers, and writes the ground truth of every exec it causes.
//
//   procgen MODE [--workers N] [--duration SECS] [--rate EXECS_PER_SEC]
//                [--truth FILE] [--tag TAG] [--exe PATH]
//                [--depth D] [--fanout F] [--wrap-forks K] [--wrap-every SECS]
//                [--count N]
//
// --rate paces execs (truth lines), not units: a tree unit execs many times.
//
// Modes (each measured exec runs EXE with argv [EXE, "<tag>-<worker>-<seq>-<pid>"]):
//   flat         fork, exec
//   tree         a random tree (depth <= D, fan-out <= F); every node execs after its subtree
//   churn        fork A, A forks B and exits at once; B execs once reparented
//   daemonize    fork A, A setsid()s and forks B, A exits; B execs under init
//   subreaper    as daemonize, under a worker that is PR_SET_CHILD_SUBREAPER
//   thread-exec  fork A; a non-leader thread of A execs
//   pid-wrap     churn, plus K vfork+_exit per exec to cycle the pid space
//                faster. Churn alone takes 2 pids per exec: at 1k exec/s the
//                counter wraps every ~16 s with pid_max 32768; K=3 makes it ~6 s.
//                --wrap-every S (pid-wrap and mix, needs root) also moves the
//                kernel's counter to pid_max-64 every S seconds through
//                /proc/sys/kernel/ns_last_pid: a real wrap of the allocator at a
//                known pace that costs no forks (on 2 cores each burned pid is
//                a fork+exit the tracer must process too).
//   mix          all of the above in turn
//   hold         N processes (--count, split over the workers) exec
//                "procgen sleep <tag>" and stay alive until --duration ends or
//                procgen gets SIGTERM/SIGINT; prints {"held":N,...} once all
//                have exec'd. For memory-under-load and query benchmarks.
//   sleep TAG    (what hold execs) pause until killed or the holder dies.
//
// Ground truth, one JSON line per exec, written by the exec'ing process just
// before execve (O_APPEND, one write(2), so lines never interleave):
//   {"tag":..,"mode":..,"pid":..,"start_ticks":..,"lineage":[[pid,ticks],..],
//    "parent_now":pid}
// lineage is nearest fork-time parent first, ending at pid 1; ticks are
// /proc/PID/stat starttime (clock ticks since boot): pid + ticks name a process.
// A JSON summary goes to stdout at the end (hold: after its "held" line);
// "pid_wraps" counts the times the kernel's pid counter wrapped, as seen by
// the worker that saw most (a worker sees a wrap as a fork returning a lower
// pid than its previous fork). procgen waits (up to 10 s) for execs still
// pending at the end (churn's orphans) so that the truth file is complete
// when it exits.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* N_MIX: the modes mix cycles through; hold is not one of them. */
enum { MAX_CHAIN = 128, LINE_MAX_BYTES = 4000, N_MIX = 7, MODE_HOLD = 7, MODE_MIX = 8, N_MODES = 8 };

struct ident {
	int pid;
	long long ticks;
};

struct options {
	const char *mode;
	int workers;
	double duration;
	double rate;
	const char *truth;
	const char *tag;
	const char *exe;
	int depth;
	int fanout;
	int wrap_forks;
	double wrap_every;
	int count;
};

/* Per-worker counters in shared memory, summed by the parent. `planned` is
 * raised before a fork whose child will exec (by the process that forks it,
 * so it is counted before the worker can finish); `execs` by the exec'ing
 * process. */
struct counters {
	long execs;
	long planned;
	long failures;
	long wrap_forks;
	long pid_wraps;
	long pid_min;
	long pid_max;
	long by_mode[N_MODES];
};

static const char *mode_names[N_MODES] = { "flat", "tree", "churn", "daemonize", "subreaper", "thread-exec", "pid-wrap", "hold" };

static struct options opt;
static int truth_fd = -1;
/* The fork-time ancestors of this process, nearest first; inherited by fork. */
static struct ident chain[MAX_CHAIN];
static int chain_len;
static struct ident self;
static int worker_id;
static long seq;
static struct counters *counters;
/* The exec'd program's argv between EXE and the tag (hold: "sleep"). */
static const char *exec_verb;
/* This worker's previous fork result, to see the pid counter wrap. */
static long last_pid;
static volatile sig_atomic_t stop_requested;
static long pid_max = 32768;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* pid, ppid and start ticks of a process from /proc/PID/stat; -1 if gone. */
static int read_stat(int pid, int *ppid, long long *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* The comm may hold spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	char state;
	int pp;
	unsigned long long start;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal starttime */
	if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &state, &pp, &start) != 3)
		return -1;
	if (ppid)
		*ppid = pp;
	*ticks = (long long)start;
	return 0;
}

static struct ident whoami(void)
{
	struct ident me = { getpid(), 0 };
	read_stat(me.pid, NULL, &me.ticks);
	return me;
}

/* After fork, in the child: the parent becomes the nearest ancestor. */
static void became_child_of(struct ident parent)
{
	if (chain_len == MAX_CHAIN)
		chain_len--;
	memmove(&chain[1], &chain[0], chain_len * sizeof(chain[0]));
	chain[0] = parent;
	chain_len++;
	self = whoami();
}

/* In the worker: a pid lower than the previous one means the counter wrapped. */
static void saw_pid(pid_t p)
{
	struct counters *c = &counters[worker_id];
	if (p <= 0)
		return;
	if (last_pid > 0 && p < last_pid)
		c->pid_wraps++;
	last_pid = p;
	if (c->pid_min == 0 || p < c->pid_min)
		c->pid_min = p;
	if (p > c->pid_max)
		c->pid_max = p;
}

static pid_t fork_child(void)
{
	struct ident parent = self;
	pid_t p = fork();
	if (p == 0)
		became_child_of(parent);
	return p;
}

/* fork_child for a child that will exec_measured: counted as planned first. */
static pid_t fork_measured(void)
{
	__atomic_fetch_add(&counters[worker_id].planned, 1, __ATOMIC_RELAXED);
	pid_t p = fork_child();
	if (p < 0)
		__atomic_fetch_sub(&counters[worker_id].planned, 1, __ATOMIC_RELAXED);
	return p;
}

/* Write this process's truth line, then exec EXE with its tag. Never returns. */
__attribute__((noreturn)) static void exec_measured(int mode)
{
	char tag[128], line[LINE_MAX_BYTES];
	snprintf(tag, sizeof(tag), "%s-%d-%ld-%d", opt.tag, worker_id, seq, self.pid);
	int n = snprintf(line, sizeof(line), "{\"tag\":\"%s\",\"mode\":\"%s\",\"pid\":%d,\"start_ticks\":%lld,\"parent_now\":%d,\"lineage\":[",
			 tag, mode_names[mode], self.pid, self.ticks, getppid());
	for (int i = 0; i < chain_len && n < (int)sizeof(line) - 64; i++)
		n += snprintf(line + n, sizeof(line) - n, "%s[%d,%lld]", i ? "," : "", chain[i].pid, chain[i].ticks);
	n += snprintf(line + n, sizeof(line) - n, "]}\n");
	if (chain_len > 0 && chain[chain_len - 1].pid != 1)
		_exit(125); /* the lineage would not reach init: MAX_CHAIN too small */
	if (n >= (int)sizeof(line) - 1 || (truth_fd >= 0 && write(truth_fd, line, n) != n))
		_exit(126);
	/* Counted here, by the process that execs: a tree has many. */
	__atomic_fetch_add(&counters[worker_id].execs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&counters[worker_id].by_mode[mode], 1, __ATOMIC_RELAXED);
	char *argv[] = { (char *)opt.exe, exec_verb ? (char *)exec_verb : tag, exec_verb ? tag : NULL, NULL };
	char *envp[] = { NULL };
	execve(opt.exe, argv, envp);
	_exit(127);
}

static void *thread_exec_main(void *arg)
{
	exec_measured(*(int *)arg);
	return NULL;
}

/* Wait until our parent is no longer `parent` (we were reparented). */
static void wait_reparented(int parent)
{
	for (int i = 0; getppid() == parent && i < 100000; i++)
		usleep(50);
}

static int reap(pid_t p)
{
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A tree node: fork children (each its own subtree), wait, then exec. */
__attribute__((noreturn)) static void tree_node(int level, int depth)
{
	if (level < depth) {
		int kids = 1 + rand() % opt.fanout;
		for (int k = 0; k < kids; k++) {
			pid_t p = fork_measured();
			if (p == 0) {
				srand(getpid());
				tree_node(level + 1, depth);
			}
			if (p > 0)
				reap(p);
		}
	}
	exec_measured(1);
}

/* One measured unit of `mode`; returns 0 when it went as planned. */
static int run_mode(int mode)
{
	pid_t a;
	seq++;
	switch (mode) {
	case 0: /* flat */
		a = fork_measured();
		saw_pid(a);
		if (a == 0)
			exec_measured(mode);
		return a > 0 ? reap(a) : -1;
	case 1: { /* tree */
		int depth = 1 + rand() % opt.depth;
		a = fork_measured();
		saw_pid(a);
		if (a == 0) {
			srand(getpid());
			tree_node(1, depth);
		}
		return a > 0 ? reap(a) : -1;
	}
	case 2: /* churn */
	case 6: /* pid-wrap */
		a = fork_child();
		saw_pid(a);
		if (a == 0) {
			int parent = getpid();
			pid_t b = fork_measured();
			if (b == 0) {
				wait_reparented(parent);
				exec_measured(mode);
			}
			_exit(b > 0 ? 0 : 1);
		}
		if (a <= 0 || reap(a) != 0)
			return -1;
		if (mode == 6) {
			/* vfork: the child only _exits, so sharing our memory is safe, and
			 * it costs a fraction of a fork: more pids per second. */
			for (int k = 0; k < opt.wrap_forks; k++) {
				pid_t d = vfork();
				if (d == 0)
					_exit(0);
				saw_pid(d);
				if (d > 0) {
					waitpid(d, NULL, 0);
					counters[worker_id].wrap_forks++;
				}
			}
		}
		return 0;
	case 3: /* daemonize */
	case 4: /* subreaper: same shape; the worker is a subreaper */
		a = fork_child();
		saw_pid(a);
		if (a == 0) {
			int parent = getpid();
			if (mode == 3)
				setsid();
			pid_t b = fork_measured();
			if (b == 0) {
				wait_reparented(parent);
				exec_measured(mode);
			}
			_exit(b > 0 ? 0 : 1);
		}
		return a > 0 ? reap(a) : -1;
	case 5: { /* thread-exec */
		a = fork_measured();
		saw_pid(a);
		if (a == 0) {
			static int m = 5;
			pthread_t t;
			if (pthread_create(&t, NULL, thread_exec_main, &m) != 0)
				_exit(1);
			pthread_join(t, NULL);
			_exit(1);
		}
		return a > 0 ? reap(a) : -1;
	}
	}
	return -1;
}

static int mode_index(const char *name)
{
	for (int i = 0; i < N_MODES; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return strcmp(name, "mix") == 0 ? MODE_MIX : -1;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* hold: fork `n` processes that exec "procgen sleep <tag>", then wait for
 * SIGTERM and kill them. */
static void hold_worker(int n)
{
	struct counters *c = &counters[worker_id];
	pid_t *kids = calloc(n > 0 ? n : 1, sizeof(pid_t));
	int held = 0;
	pid_t worker = getpid();
	for (int i = 0; i < n && !stop_requested; i++) {
		seq++;
		pid_t p = fork_measured();
		if (p == 0) {
			/* Die with the worker, whatever happens to it (survives execve). */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != worker)
				_exit(1);
			signal(SIGTERM, SIG_DFL);
			exec_measured(MODE_HOLD);
		}
		saw_pid(p);
		if (p < 0) {
			c->failures++;
			break;
		}
		kids[held++] = p;
	}
	while (!stop_requested)
		pause();
	for (int i = 0; i < held; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	free(kids);
}

/* Moves the kernel's pid counter near pid_max: the next forks wrap. */
static int force_wrap(void)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = snprintf(buf, sizeof(buf), "%ld", pid_max - 64);
	int ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

static void run_worker(int mode, double rate)
{
	struct counters *c = &counters[worker_id];
	double t0 = now(), end = t0 + opt.duration;
	long units = 0;

	/* In mix, odd workers are subreapers: their double forks land on them,
	 * the even workers' on init. */
	bool subreaper = mode == 4 || (mode == MODE_MIX && worker_id % 2 == 1);

	double next_wrap = opt.wrap_every > 0 && worker_id == 0 && (mode == 6 || mode == MODE_MIX) ? t0 + opt.wrap_every : 0;

	srand(getpid());
	if (subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	while (now() < end && !stop_requested) {
		if (next_wrap > 0 && now() >= next_wrap) {
			if (force_wrap() != 0) {
				perror("procgen: --wrap-every: writing /proc/sys/kernel/ns_last_pid (needs root)");
				c->failures++;
				next_wrap = 0;
			} else {
				next_wrap += opt.wrap_every;
			}
		}
		if (rate > 0) {
			/* Pace by execs done, not units: a tree unit execs many times. */
			long done = __atomic_load_n(&c->execs, __ATOMIC_RELAXED);
			double wait = t0 + done / rate - now();
			if (wait > 0) {
				struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		int m = mode == MODE_MIX ? (int)(units % N_MIX) : mode;
		if (mode == MODE_MIX && (m == 3 || m == 4))
			m = subreaper ? 4 : 3;
		if (run_mode(m) != 0)
			c->failures++;
		units++;
		/* Grandchildren reparented to us (subreaper) are ours to reap. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	while (wait(NULL) > 0)
		;
}

/* The generator's own ancestry, from /proc: its parents now, up to pid 1. */
static void read_base_chain(void)
{
	int pid = getpid();
	chain_len = 0;
	while (pid > 1 && chain_len < MAX_CHAIN) {
		int ppid;
		long long ticks;
		if (read_stat(pid, &ppid, &ticks) < 0 || ppid <= 0)
			break;
		long long pticks;
		if (read_stat(ppid, NULL, &pticks) < 0)
			break;
		chain[chain_len].pid = ppid;
		chain[chain_len].ticks = pticks;
		chain_len++;
		pid = ppid;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: procgen flat|tree|churn|daemonize|subreaper|thread-exec|pid-wrap|mix|hold\n"
		"         [--workers N] [--duration SECS] [--rate EXECS_PER_SEC] [--truth FILE]\n"
		"         [--tag TAG] [--exe PATH] [--depth D] [--fanout F] [--wrap-forks K] [--wrap-every SECS]\n"
		"         [--count N]\n"
		"       procgen sleep TAG\n");
	exit(2);
}

int main(int argc, char **argv)
{
	/* What hold execs: stay until killed, or until the holder dies. */
	if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
		for (;;)
			pause();
	}
	opt = (struct options){ .workers = 1, .duration = 5, .rate = 0, .tag = "pg", .exe = "/bin/true",
				.depth = 4, .fanout = 3, .wrap_forks = 10, .count = 1000 };
	static const struct option longopts[] = {
		{ "workers", required_argument, 0, 'w' }, { "duration", required_argument, 0, 'd' },
		{ "rate", required_argument, 0, 'r' },    { "truth", required_argument, 0, 't' },
		{ "tag", required_argument, 0, 'g' },     { "exe", required_argument, 0, 'e' },
		{ "depth", required_argument, 0, 'D' },   { "fanout", required_argument, 0, 'F' },
		{ "wrap-forks", required_argument, 0, 'K' }, { "count", required_argument, 0, 'n' },
		{ "wrap-every", required_argument, 0, 'W' },
		{ 0, 0, 0, 0 },
	};
	if (argc < 2)
		usage();
	opt.mode = argv[1];
	optind = 2;
	for (int ch; (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		switch (ch) {
		case 'w': opt.workers = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 't': opt.truth = optarg; break;
		case 'g': opt.tag = optarg; break;
		case 'e': opt.exe = optarg; break;
		case 'D': opt.depth = atoi(optarg); break;
		case 'F': opt.fanout = atoi(optarg); break;
		case 'K': opt.wrap_forks = atoi(optarg); break;
		case 'n': opt.count = atoi(optarg); break;
		case 'W': opt.wrap_every = atof(optarg); break;
		default: usage();
		}
	}
	int mode = mode_index(opt.mode);
	if (mode < 0 || opt.workers < 1 || opt.duration <= 0 || opt.depth < 1 || opt.depth > 64 || opt.fanout < 1 ||
	    opt.wrap_forks < 0 || opt.count < 0 || opt.wrap_every < 0)
		usage();
	FILE *pm = fopen("/proc/sys/kernel/pid_max", "r");
	if (pm) {
		if (fscanf(pm, "%ld", &pid_max) != 1)
			pid_max = 32768;
		fclose(pm);
	}
	char self_exe[4096];
	if (mode == MODE_HOLD) {
		ssize_t len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
		if (len <= 0) {
			perror("/proc/self/exe");
			return 1;
		}
		self_exe[len] = 0;
		opt.exe = self_exe;
		exec_verb = "sleep";
	}
	if (opt.truth) {
		truth_fd = open(opt.truth, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (truth_fd < 0) {
			perror(opt.truth);
			return 1;
		}
	}
	counters = mmap(NULL, sizeof(*counters) * opt.workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counters == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(counters, 0, sizeof(*counters) * opt.workers);
	read_base_chain();
	self = whoami();

	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	double t0 = now();
	pid_t workers[opt.workers];
	for (int w = 0; w < opt.workers; w++) {
		worker_id = w;
		pid_t p = fork_child();
		if (p == 0) {
			if (mode == MODE_HOLD)
				hold_worker(opt.count / opt.workers + (w < opt.count % opt.workers));
			else
				run_worker(mode, opt.rate / opt.workers);
			_exit(0);
		}
		if (p < 0) {
			perror("fork");
			return 1;
		}
		workers[w] = p;
	}
	worker_id = 0;
	if (mode == MODE_HOLD) {
		/* Ready once every held process has written its truth and exec'd (the
		 * counter moves just before execve: give them a moment to finish). */
		long execs = 0;
		while (!stop_requested && execs < opt.count) {
			execs = 0;
			for (int w = 0; w < opt.workers; w++)
				execs += __atomic_load_n(&counters[w].execs, __ATOMIC_RELAXED);
			usleep(10000);
		}
		usleep(100000);
		printf("{\"held\":%ld,\"secs\":%.3f}\n", execs, now() - t0);
		fflush(stdout);
		while (!stop_requested && now() < t0 + opt.duration)
			usleep(20000);
		for (int w = 0; w < opt.workers; w++)
			kill(workers[w], SIGTERM);
	}
	/* SIGTERM/SIGINT end the run early: passed on to the workers. */
	for (bool forwarded = false; wait(NULL) > 0 || errno == EINTR;) {
		if (stop_requested && !forwarded) {
			forwarded = true;
			for (int w = 0; w < opt.workers; w++)
				kill(workers[w], SIGTERM);
		}
	}
	double secs = now() - t0;
	/* Orphans (churn, daemonize) may still be on their way to exec. */
	long planned = 0, execs = 0;
	for (double deadline = now() + 10;;) {
		planned = execs = 0;
		for (int w = 0; w < opt.workers; w++) {
			planned += __atomic_load_n(&counters[w].planned, __ATOMIC_RELAXED);
			execs += __atomic_load_n(&counters[w].execs, __ATOMIC_RELAXED);
		}
		if (execs >= planned || now() > deadline)
			break;
		usleep(1000);
	}
	struct counters total = { 0 };
	for (int w = 0; w < opt.workers; w++) {
		total.execs += counters[w].execs;
		total.failures += counters[w].failures;
		total.wrap_forks += counters[w].wrap_forks;
		if (counters[w].pid_wraps > total.pid_wraps)
			total.pid_wraps = counters[w].pid_wraps;
		if (counters[w].pid_min && (!total.pid_min || counters[w].pid_min < total.pid_min))
			total.pid_min = counters[w].pid_min;
		if (counters[w].pid_max > total.pid_max)
			total.pid_max = counters[w].pid_max;
		for (int m = 0; m < N_MODES; m++)
			total.by_mode[m] += counters[w].by_mode[m];
	}
	/* A measured process that never exec'd is a failure of the run. */
	long unfinished = planned - total.execs;
	printf("{\"mode\":\"%s\",\"workers\":%d,\"secs\":%.3f,\"execs\":%ld,\"failures\":%ld,\"unfinished\":%ld,"
	       "\"execs_per_sec\":%.1f,\"wrap_forks\":%ld,\"pid_wraps\":%ld,\"pid_min\":%ld,\"pid_max\":%ld,\"by_mode\":{",
	       opt.mode, opt.workers, secs, total.execs, total.failures, unfinished, total.execs / secs, total.wrap_forks,
	       total.pid_wraps, total.pid_min, total.pid_max);
	for (int m = 0; m < N_MODES; m++)
		printf("%s\"%s\":%ld", m ? "," : "", mode_names[m], total.by_mode[m]);
	printf("}}\n");
	return total.failures || unfinished ? 1 : 0;
}
