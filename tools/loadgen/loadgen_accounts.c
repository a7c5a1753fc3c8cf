/* loadgen_accounts.c - device sync needs one user per pair: before the run,
 * each pair registers (or, when the email is taken, logs in) over the REST
 * API the node offers (POST /api/auth/register, /api/auth/login; the
 * Socket.IO baseline answers the same) and keeps the JWT for its CONNECT.
 *
 * A small HTTP/1.1 client on non-blocking sockets and poll(), a few requests
 * at once, alternating between the two URLs' servers: each answer costs the
 * server a password hash (~50 ms), so both nodes hash in parallel. It runs
 * before the event loop starts and outside the measured window. */
#include "loadgen.h"
#include "sr_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ACCT_PARALLEL 8
#define ACCT_PASSWORD "loadgen-password"

typedef struct acct_req {
    int fd;
    lg_pair *pair;
    const lg_url *url;
    bool login; /* second try: the email was taken */
    char out[512];
    size_t out_len, out_off;
    sr_buf in;
} acct_req;

static int open_socket(const lg_url *u)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", u->port);
    if (getaddrinfo(u->host, port, &hints, &ai) != 0) return -1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int start(sr_loadgen *lg, acct_req *r)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"email\":\"%s-%u@loadgen.test\",\"password\":\"%s\"}",
                     lg->opt.accounts, r->pair->index, ACCT_PASSWORD);
    r->out_len =
        (size_t)snprintf(r->out, sizeof r->out,
                         "POST /api/auth/%s HTTP/1.1\r\nHost: %s:%d\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n"
                         "Connection: close\r\n\r\n%s",
                         r->login ? "login" : "register", r->url->host, r->url->port, n, body);
    r->out_off = 0;
    sr_buf_reset(&r->in);
    r->fd = open_socket(r->url);
    return r->fd < 0 ? -1 : 0;
}

static void fail(sr_loadgen *lg, acct_req *r, const char *why)
{
    r->pair->failed = true;
    sr_loadgen_error(lg, &lg->err.pair_failed, "account %s-%u at %s:%d: %s", lg->opt.accounts,
                     r->pair->index, r->url->host, r->url->port, why);
}

/* The whole answer is in: keep the token, or log in when the email is taken.
 * Returns true when another request goes out on this slot for the same pair. */
static bool finish(sr_loadgen *lg, acct_req *r)
{
    int status = 0;
    sscanf(r->in.data ? r->in.data : "", "HTTP/1.%*d %d", &status);
    if (status == 409 && !r->login) {
        r->login = true;
        return true;
    }
    const char *open = r->in.data ? memchr(r->in.data, '{', r->in.len) : NULL;
    const char *close = r->in.len ? r->in.data + r->in.len : NULL;
    while (close && close > r->in.data && close[-1] != '}')
        close--;
    sr_json_doc doc;
    char token[1024];
    if (status == 429) {
        fail(lg, r, "429 (raise the node's AUTH_RATE_LIMIT)");
    } else if ((status != 200 && status != 201) || !open || close <= open ||
               sr_json_parse(&doc, open, (size_t)(close - open)) < 0 ||
               sr_json_string(sr_json_get(&doc, "token"), token, sizeof token) < 0) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %d without a token", status);
        fail(lg, r, why);
    } else {
        r->pair->jwt = sr_xstrdup(token);
    }
    return false;
}

/* One poll() event on a slot's socket. Returns true while the request goes on. */
static bool step(sr_loadgen *lg, acct_req *r, short revents)
{
    if (r->out_off < r->out_len && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t n = write(r->fd, r->out + r->out_off, r->out_len - r->out_off);
        if (n < 0 && errno != EAGAIN) {
            fail(lg, r, strerror(errno));
            return false;
        }
        if (n > 0) r->out_off += (size_t)n;
        return true;
    }
    if (!(revents & (POLLIN | POLLERR | POLLHUP))) return true;
    char buf[4096];
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n > 0) {
        sr_buf_append(&r->in, buf, (size_t)n);
        return true;
    }
    if (n < 0 && errno == EAGAIN) return true;
    close(r->fd);
    r->fd = -1;
    if (!finish(lg, r)) return false;
    if (start(lg, r) == 0) return true;
    fail(lg, r, "cannot connect");
    return false;
}

unsigned sr_loadgen_accounts(sr_loadgen *lg)
{
    acct_req slots[ACCT_PARALLEL];
    struct pollfd pfd[ACCT_PARALLEL];
    unsigned next = 0, busy = 0, ok = 0;
    uint64_t deadline = sr_loadgen_now_ns() + (uint64_t)(lg->opt.setup_timeout * 1e9);
    memset(slots, 0, sizeof slots);
    for (int i = 0; i < ACCT_PARALLEL; i++) {
        slots[i].fd = -1;
        sr_buf_init(&slots[i].in);
    }
    while ((next < lg->opt.pairs || busy) && sr_loadgen_now_ns() < deadline) {
        for (int i = 0; i < ACCT_PARALLEL && next < lg->opt.pairs; i++) {
            acct_req *r = &slots[i];
            if (r->fd >= 0) continue;
            r->pair = &lg->pairs[next];
            r->url = &lg->opt.url[next % 2]; /* both servers hash at once */
            r->login = false;
            next++;
            if (start(lg, r) < 0)
                fail(lg, r, "cannot connect");
            else
                busy++;
        }
        for (int i = 0; i < ACCT_PARALLEL; i++)
            pfd[i] =
                (struct pollfd){.fd = slots[i].fd,
                                .events = slots[i].out_off < slots[i].out_len ? POLLOUT : POLLIN};
        if (poll(pfd, ACCT_PARALLEL, 100) < 0 && errno != EINTR) break;
        for (int i = 0; i < ACCT_PARALLEL; i++) {
            acct_req *r = &slots[i];
            if (r->fd < 0 || !pfd[i].revents) continue;
            if (step(lg, r, pfd[i].revents)) continue;
            if (r->fd >= 0) close(r->fd);
            r->fd = -1;
            busy--;
        }
    }
    for (int i = 0; i < ACCT_PARALLEL; i++) {
        if (slots[i].fd >= 0) {
            close(slots[i].fd);
            fail(lg, &slots[i], "no answer in time");
        }
        sr_buf_free(&slots[i].in);
    }
    for (unsigned i = 0; i < lg->opt.pairs; i++)
        ok += lg->pairs[i].jwt != NULL;
    return ok;
}
