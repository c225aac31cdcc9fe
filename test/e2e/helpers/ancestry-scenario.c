// SPDX-License-Identifier: Apache-2.0
/*
 * Builds the process trees test/e2e/ancestry.test.ts checks lineages of, on
 * the real kernel. One binary, one subcommand per scenario. Every process it
 * creates prints one JSON line to stdout describing itself: role, pid, ppid,
 * start time from /proc/self/stat (ticks) — so the test can compare the
 * daemon's lineage with what the processes themselves saw. The final exec of
 * each scenario is "leaf <tag>", which the test finds by its argv.
 *
 * Where a scenario must pause for the test (to start the collector between
 * two steps), the process waiting reads one line from stdin, byte by byte so
 * it never consumes a line meant for another process.
 *
 * Usage: ancestry-scenario <subcommand> <tag> [args]
 *   leaf <tag>                  print and exit
 *   chain <tag>                 child: exec sh -c 'exec self exec2' → exec self leaf
 *   orphan <tag> [delay_ms]     parent exits before the child execs (child → init)
 *   daemonize <tag> [delay_ms]  fork, setsid, fork, parent exits (classic daemon)
 *   subreaper <tag>             as daemonize under a PR_SET_CHILD_SUBREAPER parent
 *   thread <tag>                a non-leader thread execs
 *   pidreuse <tag>              two processes get the same pid via ns_last_pid
 *   depth <tag> <n>             a chain of n nested forks, the deepest execs
 *   hold <tag>                  H → P → C, C waits for "go" then execs
 *   prestart <tag>              H → P; on "fork" P forks C and exits (H reaps it); on "go" C execs
 *   lostfork <tag> <n>          on "flood" fork n children, then P; on "go" P execs; on "quit" exit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char self_exe[4096];
static const char *tag;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ancestry-scenario: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	_exit(111);
}

/* stat field 22 (starttime, ticks); comm may hold ')' so count from the last one. */
static unsigned long long start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	int fd, i, field = 2;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("read %s", path);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		die("parse %s", path);
	for (i = 0; p[i] && field < 22; i++)
		if (p[i] == ' ')
			field++;
	v = strtoull(p + i, NULL, 10);
	return v;
}

/* One line per call, written with a single write(2) so lines from several processes never interleave. */
static void say(const char *role, const char *extra_fmt, ...)
{
	char line[1024], extra[512] = "";
	va_list ap;
	int n;

	if (extra_fmt) {
		va_start(ap, extra_fmt);
		vsnprintf(extra, sizeof(extra), extra_fmt, ap);
		va_end(ap);
	}
	n = snprintf(line, sizeof(line),
		     "{\"role\":\"%s\",\"tag\":\"%s\",\"pid\":%d,\"tid\":%ld,\"ppid\":%d,\"start_ticks\":%llu%s%s}\n",
		     role, tag, getpid(), (long)syscall(SYS_gettid), getppid(), start_ticks(getpid()),
		     extra[0] ? "," : "", extra);
	if (write(1, line, n) != n)
		die("write");
}

static void wait_line(const char *want)
{
	char buf[64];
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(0, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("stdin closed while waiting for \"%s\"", want);
		if (c == '\n')
			break;
		if (n < sizeof(buf) - 1)
			buf[n++] = c;
	}
	buf[n] = 0;
	if (strcmp(buf, want) != 0) {
		errno = EPROTO;
		die("expected \"%s\" on stdin, got \"%s\"", want, buf);
	}
}

static void exec_leaf(const char *role_tag)
{
	execl(self_exe, self_exe, "leaf", role_tag, (char *)NULL);
	die("exec %s leaf", self_exe);
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void wait_reparented_from(pid_t old_parent)
{
	int i;

	for (i = 0; i < 5000 && getppid() == old_parent; i++)
		msleep(1);
	if (getppid() == old_parent) {
		errno = ETIMEDOUT;
		die("not reparented from %d", old_parent);
	}
}

static pid_t xfork(void)
{
	pid_t p = fork();

	if (p < 0)
		die("fork");
	return p;
}

static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid %d", pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = ECHILD;
		die("child %d failed (status 0x%x)", pid, st);
	}
}

/* Block until every process holding the write end of `fds` has gone (leaf exit closes it). */
static void wait_eof(int fds[2])
{
	char c;

	close(fds[1]);
	for (;;) {
		ssize_t r = read(fds[0], &c, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	close(fds[0]);
}

static int cmd_leaf(void)
{
	say("leaf", NULL);
	return 0;
}

static int cmd_chain(void)
{
	pid_t c;

	say("h", NULL);
	c = xfork();

	if (c == 0) {
		say("c", NULL);
		execl("/bin/sh", "sh", "-c", "exec \"$0\" exec2 \"$1\"", self_exe, tag, (char *)NULL);
		die("exec /bin/sh");
	}
	reap(c);
	return 0;
}

static int cmd_exec2(void)
{
	say("exec2", NULL);
	exec_leaf(tag);
	return 1;
}

/* orphan/daemonize/subreaper share this: H → P → C, P exits, C execs once adopted. */
static int orphan_like(int do_setsid, int subreaper, long delay_ms)
{
	int done[2];
	pid_t p;

	if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("PR_SET_CHILD_SUBREAPER");
	say("h", NULL);
	if (pipe(done) < 0)
		die("pipe");
	/* A sibling that exits at once: nothing pins it, so the TTL applies. */
	p = xfork();
	if (p == 0) {
		say("sibling", NULL);
		_exit(0);
	}
	reap(p);
	p = xfork();
	if (p == 0) {
		pid_t me = getpid(), c;

		close(done[0]);
		if (do_setsid && setsid() < 0)
			die("setsid");
		say("p", NULL);
		c = xfork();
		if (c == 0) {
			say("c", NULL);
			wait_reparented_from(me);
			if (delay_ms > 0)
				msleep(delay_ms);
			say("adopted", NULL);
			exec_leaf(tag);
		}
		_exit(0);
	}
	reap(p);
	if (subreaper) {
		/* The orphan is ours now: reap it too. */
		close(done[1]);
		close(done[0]);
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, 0);

			if (w < 0 && errno == ECHILD)
				break;
			if (w < 0 && errno != EINTR)
				die("waitpid");
		}
		return 0;
	}
	wait_eof(done);
	return 0;
}

static void *thread_main(void *arg)
{
	(void)arg;
	say("thread", NULL);
	exec_leaf(tag);
	return NULL;
}

static int cmd_thread(void)
{
	pthread_t t;

	say("h", NULL);
	errno = pthread_create(&t, NULL, thread_main, NULL);
	if (errno)
		die("pthread_create");
	/* The thread's exec ends this process image, this thread included. */
	pthread_join(t, NULL);
	return 1;
}

/*
 * fork() with a chosen pid: ns_last_pid = pid - 1 makes the next fork take
 * pid if it is free. Another process may fork in between and take it, so
 * the child waits for a verdict and the attempt is retried.
 */
static pid_t fork_at(pid_t want)
{
	int attempt;

	for (attempt = 0; attempt < 50; attempt++) {
		int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY), gate[2];
		char num[32], verdict;
		int n = snprintf(num, sizeof(num), "%d", want - 1);
		pid_t p;

		if (fd < 0)
			die("open /proc/sys/kernel/ns_last_pid (needs root)");
		if (pipe(gate) < 0)
			die("pipe");
		if (write(fd, num, n) != n)
			die("write ns_last_pid");
		close(fd);
		p = xfork();
		if (p == 0) {
			close(gate[1]);
			if (read(gate[0], &verdict, 1) != 1 || verdict != 'y')
				_exit(0);
			close(gate[0]);
			return 0;
		}
		close(gate[0]);
		verdict = p == want ? 'y' : 'n';
		if (write(gate[1], &verdict, 1) != 1)
			die("write gate");
		close(gate[1]);
		if (p == want)
			return p;
		reap(p);
	}
	errno = EBUSY;
	die("could not fork at pid %d", want);
	return -1;
}

static int read_int(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("read %s", path);
	buf[n] = 0;
	return atoi(buf);
}

static int cmd_pidreuse(void)
{
	pid_t last = read_int("/proc/sys/kernel/ns_last_pid"), max = read_int("/proc/sys/kernel/pid_max");
	pid_t want = last, x, b;
	int i;

	/* Well ahead of the last pid (wrapping like the kernel, above the reserved range), and free. */
	for (i = 0; i < 100000; i++) {
		char path[64];

		want = 300 + (last + 500 + i - 300) % (max - 300);
		snprintf(path, sizeof(path), "/proc/%d", want);
		if (access(path, F_OK) != 0)
			break;
	}
	say("h", "\"target\":%d", want);

	/* First incarnation: H → X → A(pid want). */
	x = xfork();
	if (x == 0) {
		pid_t a;

		say("x", NULL);
		a = fork_at(want);
		if (a == 0) {
			char t[256];

			say("a", NULL);
			snprintf(t, sizeof(t), "%s:a", tag);
			execl(self_exe, self_exe, "leaf", t, (char *)NULL);
			die("exec leaf");
		}
		reap(a);
		_exit(0);
	}
	reap(x);

	/* Second incarnation: H → B(pid want) → B1; B1 execs, then B execs. */
	b = fork_at(want);
	if (b == 0) {
		char t[256];
		pid_t b1;

		say("b", NULL);
		b1 = xfork();
		if (b1 == 0) {
			say("b1", NULL);
			snprintf(t, sizeof(t), "%s:b1", tag);
			execl(self_exe, self_exe, "leaf", t, (char *)NULL);
			die("exec leaf");
		}
		reap(b1);
		snprintf(t, sizeof(t), "%s:b", tag);
		execl(self_exe, self_exe, "leaf", t, (char *)NULL);
		die("exec leaf");
	}
	reap(b);
	return 0;
}

static int cmd_depth(int n)
{
	int level;

	say("h", NULL);
	for (level = 1; level <= n; level++) {
		pid_t c = xfork();

		if (c != 0) {
			reap(c);
			return 0;
		}
		say("level", "\"level\":%d", level);
	}
	exec_leaf(tag);
	return 1;
}

static int cmd_hold(void)
{
	pid_t p;

	say("h", NULL);
	p = xfork();
	if (p == 0) {
		pid_t c;

		say("p", NULL);
		c = xfork();
		if (c == 0) {
			say("c", NULL);
			wait_line("go");
			exec_leaf(tag);
		}
		reap(c);
		_exit(0);
	}
	reap(p);
	return 0;
}

static int cmd_prestart(void)
{
	int done[2];
	pid_t p;

	say("h", NULL);
	if (pipe(done) < 0)
		die("pipe");
	p = xfork();
	if (p == 0) {
		pid_t me = getpid();

		close(done[0]);
		say("p", NULL);
		wait_line("fork");
		if (xfork() == 0) {
			say("c", NULL);
			wait_reparented_from(me);
			say("adopted", NULL);
			wait_line("go");
			exec_leaf(tag);
		}
		_exit(0);
	}
	reap(p);
	say("reaped", NULL);
	wait_eof(done);
	return 0;
}

static int cmd_lostfork(int n)
{
	pid_t p;
	int i;

	say("h", NULL);
	wait_line("flood");
	for (i = 0; i < n; i++) {
		pid_t c = xfork();

		if (c == 0)
			_exit(0);
		reap(c);
	}
	p = xfork();
	if (p == 0) {
		say("p", NULL);
		wait_line("go");
		exec_leaf(tag);
	}
	reap(p);
	/* Stay alive until the test has the lineage: a busy machine may have cost us our own records too. */
	wait_line("quit");
	return 0;
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: %s <subcommand> <tag> [args]\n", argv[0]);
		return 2;
	}
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe");
	self_exe[n] = 0;
	tag = argv[2];
	if (!strcmp(argv[1], "leaf"))
		return cmd_leaf();
	if (!strcmp(argv[1], "chain"))
		return cmd_chain();
	if (!strcmp(argv[1], "exec2"))
		return cmd_exec2();
	if (!strcmp(argv[1], "orphan"))
		return orphan_like(0, 0, argc > 3 ? atol(argv[3]) : 0);
	if (!strcmp(argv[1], "daemonize"))
		return orphan_like(1, 0, argc > 3 ? atol(argv[3]) : 0);
	if (!strcmp(argv[1], "subreaper"))
		return orphan_like(1, 1, 0);
	if (!strcmp(argv[1], "thread"))
		return cmd_thread();
	if (!strcmp(argv[1], "pidreuse"))
		return cmd_pidreuse();
	if (!strcmp(argv[1], "depth") && argc > 3)
		return cmd_depth(atoi(argv[3]));
	if (!strcmp(argv[1], "hold"))
		return cmd_hold();
	if (!strcmp(argv[1], "prestart"))
		return cmd_prestart();
	if (!strcmp(argv[1], "lostfork") && argc > 3)
		return cmd_lostfork(atoi(argv[3]));
	fprintf(stderr, "ancestry-scenario: unknown subcommand %s\n", argv[1]);
	return 2;
}
