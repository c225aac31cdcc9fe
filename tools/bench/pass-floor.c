// pass-floor.ts's loop without Node: sleep --period-ms, write --bytes with one
// write(2), again; nothing else. Its CPU per wakeup is what any program pays
// on this machine to wake as often as the drain and write as much, so set
// beside pass-floor.js it tells the machine's share of the floor from Node's
// (docs/benchmarks.md, "The floor by how a pass is woken").
//
//   pass-floor-c --file PATH [--period-ms 15] [--bytes 65536] [--secs 5] [--warmup-secs 1]
//
// The flags, ranges, window and output of pass-floor.js --wait block: one
// JSON line {"wakeups":N,"cpu_us":N} (getrusage of the measured part). A flag
// takes its value as the next word or after "="; a value that looks like a
// flag, a number outside the flag's range or anything else unknown prints the
// reason and the usage and exits 2. Numbers are read by strtod, which takes a
// few spellings Node's Number() does not (hex floats) and the reverse (0b, 0o):
// bench.ts passes decimal integers.
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

static _Noreturn void fail(const char *reason, const char *what)
{
	fprintf(stderr, "%s%s\n%s\n", reason, what, USAGE);
	exit(2);
}

// A finite number in its range (above min when `above`, else at least min; integer when asked), or a usage error
// that names the flag, the range and the value.
static double number(const char *flag, const char *v, double min, double max, int integer, int above)
{
	char *end;
	errno = 0;
	double n = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(n) || n < min || n > max ||
	    (above && n <= min) || (integer && n != floor(n))) {
		fprintf(stderr, "%s: expected %s %s %.15g and <= %.15g, got \"%s\"\n%s\n", flag,
			integer ? "an integer" : "a number", above ? ">" : ">=", min, max, v, USAGE);
		exit(2);
	}
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
		// "--flag=value" or "--flag value"; the flag's name is compared without its "=value".
		const char *f = argv[i], *eq = strchr(f, '='), *v;
		size_t len = eq != NULL ? (size_t)(eq - f) : strlen(f);
		if (eq != NULL) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc)
				fail("missing value or unknown flag: ", f);
			v = argv[++i];
			// As Node's strict parseArgs: "--file --secs" is a forgotten value, not a file named "--secs".
			if (v[0] == '-' && v[1] != '\0') {
				fprintf(stderr, "%s: its value %s looks like a flag (write %s=%s if it is meant)\n%s\n", f, v, f, v, USAGE);
				exit(2);
			}
		}
		char name[32];
		if (len >= sizeof(name))
			fail("unknown flag: ", f);
		memcpy(name, f, len);
		name[len] = '\0';
		f = name;
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

	// The window opens on a wakeup at measure_at and its last sleep ends at end_at, as in pass-floor.js --wait block.
	double measure_at = now_s() + warmup, end_at = measure_at + secs;
	long wakeups = 0, cpu0 = 0;
	int measuring = 0;
	for (;;) {
		double t = now_s();
		if (!measuring && t >= measure_at) {
			cpu0 = cpu_us();
			measuring = 1;
		}
		if (t >= end_at)
			break;
		double s = fmax(0, fmin(period_ms / 1000, (measuring ? end_at : measure_at) - t));
		struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		double woke = now_s();
		// The wakeups that open and close the window only read the CPU (at the loop's top).
		if (woke >= end_at || (!measuring && woke >= measure_at))
			continue;
		if (measuring)
			wakeups++;
		if (n == 0)
			continue;
		ssize_t w = write(fd, block, n);
		if (w != (ssize_t)n) {
			if (w < 0)
				fprintf(stderr, "write %s: %s\n", file, strerror(errno));
			else
				fprintf(stderr, "write %s: %zd of %zu bytes written (a full disk?)\n", file, w, n);
			return 1;
		}
	}
	long cpu = cpu_us() - cpu0;
	close(fd);
	unlink(file);
	printf("{\"wakeups\":%ld,\"cpu_us\":%ld}\n", wakeups, cpu);
	return 0;
}
