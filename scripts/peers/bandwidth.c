// Read bandwidth of this host: sums a 1 GiB buffer (already touched, so no page faults are
// timed) with 1 and 2 threads (OpenMP), best of 5 passes each, and prints one JSON object:
//   {"bytes": 1073741824, "read_gbps": {"1": 14.2, "2": 21.7}}     (GB = 1e9 bytes)
// Build: cc -O2 -march=native -fopenmp scripts/peers/bandwidth.c -o bandwidth
// Each thread keeps four independent 64-byte vector accumulators, so the loop is limited by
// memory, not by the latency of one chain of additions.
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int64_t vec8 __attribute__((vector_size(64)));

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// One pass over the buffer with `threads` threads; returns seconds. The sum goes to *sink so
// the compiler cannot drop the reads.
static double pass(const vec8 *data, size_t count, int threads, int64_t *sink) {
    int64_t total = 0;
    double start = now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        vec8 a = {0}, b = {0}, c = {0}, d = {0};
#pragma omp for schedule(static)
        for (size_t i = 0; i < count; i += 4) {
            a += data[i];
            b += data[i + 1];
            c += data[i + 2];
            d += data[i + 3];
        }
        vec8 s = a + b + c + d;
        for (int k = 0; k < 8; k++) total += s[k];
    }
    double seconds = now() - start;
    *sink += total;
    return seconds;
}

int main(void) {
    const size_t bytes = (size_t)1 << 30;
    const size_t count = bytes / sizeof(vec8);
    vec8 *data = aligned_alloc(64, bytes);
    if (!data) {
        fprintf(stderr, "cannot allocate 1 GiB\n");
        return 1;
    }
    memset(data, 1, bytes);  // touch every page before timing
    int64_t sink = 0;
    printf("{\"bytes\": %zu, \"read_gbps\": {", bytes);
    for (int threads = 1; threads <= 2; threads++) {
        double best = 1e30;
        for (int run = 0; run < 5; run++) {
            double s = pass(data, count, threads, &sink);
            if (s < best) best = s;
        }
        printf("%s\"%d\": %.1f", threads > 1 ? ", " : "", threads, (double)bytes / best / 1e9);
    }
    printf("}, \"checksum\": %lld}\n", (long long)(sink & 0xffff));
    free(data);
    return 0;
}
