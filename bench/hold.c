/*
 * Connection-capacity client for bench/run.mjs.
 *
 *   hold HOST PORT N [HOLD_MS] [OPEN_TIMEOUT_MS]
 *
 * Opens N TCP connections to HOST:PORT at once: N non-blocking sockets, connect() on each in a
 * loop, then epoll until every one is established or has failed (or OPEN_TIMEOUT_MS, default
 * 10000, has passed: those still pending count as timed out). Sends nothing. Prints a first JSON
 * line when the opening is over:
 *
 *   {"phase":"open","attempted":N,"established":E,"refused":..,"reset":..,"timedOut":..,
 *    "otherErrors":..,"firstError":"..."|null,"openMs":T,"limit":L}
 *
 * openMs is the time from the first connect() to the last connection established. Then it holds
 * them for HOLD_MS (default 1000) and, when its stdin is a pipe, also until stdin is closed (so
 * bench/run.mjs can look at the server while everything is held, and decide when that is over),
 * counting the connections the server closes or resets meanwhile, and prints a second line:
 *
 *   {"phase":"hold","alive":A,"closedDuringHold":C,"bytesReceived":B,"holdMs":H}
 *
 * "Established" is the client's view: the handshake completed. A server whose accept queue is
 * full may still not have accepted it; bench/run.mjs counts the server's own sockets for that.
 *
 * Raises its own RLIMIT_NOFILE soft limit to the hard limit; N connections need about N file
 * descriptors. Written in C on purpose: the client must not be the thing being measured.
 *
 * Exit 0 when it ran (whatever it counted: the numbers are the result); 1 on a usage error or
 * when the file descriptor limit cannot hold N connections (the message says which limit).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPARE_FDS 16 /* stdin/out/err, epoll, and some slack */
#define STDIN_TAG -1 /* epoll data of the stdin watch */

enum state { PENDING, ESTABLISHED, FAILED, CLOSED };

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: hold HOST PORT N [HOLD_MS] [OPEN_TIMEOUT_MS]\n");
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long n = atol(argv[3]);
    long hold_ms = argc > 4 ? atol(argv[4]) : 1000;
    long open_timeout_ms = argc > 5 ? atol(argv[5]) : 10000;
    if (port <= 0 || port > 65535 || n <= 0 || hold_ms < 0 || open_timeout_ms <= 0) {
        fprintf(stderr, "hold: bad arguments (N > 0, HOLD_MS >= 0, OPEN_TIMEOUT_MS > 0)\n");
        return 1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "hold: not an IPv4 address: %s\n", host);
        return 1;
    }

    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if ((rlim_t)(n + SPARE_FDS) > lim.rlim_cur) {
        fprintf(stderr, "hold: %ld connections need %ld file descriptors, RLIMIT_NOFILE is %llu (hard limit %llu)\n",
                n, n + SPARE_FDS, (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
        return 1;
    }

    int ep = epoll_create1(0);
    int *fds = malloc(sizeof(int) * n);
    unsigned char *state = calloc(n, 1);
    if (ep < 0 || !fds || !state) {
        fprintf(stderr, "hold: setup: %s\n", strerror(errno));
        return 1;
    }
    long established = 0, refused = 0, reset = 0, timed_out = 0, other = 0, pending = 0;
    int first_error = 0;
    double t0 = now_ms(), last_established = t0;

    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        fds[i] = fd;
        if (fd < 0) {
            if (!first_error) first_error = errno;
            other++;
            state[i] = FAILED;
            continue;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
            int e = errno;
            if (!first_error) first_error = e;
            if (e == ECONNREFUSED) refused++;
            else other++;
            state[i] = FAILED;
            close(fd);
            continue;
        }
        struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        state[i] = PENDING;
        pending++;
    }

    /* Opening: wait for each handshake to end, one way or the other. */
    struct epoll_event events[1024];
    while (pending > 0) {
        double left = t0 + open_timeout_ms - now_ms();
        if (left <= 0) break;
        int k = epoll_wait(ep, events, 1024, (int)left + 1);
        if (k < 0 && errno == EINTR) continue;
        for (int j = 0; j < k; j++) {
            long i = (long)events[j].data.u64;
            if (state[i] != PENDING) continue;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0 && (events[j].events & (EPOLLERR | EPOLLHUP))) err = ECONNRESET;
            pending--;
            if (err == 0) {
                state[i] = ESTABLISHED;
                established++;
                last_established = now_ms();
                struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i };
                epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev);
            } else {
                if (!first_error) first_error = err;
                if (err == ECONNREFUSED) refused++;
                else if (err == ECONNRESET) reset++;
                else if (err == ETIMEDOUT) timed_out++;
                else other++;
                state[i] = FAILED;
                close(fds[i]);
            }
        }
    }
    for (long i = 0; i < n; i++) {
        if (state[i] == PENDING) {
            timed_out++;
            state[i] = FAILED;
            close(fds[i]);
        }
    }
    double open_ms = established ? last_established - t0 : 0;
    printf("{\"phase\":\"open\",\"attempted\":%ld,\"established\":%ld,\"refused\":%ld,\"reset\":%ld,\"timedOut\":%ld,"
           "\"otherErrors\":%ld,\"firstError\":%s%s%s,\"openMs\":%.1f,\"limit\":%llu}\n",
           n, established, refused, reset, timed_out, other,
           first_error ? "\"" : "", first_error ? strerror(first_error) : "null", first_error ? "\"" : "",
           open_ms, (unsigned long long)lim.rlim_cur);
    fflush(stdout);

    /* Holding: count what the server closes, for HOLD_MS and until stdin (a pipe) is closed. */
    struct stat st;
    int watch_stdin = fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    if (watch_stdin) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)(int64_t)STDIN_TAG };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) watch_stdin = 0;
    }
    long closed = 0, bytes = 0;
    double hold_start = now_ms();
    for (;;) {
        double left = hold_start + hold_ms - now_ms();
        if (left <= 0 && !watch_stdin) break;
        int k = epoll_wait(ep, events, 1024, left > 0 ? (int)left + 1 : -1);
        if (k < 0 && errno == EINTR) continue;
        for (int j = 0; j < k; j++) {
            int64_t tag = (int64_t)events[j].data.u64;
            char buf[4096];
            if (tag == STDIN_TAG) {
                ssize_t r = read(0, buf, sizeof buf);
                if (r <= 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                    watch_stdin = 0;
                }
                continue;
            }
            long i = (long)tag;
            if (state[i] != ESTABLISHED) continue;
            ssize_t r = read(fds[i], buf, sizeof buf);
            if (r > 0) {
                bytes += r; /* nothing was sent, so nothing should come back */
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            state[i] = CLOSED;
            closed++;
            epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
            close(fds[i]);
        }
    }
    printf("{\"phase\":\"hold\",\"alive\":%ld,\"closedDuringHold\":%ld,\"bytesReceived\":%ld,\"holdMs\":%.1f}\n",
           established - closed, closed, bytes, now_ms() - hold_start);
    fflush(stdout);
    return 0; /* the kernel closes the rest */
}
