// Synthetic record source for drain benchmarks: calls getppid() — one record
// each when build/exec_trace_bench.bpf.o is attached — COUNT times, at RATE
// calls per second (0: flat out). Prints one JSON line.
//   burst COUNT [RATE]
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 1000000;
	double rate = argc > 2 ? atof(argv[2]) : 0;
	double t0 = now();

	for (long i = 0; i < count; i++) {
		syscall(SYS_getppid);
		// Pace in steps of 256 calls: a sleep per call would cost more than the call.
		if (rate > 0 && (i & 255) == 255) {
			double wait;
			while ((wait = t0 + (i + 1) / rate - now()) > 0) {
				if (wait > 0.0002) {
					struct timespec ts = { 0, (long)(wait * 1e9) };
					nanosleep(&ts, NULL);
				}
			}
		}
	}
	double secs = now() - t0;
	printf("{\"calls\":%ld,\"secs\":%.3f,\"calls_per_sec\":%.0f}\n", count, secs, count / secs);
	return 0;
}
