// ancestryd process generator: creates processes by fork+exec at a target
// rate or flat out, with N workers, and prints one JSON summary line.
//   procgen flat [--workers N] [--duration SECS] [--rate EXECS_PER_SEC] [--exe PATH]
// flat: each worker forks and execs PATH (default /bin/true) and reaps it.
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct options {
	const char *mode;
	int workers;
	double duration;
	double rate;
	const char *exe;
};

/* Per-worker counters in shared memory, summed by the parent. */
struct counters {
	long execs;
	long failures;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep until the i-th event of a worker running at `rate` per second is due. */
static void pace(double t0, long i, double rate)
{
	if (rate <= 0)
		return;
	double wait = t0 + i / rate - now();
	if (wait > 0) {
		struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static void run_flat(const struct options *o, struct counters *c, double rate)
{
	char *argv[] = { (char *)o->exe, NULL };
	char *envp[] = { NULL };
	double t0 = now(), end = t0 + o->duration;

	for (long i = 0; now() < end; i++) {
		pace(t0, i, rate);
		pid_t p = fork();
		if (p < 0) {
			c->failures++;
			continue;
		}
		if (p == 0) {
			execve(o->exe, argv, envp);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			c->execs++;
		else
			c->failures++;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: procgen flat [--workers N] [--duration SECS] [--rate EXECS_PER_SEC] [--exe PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options o = { .workers = 1, .duration = 5, .rate = 0, .exe = "/bin/true" };
	static const struct option longopts[] = {
		{ "workers", required_argument, 0, 'w' },
		{ "duration", required_argument, 0, 'd' },
		{ "rate", required_argument, 0, 'r' },
		{ "exe", required_argument, 0, 'e' },
		{ 0, 0, 0, 0 },
	};
	if (argc < 2)
		usage();
	o.mode = argv[1];
	optind = 2;
	for (int ch; (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		switch (ch) {
		case 'w': o.workers = atoi(optarg); break;
		case 'd': o.duration = atof(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'e': o.exe = optarg; break;
		default: usage();
		}
	}
	if (strcmp(o.mode, "flat") != 0 || o.workers < 1 || o.duration <= 0)
		usage();

	struct counters *shared = mmap(NULL, sizeof(*shared) * o.workers, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(shared, 0, sizeof(*shared) * o.workers);
	double t0 = now();
	for (int w = 0; w < o.workers; w++) {
		pid_t p = fork();
		if (p == 0) {
			run_flat(&o, &shared[w], o.rate / o.workers);
			_exit(0);
		}
		if (p < 0) {
			perror("fork");
			return 1;
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	double secs = now() - t0;
	long execs = 0, failures = 0;
	for (int w = 0; w < o.workers; w++) {
		execs += shared[w].execs;
		failures += shared[w].failures;
	}
	printf("{\"mode\":\"%s\",\"workers\":%d,\"secs\":%.3f,\"execs\":%ld,\"failures\":%ld,\"execs_per_sec\":%.1f}\n",
	       o.mode, o.workers, secs, execs, failures, execs / secs);
	return failures ? 1 : 0;
}
