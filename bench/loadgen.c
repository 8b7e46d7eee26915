/*
 * Echo load generator for bench/run.mjs.
 *
 *   loadgen HOST PORT CONNS SECONDS [WARMUP_SECONDS]
 *
 * Opens CONNS TCP connections and keeps each one busy: it writes 64 KiB blocks and reads the
 * echo back, with at most DEPTH blocks in flight per connection, so the server is never idle
 * and never has to buffer without bound. Every byte that comes back is compared with what was
 * sent (a fixed pattern indexed by stream offset, so lost, duplicated or reordered bytes are
 * caught too). Bytes echoed during the WARMUP are not counted; after SECONDS the outstanding
 * bytes are drained and checked as well. Prints one JSON object on stdout.
 *
 * Written in C on purpose: the load generator must not be the thing being measured, and it must
 * cost the same for every server it is pointed at.
 *
 * Exit 0 on success; 1 on a usage or connect error; 2 if the echo is wrong, closed or stalls.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#define BLOCK (64 * 1024)
#define DEPTH 4                 /* blocks in flight per connection: 256 KiB */
#define MAX_CONNS 64
#define STALL_SECONDS 5.0       /* no echo for this long = the server is broken */

/*
 * Printable ASCII without ' and \ (a text payload, like the note's), repeated with a period of
 * 89 bytes: 89 is prime, so the pattern never lines up with a 64 KiB block and a block echoed
 * twice or out of order does not compare equal.
 */
#define PERIOD 89
static unsigned char pattern[BLOCK + PERIOD];

struct conn {
    int fd;
    uint64_t sent;      /* bytes written so far */
    uint64_t received;  /* bytes read back (and verified) so far */
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(int code, const char *what, int conn, uint64_t offset) {
    fprintf(stderr, "loadgen: %s (connection %d, stream offset %llu)\n", what, conn, (unsigned long long)offset);
    exit(code);
}

static int connect_to(const char *host, int port) {
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: not an IPv4 address: %s\n", host);
        exit(1);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "loadgen: connect %s:%d: %s\n", host, port, strerror(errno));
        exit(1);
    }
    /* Blocks are written whole; Nagle would only delay the tail of a partial write. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Reads what is available on c and checks it against the pattern. Returns bytes read. */
static size_t read_echo(struct conn *c, int index) {
    static unsigned char buf[BLOCK];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0) fail(2, "server closed the connection", index, c->received);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return 0;
        fail(2, strerror(errno), index, c->received);
    }
    if ((uint64_t)n > c->sent - c->received) fail(2, "echo returned more bytes than were sent", index, c->received);
    if (memcmp(buf, pattern + c->received % PERIOD, (size_t)n) != 0) fail(2, "echo corrupted: bytes differ from what was sent", index, c->received);
    c->received += (uint64_t)n;
    return (size_t)n;
}

/* Writes up to the end of the current block, if fewer than DEPTH blocks are in flight. */
static void write_block(struct conn *c, int index) {
    uint64_t in_flight = c->sent - c->received;
    if (in_flight >= (uint64_t)DEPTH * BLOCK) return;
    size_t want = BLOCK - c->sent % BLOCK;
    if (want > (uint64_t)DEPTH * BLOCK - in_flight) want = (size_t)((uint64_t)DEPTH * BLOCK - in_flight);
    ssize_t n = write(c->fd, pattern + c->sent % PERIOD, want);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        fail(2, strerror(errno), index, c->sent);
    }
    c->sent += (uint64_t)n;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: loadgen HOST PORT CONNS SECONDS [WARMUP_SECONDS]\n");
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    int nconns = atoi(argv[3]);
    double seconds = atof(argv[4]);
    double warmup = argc == 6 ? atof(argv[5]) : 0.25;
    if (port <= 0 || port > 65535 || nconns < 1 || nconns > MAX_CONNS || seconds <= 0 || warmup < 0) {
        fprintf(stderr, "loadgen: bad arguments\n");
        return 1;
    }

    unsigned char alphabet[PERIOD];
    int letters = 0;
    for (int ch = ' '; letters < PERIOD; ch++) {
        if (ch != '\'' && ch != '\\') alphabet[letters++] = (unsigned char)ch;
    }
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = alphabet[i % PERIOD];

    struct conn conns[MAX_CONNS];
    struct pollfd fds[MAX_CONNS];
    for (int i = 0; i < nconns; i++) conns[i] = (struct conn){ .fd = connect_to(host, port) };

    double start = now();
    double measure_from = start + warmup;
    double end = measure_from + seconds;
    double last_progress = start;
    uint64_t counted_from = 0;   /* total received when the warmup ended */
    int measuring = warmup == 0;
    uint64_t total_received = 0;

    /* Load phase: keep every connection writing and reading until the deadline. */
    for (;;) {
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            counted_from = total_received;
        }
        if (t >= end) break;
        if (t - last_progress > STALL_SECONDS) fail(2, "echo stalled: nothing came back", -1, total_received);
        for (int i = 0; i < nconns; i++) {
            int can_write = conns[i].sent - conns[i].received < (uint64_t)DEPTH * BLOCK;
            fds[i] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN | (can_write ? POLLOUT : 0) };
        }
        double until = (measuring ? end : measure_from) - t;
        int timeout_ms = (int)(until * 1000) + 1;
        if (poll(fds, nconns, timeout_ms) < 0 && errno != EINTR) fail(2, strerror(errno), -1, 0);
        for (int i = 0; i < nconns; i++) {
            if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) {
                size_t n = read_echo(&conns[i], i);
                if (n > 0) {
                    total_received += n;
                    last_progress = now();
                }
            }
            if (fds[i].revents & POLLOUT) write_block(&conns[i], i);
        }
    }
    double elapsed = now() - measure_from;
    uint64_t counted = total_received - counted_from;

    /* Drain: everything still in flight must come back intact too. */
    double drain_deadline = now() + STALL_SECONDS;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < nconns; i++) {
            fds[i] = (struct pollfd){ .fd = conns[i].fd, .events = conns[i].received < conns[i].sent ? POLLIN : 0 };
            if (conns[i].received < conns[i].sent) pending = 1;
        }
        if (!pending) break;
        if (now() > drain_deadline) fail(2, "echo incomplete: bytes sent never came back", -1, total_received);
        if (poll(fds, nconns, 100) < 0 && errno != EINTR) fail(2, strerror(errno), -1, 0);
        for (int i = 0; i < nconns; i++) {
            if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) total_received += read_echo(&conns[i], i);
        }
    }
    for (int i = 0; i < nconns; i++) close(conns[i].fd);

    printf("{\"conns\":%d,\"blockBytes\":%d,\"depthBlocks\":%d,\"seconds\":%.4f,\"bytes\":%llu,\"mbps\":%.2f,\"verifiedBytes\":%llu}\n",
           nconns, BLOCK, DEPTH, elapsed, (unsigned long long)counted, counted / elapsed / 1e6,
           (unsigned long long)total_received);
    return 0;
}
