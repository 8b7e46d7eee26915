/*
 * What tcpping.c and udpping.c share: the clock, the payload, and the report (one JSON object of
 * nearest-rank percentiles in microseconds, the same for both, so run.mjs reads them alike).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *sorted, long n, double p) {
    if (n == 0) return 0;
    long rank = (long)((p / 100.0) * n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* Printable ASCII, different for each sequence number beyond the first 4 bytes too. */
static void fill(unsigned char *buf, int size, uint32_t seq) {
    for (int i = 0; i < size; i++) buf[i] = (unsigned char)(' ' + (seq * 7 + i) % 95);
    if (size >= 4) {
        uint32_t be = htonl(seq);
        memcpy(buf, &be, 4);
    }
}

/* Sorts the samples and prints the report; `extra` is more JSON fields, each ending in a comma. */
static void report(long count, long measured, const char *extra, int size, double *samples, double sum, double elapsed) {
    qsort(samples, measured, sizeof(double), compare);
    printf("{\"count\":%ld,\"received\":%ld,%s\"size\":%d,"
           "\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"mean\":%.1f,"
           "\"durationMs\":%.3f,\"perSecond\":%.1f}\n",
           count, measured, extra, size,
           measured ? samples[0] : 0, percentile(samples, measured, 50), percentile(samples, measured, 90),
           percentile(samples, measured, 99), measured ? samples[measured - 1] : 0, measured ? sum / measured : 0,
           elapsed / 1000.0, elapsed > 0 ? count / (elapsed / 1e6) : 0);
}
