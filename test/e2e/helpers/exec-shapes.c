// Builds the process shapes the collector's e2e tests need, and prints what
// it did (one "key=value ..." line per step, flushed) so a test can compare.
//   exec-shapes thread-exec PATH [ARG...]   a non-leader thread calls execv
//   exec-shapes tree DEPTH PATH [ARG...]    a DEPTH-deep fork chain; the leaf execs PATH
//   exec-shapes exit-now                    returns at once (a process that lives < 1 ms)
//   exec-shapes fexecve-deleted PATH [ARG...]  opens PATH, unlinks it, then fexecve()s it
//   exec-shapes memfd NAME PATH [ARG...]    copies PATH into memfd NAME and fexecve()s that
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char **exec_argv;

static void *thread_exec(void *arg)
{
	(void)arg;
	printf("step=thread pid=%d tid=%ld\n", getpid(), (long)syscall(SYS_gettid));
	fflush(stdout);
	execv(exec_argv[0], exec_argv);
	perror("execv");
	_exit(127);
}

static int tree(int level, int depth)
{
	printf("step=level level=%d pid=%d ppid=%d\n", level, getpid(), getppid());
	fflush(stdout);
	if (level == depth) {
		execv(exec_argv[0], exec_argv);
		perror("execv");
		_exit(127);
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0)
		_exit(tree(level + 1, depth));
	int status = 0;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

extern char **environ;

static int fexec_fd(int fd, char **args)
{
	printf("step=fexecve pid=%d fd=%d\n", getpid(), fd);
	fflush(stdout);
	fexecve(fd, args, environ);
	perror("fexecve");
	return 127;
}

/* A copy of PATH in a memfd: the file that runs has no name on any mounted filesystem. */
static int memfd_exec(const char *name, char **args)
{
	int in = open(args[0], O_RDONLY | O_CLOEXEC);
	int fd = memfd_create(name, 0);
	char buf[65536];
	ssize_t n;

	if (in < 0 || fd < 0) {
		perror("memfd");
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 1;
	close(in);
	return fexec_fd(fd, args);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "thread-exec") == 0) {
		pthread_t t;
		exec_argv = &argv[2];
		if (pthread_create(&t, NULL, thread_exec, NULL) != 0)
			return 1;
		pthread_join(t, NULL); /* never returns: the exec replaces us */
		return 1;
	}
	if (argc >= 4 && strcmp(argv[1], "tree") == 0) {
		exec_argv = &argv[3];
		return tree(1, atoi(argv[2]));
	}
	if (argc == 2 && strcmp(argv[1], "exit-now") == 0)
		return 7;
	if (argc >= 3 && strcmp(argv[1], "fexecve-deleted") == 0) {
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0 || unlink(argv[2]) != 0) {
			perror("open/unlink");
			return 1;
		}
		return fexec_fd(fd, &argv[2]);
	}
	if (argc >= 4 && strcmp(argv[1], "memfd") == 0)
		return memfd_exec(argv[2], &argv[3]);
	fprintf(stderr, "usage: exec-shapes thread-exec PATH [ARG...] | tree DEPTH PATH [ARG...] | exit-now"
		" | fexecve-deleted PATH [ARG...] | memfd NAME PATH [ARG...]\n");
	return 2;
}
