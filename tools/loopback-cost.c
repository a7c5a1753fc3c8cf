/* loopback-cost.c - the kernel's cost of one send and one receive of a
 * relayed message on loopback TCP: the floor under the node's system time per
 * message (BENCHMARKS.md). One process, one connected pair of TCP sockets on
 * 127.0.0.1; each round sends BYTES on one end and receives them on the
 * other, COUNT times, then prints CPU time (user and system, getrusage) per
 * round. On loopback the send also runs the receiver's TCP input, so a round
 * is what the kernel does for one message leaving one socket and arriving on
 * another. With BATCH > 1 each send carries BATCH messages (one writev of
 * several frames), and the figures are per message.
 *
 *   cc -O2 -o /tmp/loopback-cost tools/loopback-cost.c
 *   /tmp/loopback-cost [BYTES=300] [COUNT=200000] [BATCH=1]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu_us(int who_sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct timeval tv = who_sys ? ru.ru_stime : ru.ru_utime;
    return tv.tv_sec * 1e6 + tv.tv_usec;
}

int main(int argc, char **argv)
{
    size_t bytes = argc > 1 ? strtoul(argv[1], NULL, 10) : 300;
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    long batch = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) < 0)
        return perror("listen"), 1;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) return perror("connect"), 1;
    int s = accept(l, NULL, NULL);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t n = bytes * (size_t)batch;
    char *buf = malloc(n), *in = malloc(n);
    memset(buf, 'x', n);
    double u0 = cpu_us(0), s0 = cpu_us(1);
    for (long i = 0; i < count / batch; i++) {
        if (send(c, buf, n, 0) != (ssize_t)n) return perror("send"), 1;
        for (size_t got = 0; got < n;) {
            ssize_t r = recv(s, in + got, n - got, 0);
            if (r <= 0) return perror("recv"), 1;
            got += (size_t)r;
        }
    }
    double u = cpu_us(0) - u0, sy = cpu_us(1) - s0;
    long msgs = count / batch * batch;
    printf("%zu-byte messages, %ld per send: per message user %.2f us, system %.2f us\n", bytes,
           batch, u / msgs, sy / msgs);
    return 0;
}
