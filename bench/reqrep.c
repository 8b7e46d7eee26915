/*
 * Request/reply load generator for bench/run.mjs (section script).
 *
 *   reqrep HOST PORT CONNS SECONDS REQUEST_HEX REPLY_BYTES [REPLY_PREFIX_HEX] [WARMUP_SECONDS]
 *
 * Opens CONNS TCP connections (TCP_NODELAY) and keeps one request in flight on each: it writes
 * REQUEST, reads until REPLY_BYTES bytes are back, checks that the reply starts with
 * REPLY_PREFIX_HEX (when given), and writes the next request at once. The request/reply pattern
 * of a device poll, where the reply differs from the request (a scripted server) or equals it
 * (an echo). Replies completed during WARMUP_SECONDS (default 0.5) are not counted; then for
 * SECONDS it counts replies and times each one with clock_gettime(CLOCK_MONOTONIC), from just
 * before write() to the read() that completes it.
 *
 * Prints one JSON object: conns, replies, seconds, perSecond, and the round trip's p50, p99,
 * min, max in microseconds (nearest rank over at most MAX_SAMPLES samples).
 *
 * Written in C for the same reason as loadgen.c: the client must not be what is measured.
 * Exit 0 on success; 1 on a usage or connect error; 2 on a wrong reply, a close, or a stall.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_MESSAGE 4096
#define MAX_SAMPLES 2000000
#define STALL_SECONDS 5.0

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hex_to_bytes(const char *hex, unsigned char *out, int max) {
    int n = 0, half = -1;
    for (; *hex; hex++) {
        int v;
        if (*hex >= '0' && *hex <= '9') v = *hex - '0';
        else if (*hex >= 'a' && *hex <= 'f') v = *hex - 'a' + 10;
        else if (*hex >= 'A' && *hex <= 'F') v = *hex - 'A' + 10;
        else if (*hex == ' ' || *hex == ':') continue;
        else return -1;
        if (half < 0) half = v;
        else {
            if (n >= max) return -1;
            out[n++] = (unsigned char)(half << 4 | v);
            half = -1;
        }
    }
    return half < 0 ? n : -1;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct conn {
    int fd;
    int got;            /* reply bytes read so far */
    double sent_at;
    unsigned char reply[MAX_MESSAGE];
};

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: reqrep HOST PORT CONNS SECONDS REQUEST_HEX REPLY_BYTES [REPLY_PREFIX_HEX] [WARMUP_SECONDS]\n");
        return 1;
    }
    static unsigned char request[MAX_MESSAGE], prefix[MAX_MESSAGE];
    int port = atoi(argv[2]), conns = atoi(argv[3]);
    double seconds = atof(argv[4]);
    int request_len = hex_to_bytes(argv[5], request, MAX_MESSAGE);
    int reply_len = atoi(argv[6]);
    int prefix_len = argc > 7 ? hex_to_bytes(argv[7], prefix, MAX_MESSAGE) : 0;
    double warmup = argc > 8 ? atof(argv[8]) : 0.5;
    if (port <= 0 || port > 65535 || conns < 1 || conns > MAX_CONNS || seconds <= 0 || request_len <= 0 ||
        reply_len <= 0 || reply_len > MAX_MESSAGE || prefix_len < 0 || prefix_len > reply_len || warmup < 0) {
        fprintf(stderr, "reqrep: bad arguments\n");
        return 1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "reqrep: not an IPv4 address: %s\n", argv[1]);
        return 1;
    }
    static struct conn c[MAX_CONNS];
    static struct pollfd fds[MAX_CONNS];
    double *samples = malloc(sizeof(double) * MAX_SAMPLES);
    if (!samples) return 1;
    for (int i = 0; i < conns; i++) {
        int one = 1;
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c[i].fd < 0 || setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
            connect(c[i].fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
            fprintf(stderr, "reqrep: connect %s:%d: %s\n", argv[1], port, strerror(errno));
            return 1;
        }
        fds[i].fd = c[i].fd;
        fds[i].events = POLLIN;
    }
    double start = now(), measure_from = start + warmup, end = measure_from + seconds, last_reply = start;
    long replies = 0, samples_n = 0;
    for (int i = 0; i < conns; i++) {
        c[i].sent_at = now();
        if (write(c[i].fd, request, request_len) != request_len) { perror("reqrep: write"); return 2; }
    }
    for (;;) {
        double t = now();
        if (t >= end) break;
        if (t - last_reply > STALL_SECONDS) { fprintf(stderr, "reqrep: no reply for %.0f s\n", STALL_SECONDS); return 2; }
        int ready = poll(fds, conns, 100);
        if (ready < 0) { if (errno == EINTR) continue; perror("reqrep: poll"); return 2; }
        for (int i = 0; i < conns && ready > 0; i++) {
            if (!fds[i].revents) continue;
            ready--;
            ssize_t n = read(c[i].fd, c[i].reply + c[i].got, reply_len - c[i].got);
            if (n <= 0) { fprintf(stderr, "reqrep: connection %d %s\n", i, n == 0 ? "closed by the server" : strerror(errno)); return 2; }
            c[i].got += n;
            if (c[i].got < reply_len) continue;
            double done = now();
            if (prefix_len && memcmp(c[i].reply, prefix, prefix_len) != 0) { fprintf(stderr, "reqrep: connection %d: wrong reply\n", i); return 2; }
            last_reply = done;
            if (c[i].sent_at >= measure_from && done < end) {
                replies++;
                if (samples_n < MAX_SAMPLES) samples[samples_n++] = (done - c[i].sent_at) * 1e6;
            }
            c[i].got = 0;
            c[i].sent_at = now();
            if (write(c[i].fd, request, request_len) != request_len) { perror("reqrep: write"); return 2; }
        }
    }
    qsort(samples, samples_n, sizeof(double), cmp);
    double p50 = samples_n ? samples[(long)(0.50 * (samples_n - 1))] : 0;
    double p99 = samples_n ? samples[(long)(0.99 * (samples_n - 1))] : 0;
    printf("{\"conns\":%d,\"replies\":%ld,\"seconds\":%.3f,\"perSecond\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"min\":%.1f,\"max\":%.1f}\n",
        conns, replies, seconds, replies / seconds, p50, p99, samples_n ? samples[0] : 0, samples_n ? samples[samples_n - 1] : 0);
    return 0;
}
