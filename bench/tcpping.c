/*
 * TCP ping-pong client for bench/run.mjs.
 *
 *   tcpping HOST PORT COUNT [WARMUP] [SIZE] [TIMEOUT_MS]
 *
 * One TCP connection with Nagle's algorithm off (TCP_NODELAY). It writes one SIZE-byte message
 * (default 64), reads until all SIZE bytes of the echo are back, and only then writes the next:
 * one message in flight, COUNT round trips in sequence after WARMUP (default 200) unmeasured ones.
 * Each round trip is timed with clock_gettime(CLOCK_MONOTONIC) from just before write() to just
 * after the read() that completes the echo. The samples are sorted and reported as percentiles
 * (nearest rank), in microseconds: the same output as udpping.c.
 *
 * Every echo is compared with what was sent, byte for byte; the bytes differ from one message to
 * the next (the first 4 are its sequence number), so an echo that is duplicated, lost or out of
 * order fails too. Prints one JSON object on stdout.
 *
 * Written in C on purpose, like loadgen.c and udpping.c: the client must not be the thing being
 * measured, and it must cost the same for every server it is pointed at.
 *
 * Exit 0 on success; 1 on a usage or socket error (ECONNREFUSED: nothing listens); 2 if an echo
 * is wrong, the server closes the connection, or no byte comes back within TIMEOUT_MS (default
 * 5000: a stalled server).
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

#include "ping.h"

#define MAX_SIZE 65536

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: tcpping HOST PORT COUNT [WARMUP] [SIZE] [TIMEOUT_MS]\n");
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long count = atol(argv[3]);
    long warmup = argc > 4 ? atol(argv[4]) : 200;
    int size = argc > 5 ? atoi(argv[5]) : 64;
    int timeout_ms = argc > 6 ? atoi(argv[6]) : 5000;
    if (port <= 0 || port > 65535 || count <= 0 || warmup < 0 || size < 4 || size > MAX_SIZE || timeout_ms <= 0) {
        fprintf(stderr, "tcpping: bad arguments (COUNT > 0, 4 <= SIZE <= %d, TIMEOUT_MS > 0)\n", MAX_SIZE);
        return 1;
    }

    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "tcpping: not an IPv4 address: %s\n", host);
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "tcpping: connect %s:%d: %s\n", host, port, strerror(errno));
        return 1;
    }

    double *samples = malloc(sizeof(double) * count);
    static unsigned char out[MAX_SIZE], in[MAX_SIZE];
    if (!samples) return 1;
    long measured = 0;
    double sum = 0, started = 0;
    long total = warmup + count;

    for (long i = 0; i < total; i++) {
        if (i == warmup) started = now_us();
        fill(out, size, (uint32_t)(i + 1));
        double t0 = now_us();
        for (int off = 0; off < size;) {
            ssize_t n = write(fd, out + off, size - off);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                fprintf(stderr, "tcpping: write: %s\n", strerror(errno));
                return 2;
            }
            off += n;
        }
        int got = 0;
        while (got < size) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int ready = poll(&p, 1, timeout_ms);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) {
                fprintf(stderr, "tcpping: poll: %s\n", strerror(errno));
                return 1;
            }
            if (ready == 0) {
                fprintf(stderr, "tcpping: round trip %ld: no echo from %s:%d within %d ms (%d of %d bytes back)\n", i + 1, host, port, timeout_ms, got, size);
                return 2;
            }
            ssize_t n = read(fd, in + got, size - got);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                fprintf(stderr, "tcpping: round trip %ld: the server %s (%d of %d bytes back)\n", i + 1, n == 0 ? "closed the connection" : strerror(errno), got, size);
                return 2;
            }
            got += n;
        }
        double t1 = now_us();
        if (memcmp(in, out, size) != 0) {
            fprintf(stderr, "tcpping: round trip %ld: the echo is not the %d bytes sent\n", i + 1, size);
            return 2;
        }
        if (i >= warmup) {
            samples[measured++] = t1 - t0;
            sum += t1 - t0;
        }
    }
    double elapsed = now_us() - started;
    close(fd);

    report(count, measured, "", size, samples, sum, elapsed);
    free(samples);
    return 0;
}
