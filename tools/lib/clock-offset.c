// Prints the offsets between the kernel clocks the latency figures need, as
// one JSON line (ns):
//   {"realtime_minus_boottime":..,"realtime_error":..,
//    "monotonic_minus_boottime":..,"monotonic_error":..}
// Event timestamps are CLOCK_BOOTTIME (bpf_ktime_get_boot_ns); Node stamps a
// line's arrival with process.hrtime (CLOCK_MONOTONIC); wall-clock output
// uses CLOCK_REALTIME. Each offset is read as A, BOOTTIME, A again, keeping
// the tightest of many tries: the error bound is half that window (well under
// a microsecond on an idle CPU). /proc/uptime would only give 10 ms.
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

static long long ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* (offset of `clock` minus BOOTTIME, error bound), best of `tries`. */
static void offset(clockid_t clock, int tries, long long *off, long long *err)
{
	long long best = -1;
	for (int i = 0; i < tries; i++) {
		long long a0 = ns(clock);
		long long b = ns(CLOCK_BOOTTIME);
		long long a1 = ns(clock);
		long long window = a1 - a0;
		if (best < 0 || window < best) {
			best = window;
			*off = a0 + window / 2 - b;
		}
	}
	*err = (best + 1) / 2;
}

int main(void)
{
	long long rt, rt_err, mono, mono_err;
	offset(CLOCK_REALTIME, 1000, &rt, &rt_err);
	offset(CLOCK_MONOTONIC, 1000, &mono, &mono_err);
	printf("{\"realtime_minus_boottime\":%lld,\"realtime_error\":%lld,"
	       "\"monotonic_minus_boottime\":%lld,\"monotonic_error\":%lld}\n",
	       rt, rt_err, mono, mono_err);
	return 0;
}
