// pass-floor.ts's loop without Node: sleep --period-ms, write --bytes with one
// write(2), again; nothing else. Its CPU per wakeup is what any program pays
// on this machine to wake as often as the drain and write as much, so set
// beside pass-floor.js it tells the machine's share of the floor from Node's
// (docs/benchmarks.md, "The floor by how a pass is woken").
//
//   pass-floor-c --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1]
//
// Same flags, ranges and output as pass-floor.js: one JSON line
// {"wakeups":N,"cpu_us":N} (getrusage of the measured part); a usage error
// prints the reason and the usage and exits 2.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: pass-floor-c --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1] (secs: at most 3600)"
#define MAX_BYTES (16L * 1024 * 1024)

static void fail(const char *reason, const char *what)
{
	fprintf(stderr, "%s%s\n%s\n", reason, what, USAGE);
	exit(2);
}

// A finite number in [min, max] (integer when asked), or a usage error naming the flag.
static double number(const char *flag, const char *v, double min, double max, int integer, int above)
{
	char *end;
	errno = 0;
	double n = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(n) || n < min || n > max ||
	    (above && n <= min) || (integer && n != floor(n)))
		fail(flag, ": out of range or not a number");
	return n;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long cpu_us(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000L + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	double period_ms = 15, bytes = 65536, secs = 5, warmup = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			puts(USAGE);
			return 0;
		}
		if (i + 1 >= argc)
			fail("missing value or unknown flag: ", argv[i]);
		const char *f = argv[i], *v = argv[++i];
		if (strcmp(f, "--file") == 0)
			file = v;
		else if (strcmp(f, "--period-ms") == 0)
			period_ms = number("--period-ms", v, 1, 10000, 1, 0);
		else if (strcmp(f, "--bytes") == 0)
			bytes = number("--bytes", v, 0, MAX_BYTES, 1, 0);
		else if (strcmp(f, "--secs") == 0)
			secs = number("--secs", v, 0, 3600, 0, 1);
		else if (strcmp(f, "--warmup-secs") == 0)
			warmup = number("--warmup-secs", v, 0, 3600, 0, 0);
		else
			fail("unknown flag: ", f);
	}
	if (file == NULL)
		fail("--file is required", "");

	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return 1;
	}
	size_t n = (size_t)bytes;
	char *block = malloc(n > 0 ? n : 1);
	if (block == NULL) {
		fputs("out of memory\n", stderr);
		return 1;
	}
	memset(block, 'x', n);

	double measure_at = now_s() + warmup, end_at = measure_at + secs;
	long wakeups = 0, cpu0 = -1;
	for (;;) {
		double t = now_s();
		if (cpu0 < 0 && t >= measure_at)
			cpu0 = cpu_us();
		if (t >= end_at)
			break;
		// The last sleep ends at the window's end, not a period past it.
		double s = fmin(period_ms / 1000, end_at - t);
		struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if (now_s() >= end_at)
			break;
		if (cpu0 >= 0)
			wakeups++;
		// A regular file takes the whole block or fails (a full disk): a failure stops the tool with the reason.
		if (n > 0 && write(fd, block, n) != (ssize_t)n) {
			fprintf(stderr, "write %s: %s\n", file, strerror(errno));
			return 1;
		}
	}
	long cpu = cpu_us() - cpu0;
	close(fd);
	unlink(file);
	printf("{\"wakeups\":%ld,\"cpu_us\":%ld}\n", wakeups, cpu);
	return 0;
}
