/* rtpload: RTP load generator and meter for benchmarks/media_capacity.py.
 *
 * N bridged calls through a relay: for call i, socket A sends 20 ms G.711 packets to the
 * relay's caller-facing port PA[i], which must relay them to socket B; socket B sends to
 * PB[i], relayed to socket A. Each payload carries a magic, the stream id, a sequence number,
 * the repeat index and the CLOCK_MONOTONIC send time, so that each received packet gives its
 * one-way latency through the relay (two loopback hops included) and each stream its loss.
 *
 * Sending is paced in 1 ms slots (1/20 of the streams per slot) with sendmmsg; after each slot
 * the sockets are drained with recvmmsg. The receive time of each packet is the kernel's
 * (SO_TIMESTAMPNS, CLOCK_REALTIME, as are the send times in the payloads), so when the
 * generator reads a packet does not change the latency measured. The sending lag behind
 * schedule is reported, so a run where the generator itself could not keep up is visible.
 *
 * usage: rtpload PORT_A PORT_B TARGETS_FILE WARMUP_S WINDOW_S REPEATS
 *   TARGETS_FILE: one line "PA PB" per call.
 * Output: one JSON object per repeat and a final "generator" object, on stdout.
 * With RTPLOAD_SERIES=FILE in the environment, also FILE.PID: one line per 100 ms of send
 * time, "T_S PACKETS OVER_10MS MAX_MS", to see when the latency tail happens (periodic work
 * in the relay shows as a period in these lines).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x544d5342u /* "TMSB" */
#define PKT 172           /* 12 header + 160 payload */
#define SLOTS 20
#define BATCH 64
#define BUCKET_US 10
#define NBUCKETS 200000 /* 2 s */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int udp_socket(int port) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 16 * 1024 * 1024;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    int on = 1;
    setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("bind");
        exit(2);
    }
    return s;
}

static int ncalls, nstreams, repeats;
static struct sockaddr_in *dest; /* per stream */
static uint32_t *seqs;           /* per stream */
static uint64_t *sent, *recvd;   /* [rep * nstreams + stream] */
static uint32_t *hist;           /* [rep * NBUCKETS + bucket] */
static uint64_t late_drop;       /* packets received with a bad magic or repeat */
static int64_t series_t0;        /* RTPLOAD_SERIES: send time of slot 0 */
static int nseries;              /* 100 ms slots */
static uint32_t *series_n, *series_over, *series_max_us;

static void drain(int s) {
    static unsigned char bufs[BATCH][256];
    static struct mmsghdr msgs[BATCH];
    static struct iovec iov[BATCH];
    static char ctrl[BATCH][64];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = sizeof bufs[i];
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctrl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
        }
        int n = recvmmsg(s, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        int64_t fallback = now_ns();
        for (int i = 0; i < n; i++) {
            unsigned char *p = bufs[i];
            int64_t t = fallback;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                }
            }
            if (msgs[i].msg_len < 36) { late_drop++; continue; }
            uint32_t magic, stream, rep;
            int64_t sent_ns;
            memcpy(&magic, p + 12, 4);
            memcpy(&stream, p + 16, 4);
            memcpy(&rep, p + 24, 4);
            memcpy(&sent_ns, p + 28, 8);
            if (magic != MAGIC || stream >= (uint32_t)nstreams) { late_drop++; continue; }
            if (rep == 0xffffffffu) continue; /* warm-up */
            if (rep >= (uint32_t)repeats) { late_drop++; continue; }
            recvd[(size_t)rep * nstreams + stream]++;
            int64_t us = (t - sent_ns) / 1000;
            int64_t b = us / BUCKET_US;
            if (b < 0) b = 0;
            if (b >= NBUCKETS) b = NBUCKETS - 1;
            hist[(size_t)rep * NBUCKETS + b]++;
            if (nseries) {
                int64_t k = (sent_ns - series_t0) / 100000000;
                if (k >= 0 && k < nseries) {
                    series_n[k]++;
                    if (us > 10000) series_over[k]++;
                    if (us > (int64_t)series_max_us[k]) series_max_us[k] = (uint32_t)us;
                }
            }
        }
    }
}

static double pct(uint32_t *h, uint64_t total, double q) {
    if (!total) return -1;
    uint64_t want = (uint64_t)(q * (double)total), acc = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        acc += h[b];
        if (acc > want) return (b + 1) * BUCKET_US / 1000.0;
    }
    return NBUCKETS * BUCKET_US / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: rtpload PORT_A PORT_B TARGETS WARMUP_S WINDOW_S REPEATS\n");
        return 2;
    }
    int sa = udp_socket(atoi(argv[1])), sb = udp_socket(atoi(argv[2]));
    double warmup = atof(argv[4]), window = atof(argv[5]);
    repeats = atoi(argv[6]);
    FILE *f = fopen(argv[3], "r");
    if (!f) { perror("targets"); return 2; }
    int cap = 1024, pa, pb;
    int *ports = malloc(sizeof(int) * 2 * cap);
    while (fscanf(f, "%d %d", &pa, &pb) == 2) {
        if (ncalls == cap) { cap *= 2; ports = realloc(ports, sizeof(int) * 2 * cap); }
        ports[2 * ncalls] = pa;
        ports[2 * ncalls + 1] = pb;
        ncalls++;
    }
    fclose(f);
    nstreams = 2 * ncalls;
    dest = calloc(nstreams, sizeof *dest);
    seqs = calloc(nstreams, sizeof *seqs);
    sent = calloc((size_t)repeats * nstreams, sizeof *sent);
    recvd = calloc((size_t)repeats * nstreams, sizeof *recvd);
    hist = calloc((size_t)repeats * NBUCKETS, sizeof *hist);
    for (int s = 0; s < nstreams; s++) {
        dest[s].sin_family = AF_INET;
        dest[s].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        dest[s].sin_port = htons(ports[s]); /* even stream: A -> PA[i]; odd: B -> PB[i] */
        seqs[s] = (uint32_t)rand();
    }

    unsigned char(*buf)[PKT] = calloc((size_t)nstreams, PKT);
    struct mmsghdr *msgs = calloc((size_t)nstreams, sizeof *msgs);
    struct iovec *iov = calloc((size_t)nstreams, sizeof *iov);

    int64_t t0 = now_ns() + 50000000;
    int64_t warm_ns = (int64_t)(warmup * 1e9), win_ns = (int64_t)(window * 1e9);
    int64_t end_ns = t0 + warm_ns + win_ns * repeats;
    int64_t max_lag = 0, slot_ns = 1000000;
    const char *series_path = getenv("RTPLOAD_SERIES");
    if (series_path) {
        series_t0 = t0;
        nseries = (int)((end_ns - t0) / 100000000) + 1;
        series_n = calloc(nseries, sizeof *series_n);
        series_over = calloc(nseries, sizeof *series_over);
        series_max_us = calloc(nseries, sizeof *series_max_us);
    }
    struct pollfd pfd[2] = {{.fd = sa, .events = POLLIN}, {.fd = sb, .events = POLLIN}};
    for (int64_t k = 0;; k++) {
        int64_t due = t0 + k * slot_ns;
        if (due >= end_ns) break;
        drain(sa);
        drain(sb);
        int64_t wait = due - now_ns();
        if (wait > 0) {
            struct timespec d = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
            nanosleep(&d, NULL);
        }
        int64_t t = now_ns();
        if (t - due > max_lag) max_lag = t - due;
        int slot = (int)(k % SLOTS);
        uint32_t rep = 0xffffffffu;
        if (t >= t0 + warm_ns) rep = (uint32_t)((t - t0 - warm_ns) / win_ns);
        if (rep != 0xffffffffu && rep >= (uint32_t)repeats) break;
        for (int side = 0; side < 2; side++) {
            int n = 0;
            for (int s = slot * 2 + side; s < nstreams; s += SLOTS * 2) {
                unsigned char *p = buf[n];
                uint32_t q = seqs[s]++;
                p[0] = 0x80;
                p[1] = 0;
                uint16_t seq16 = htons((uint16_t)q);
                uint32_t ts = htonl(q * 160), ssrc = htonl((uint32_t)s + 1), magic = MAGIC;
                uint32_t st = (uint32_t)s;
                memcpy(p + 2, &seq16, 2);
                memcpy(p + 4, &ts, 4);
                memcpy(p + 8, &ssrc, 4);
                memcpy(p + 12, &magic, 4);
                memcpy(p + 16, &st, 4);
                memcpy(p + 20, &q, 4);
                memcpy(p + 24, &rep, 4);
                memcpy(p + 28, &t, 8);
                memset(p + 36, 0xff, PKT - 36);
                iov[n].iov_base = p;
                iov[n].iov_len = PKT;
                memset(&msgs[n].msg_hdr, 0, sizeof msgs[n].msg_hdr);
                msgs[n].msg_hdr.msg_iov = &iov[n];
                msgs[n].msg_hdr.msg_iovlen = 1;
                msgs[n].msg_hdr.msg_name = &dest[s];
                msgs[n].msg_hdr.msg_namelen = sizeof dest[s];
                if (rep != 0xffffffffu) sent[(size_t)rep * nstreams + s]++;
                n++;
            }
            int off = 0;
            while (off < n) {
                int r = sendmmsg(side ? sb : sa, msgs + off, n - off, 0);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR) continue;
                    perror("sendmmsg");
                    break;
                }
                off += r;
            }
        }
    }
    int64_t stop = now_ns() + 1000000000; /* drain for 1 s */
    while (now_ns() < stop) {
        if (poll(pfd, 2, 50) > 0) {
            drain(sa);
            drain(sb);
        }
    }
    for (int r = 0; r < repeats; r++) {
        uint64_t ts = 0, tr = 0;
        double worst = 0;
        for (int s = 0; s < nstreams; s++) {
            uint64_t a = sent[(size_t)r * nstreams + s], b = recvd[(size_t)r * nstreams + s];
            ts += a;
            tr += b;
            if (a && b < a && (double)(a - b) / a > worst) worst = (double)(a - b) / a;
        }
        uint32_t *h = hist + (size_t)r * NBUCKETS;
        printf("{\"repeat\": %d, \"sent\": %llu, \"received\": %llu, \"loss\": %.6f, "
               "\"worst_stream_loss\": %.6f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
               "\"max_ms\": %.3f}\n",
               r, (unsigned long long)ts, (unsigned long long)tr,
               ts ? (double)(ts - (tr < ts ? tr : ts)) / ts : 0, worst, pct(h, tr, 0.5),
               pct(h, tr, 0.99), pct(h, tr, 0.999999));
    }
    if (series_path) {
        char name[4096];
        snprintf(name, sizeof name, "%s.%d", series_path, (int)getpid());
        FILE *out = fopen(name, "w");
        if (out) {
            for (int k = 0; k < nseries; k++)
                fprintf(out, "%.1f %u %u %.3f\n", k / 10.0, series_n[k], series_over[k],
                        series_max_us[k] / 1000.0);
            fclose(out);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    printf("{\"generator\": true, \"calls\": %d, \"max_send_lag_ms\": %.3f, \"cpu_s\": %.3f, "
           "\"wall_s\": %.3f, \"stray\": %llu}\n",
           ncalls, max_lag / 1e6, cpu, (end_ns - t0) / 1e9 + 1.0, (unsigned long long)late_drop);
    return 0;
}
