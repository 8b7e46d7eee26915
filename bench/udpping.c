/*
 * UDP ping-pong client for bench/run.mjs.
 *
 *   udpping HOST PORT COUNT [WARMUP] [SIZE] [TIMEOUT_MS]
 *
 * A connected UDP socket sends one SIZE-byte datagram (default 64), waits for its echo with
 * poll() (a timeout of TIMEOUT_MS, default 1000, counts the datagram as lost), and only then sends
 * the next: COUNT round trips in sequence after WARMUP (default 200) unmeasured ones. Each round
 * trip is timed with clock_gettime(CLOCK_MONOTONIC) from just before send() to just after recv().
 * The samples are sorted and reported as percentiles (nearest rank), in microseconds.
 *
 * Every echo is compared with what was sent, byte for byte. Each datagram carries its sequence
 * number in its first 4 bytes, so an echo that comes back after its timeout (late) is told apart
 * from a wrong one, and skipped. Prints one JSON object on stdout.
 *
 * Written in C on purpose, like loadgen.c: the client must not be the thing being measured, and
 * it must cost the same for every server it is pointed at.
 *
 * Exit 0 on success; 1 on a usage or socket error (ECONNREFUSED: nothing listens); 2 if an echo
 * is wrong (other bytes, other length) or STALL datagrams in a row get no echo (the server is
 * gone: waiting out every remaining timeout would take hours).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ping.h"

#define MAX_SIZE 1472 /* one Ethernet-sized datagram, IPv4 */
#define STALL 5       /* datagrams lost in a row = the server stopped answering */

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: udpping HOST PORT COUNT [WARMUP] [SIZE] [TIMEOUT_MS]\n");
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long count = atol(argv[3]);
    long warmup = argc > 4 ? atol(argv[4]) : 200;
    int size = argc > 5 ? atoi(argv[5]) : 64;
    int timeout_ms = argc > 6 ? atoi(argv[6]) : 1000;
    if (port <= 0 || port > 65535 || count <= 0 || warmup < 0 || size < 4 || size > MAX_SIZE || timeout_ms <= 0) {
        fprintf(stderr, "udpping: bad arguments (COUNT > 0, 4 <= SIZE <= %d, TIMEOUT_MS > 0)\n", MAX_SIZE);
        return 1;
    }

    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "udpping: not an IPv4 address: %s\n", host);
        return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "udpping: connect %s:%d: %s\n", host, port, strerror(errno));
        return 1;
    }

    double *samples = malloc(sizeof(double) * count);
    if (!samples) return 1;
    unsigned char out[MAX_SIZE], in[MAX_SIZE + 1];
    long measured = 0, lost = 0, late = 0, in_a_row = 0;
    double sum = 0, started = 0;
    long total = warmup + count;

    for (long i = 0; i < total; i++) {
        uint32_t seq = (uint32_t)(i + 1);
        if (i == warmup) started = now_us();
        fill(out, size, seq);
        double t0 = now_us();
        if (send(fd, out, size, 0) != size) {
            fprintf(stderr, "udpping: send: %s\n", strerror(errno));
            return 1;
        }
        double deadline = t0 + timeout_ms * 1000.0;
        for (;;) {
            double left = deadline - now_us();
            if (left <= 0) {
                if (i >= warmup) lost++;
                if (++in_a_row >= STALL) {
                    fprintf(stderr, "udpping: no echo from %s:%d for %d datagrams in a row (%d ms each)\n", host, port, STALL, timeout_ms);
                    return 2;
                }
                break;
            }
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int ready = poll(&p, 1, (int)(left / 1000.0) + 1);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) {
                fprintf(stderr, "udpping: poll: %s\n", strerror(errno));
                return 1;
            }
            if (ready == 0) continue; /* the deadline check above decides */
            ssize_t n = recv(fd, in, sizeof in, 0);
            double t1 = now_us();
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                fprintf(stderr, "udpping: recv from %s:%d: %s\n", host, port, strerror(errno));
                return 1;
            }
            uint32_t got = 0;
            if (n >= 4) {
                memcpy(&got, in, 4);
                got = ntohl(got);
            }
            if (n == size && got < seq && got >= 1) { /* the echo of a datagram that timed out */
                late++;
                continue;
            }
            if (n != size || memcmp(in, out, size) != 0) {
                fprintf(stderr, "udpping: round trip %ld: the echo (%zd bytes) is not the %d bytes sent\n", i + 1, n, size);
                return 2;
            }
            in_a_row = 0;
            if (i >= warmup) {
                samples[measured++] = t1 - t0;
                sum += t1 - t0;
            }
            break;
        }
    }
    double elapsed = now_us() - started;
    close(fd);

    char extra[64];
    snprintf(extra, sizeof extra, "\"lost\":%ld,\"late\":%ld,", lost, late);
    report(count, measured, extra, size, samples, sum, elapsed);
    free(samples);
    return 0;
}
