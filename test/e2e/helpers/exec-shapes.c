// Builds the process shapes the collector's e2e tests need, and prints what
// it did (one "key=value ..." line per step, flushed) so a test can compare.
//   exec-shapes thread-exec PATH [ARG...]   a non-leader thread calls execv
//   exec-shapes tree DEPTH PATH [ARG...]    a DEPTH-deep fork chain; the leaf execs PATH
//   exec-shapes exit-now                    returns at once (a process that lives < 1 ms)
#define _GNU_SOURCE
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
	fprintf(stderr, "usage: exec-shapes thread-exec PATH [ARG...] | tree DEPTH PATH [ARG...] | exit-now\n");
	return 2;
}
