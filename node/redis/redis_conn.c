/* redis_conn.c - hiredis async connection with reconnect and watchdog (see
 * redis_conn.h). Modelled on h2o's lib/common/redis.c. */
#include "redis_conn.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_clock.h"
#include "sr_log.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define SR_REDIS_BACKOFF_MIN_MS 100
#define SR_REDIS_BACKOFF_MAX_MS 5000
#define SR_REDIS_TIMEOUT_MS 5000

static void connect_now(sr_redis *r);

static void schedule_retry(sr_redis *r)
{
    if (r->closing) return;
    struct timeval tv = {r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};
    event_add(r->retry, &tv);
    r->backoff_ms =
        r->backoff_ms * 2 > SR_REDIS_BACKOFF_MAX_MS ? SR_REDIS_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void set_down(sr_redis *r)
{
    bool was_up = r->up;
    r->connect_started_ms = 0;
    r->up = false;
    r->handshake = false;
    r->ac = NULL;
    r->ssl = NULL; /* freed with the context */
    r->pending = 0;
    if (was_up && r->on_state) r->on_state(r, false, r->privdata);
    schedule_retry(r);
}

static void send_raw(sr_redis *r, redisCallbackFn *fn, int argc, const char **argv)
{
    size_t lens[3];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisAsyncCommandArgv(r->ac, fn, r, argc, argv, lens);
}

/* Redis answered the PING sent after AUTH and SELECT: only now is the
 * connection up. A stopped or wedged server still completes TCP connects (the
 * kernel's listen backlog), so "connected" alone would let commands hang
 * again for a watchdog period after every reconnect, with /ready flapping. */
static void on_ready(redisAsyncContext *ac, void *reply, void *arg)
{
    sr_redis *r = arg;
    const redisReply *rep = reply;
    if (!rep || r->ac != ac || r->up) return; /* NULL: the context is going away */
    if (rep->type == REDIS_REPLY_ERROR) {     /* NOAUTH, LOADING, ...: retry later */
        sr_log_warn("redis %s: not ready: %s", r->name, rep->str);
        sr_redis_reset(r);
        return;
    }
    sr_log_info("redis %s: connected", r->name);
    r->up = true;
    r->handshake = false;
    r->connect_started_ms = 0;
    r->backoff_ms = SR_REDIS_BACKOFF_MIN_MS;
    r->progress_ms = sr_monotonic_ms();
    if (r->on_state) r->on_state(r, true, r->privdata);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    sr_redis *r = ac->data;
    if (status != REDIS_OK) {
        sr_log_warn("redis %s: cannot connect: %s", r->name, ac->errstr);
        set_down(r); /* hiredis frees the context after this callback */
        return;
    }
    /* still connect_started_ms: the watchdog bounds the handshake too */
    r->handshake = true;
    const sr_redis_target *t = r->target;
    if (t->password) {
        const char *argv[3] = {"AUTH", t->username ? t->username : t->password, t->password};
        send_raw(r, NULL, t->username ? 3 : 2, argv);
    }
    if (t->db) {
        char db[8];
        snprintf(db, sizeof db, "%d", t->db);
        const char *argv[2] = {"SELECT", db};
        send_raw(r, NULL, 2, argv);
    }
    const char *ping[1] = {"PING"};
    send_raw(r, on_ready, 1, ping);
}

/* Says why a TLS handshake failed when the server's certificate was the
 * reason (OpenSSL's own error then only says "certificate verify failed"). */
static bool log_refused_certificate(sr_redis *r, struct ssl_st *ssl)
{
    long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (verify == X509_V_OK) return false;
    sr_log_warn("redis %s: TLS: server certificate refused: %s (name checked: %s)", r->name,
                X509_verify_cert_error_string(verify), r->target->tls_server_name);
    return true;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    sr_redis *r = ac->data;
    if (!r->closing && !log_refused_certificate(r, r->ssl))
        sr_log_warn("redis %s: disconnected%s%s", r->name, ac->errstr[0] ? ": " : "", ac->errstr);
    set_down(r);
}

static void tls_fail(const char *what, const char *file)
{
    char msg[256];
    ERR_error_string_n(ERR_get_error(), msg, sizeof msg);
    sr_log_error("redis TLS: cannot load %s %s: %s", what, file, msg);
    exit(2);
}

/* One client context for every connection to the target: CA, client
 * certificate and key are read once, at start. */
static struct ssl_ctx_st *tls_context(const sr_redis_target *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) tls_fail("an OpenSSL", "context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, t->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (t->tls_ca_file ? !SSL_CTX_load_verify_locations(ctx, t->tls_ca_file, NULL)
                       : !SSL_CTX_set_default_verify_paths(ctx))
        tls_fail("CA file", t->tls_ca_file ? t->tls_ca_file : "(system default)");
    if (t->tls_cert && SSL_CTX_use_certificate_chain_file(ctx, t->tls_cert) != 1)
        tls_fail("certificate", t->tls_cert);
    if (t->tls_key && SSL_CTX_use_PrivateKey_file(ctx, t->tls_key, SSL_FILETYPE_PEM) != 1)
        tls_fail("key", t->tls_key);
    return ctx;
}

/* hiredis' own SSL context checks the chain but not the name (1.2 sets SNI
 * only), so the SSL object is made here: the certificate must carry
 * tls_server_name (a DNS name, or an IP address in its IP SANs). */
static int tls_start(sr_redis *r, redisAsyncContext *ac)
{
    const sr_redis_target *t = r->target;
    SSL *ssl = SSL_new(r->ssl_ctx);
    if (!ssl) {
        sr_log_warn("redis %s: cannot start TLS: out of memory", r->name);
        return -1;
    }
    unsigned char ip[16];
    const char *name = t->tls_server_name;
    bool is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, name); /* SNI may not be an address */
    if (t->tls_verify && (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
                                : !SSL_set1_host(ssl, name))) {
        sr_log_warn("redis %s: cannot check the name %s", r->name, name);
        SSL_free(ssl);
        return -1;
    }
    if (redisInitiateSSL(&ac->c, ssl) != REDIS_OK) { /* not taken on failure */
        if (!log_refused_certificate(r, ssl))        /* a loopback handshake can end here */
            sr_log_warn("redis %s: cannot start TLS: %s", r->name, ac->c.errstr);
        SSL_free(ssl);
        return -1;
    }
    r->ssl = ssl;
    return 0;
}

/* hiredis reads up to 16 KiB, then parses the replies, and after each one
 * that leaves 1 KiB consumed moves the unread rest of its buffer to the
 * front: with ~300-byte pub/sub messages, eight times the bytes read
 * (`sdsrange`, 7 % of a relayed message's instructions). So one read of the
 * socket lands in r->stash and hiredis' read gets it back a few KiB at a
 * time, each piece parsed before the next: the moves stay within a piece. */
#define SR_REDIS_PIECE 2048

static ssize_t chunked_read(redisContext *c, char *buf, size_t cap)
{
    sr_redis *r = ((redisAsyncContext *)c)->data;
    if (r->stash_pos == r->stash_len) {
        ssize_t n = r->socket_funcs->read(c, r->stash, sizeof r->stash);
        if (n <= 0) return n;
        r->stash_pos = 0;
        r->stash_len = (size_t)n;
    }
    size_t n = r->stash_len - r->stash_pos;
    if (n > cap) n = cap;
    if (n > SR_REDIS_PIECE) n = SR_REDIS_PIECE;
    memcpy(buf, r->stash + r->stash_pos, n);
    r->stash_pos += n;
    return (ssize_t)n;
}

static void chunked_async_read(redisAsyncContext *ac)
{
    sr_redis *r = ac->data;
    do
        r->socket_funcs->async_read(ac); /* one piece, and its replies' callbacks */
    while (r->ac == ac && r->stash_pos < r->stash_len);
}

/* After TLS is set up (which changes the context's functions). */
static void read_in_pieces(sr_redis *r, redisAsyncContext *ac)
{
    r->socket_funcs = ac->c.funcs;
    r->funcs = *ac->c.funcs;
    r->funcs.read = chunked_read;
    r->funcs.async_read = chunked_async_read;
    r->stash_pos = r->stash_len = 0;
    ac->c.funcs = &r->funcs;
}

static void connect_now(sr_redis *r)
{
    const sr_redis_target *t = r->target;
    redisAsyncContext *ac =
        t->unix_path ? redisAsyncConnectUnix(t->unix_path) : redisAsyncConnect(t->host, t->port);
    if (ac && !ac->err && t->tls && tls_start(r, ac) < 0) { /* logged */
        redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    if (!ac || ac->err) {
        sr_log_warn("redis %s: cannot connect: %s", r->name, ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    sr_redis_reply_functions(ac);
    read_in_pieces(r, ac);
    r->ac = ac;
    r->connect_started_ms = sr_monotonic_ms();
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* The commands queued in this loop turn, written at its end instead of on
 * the write event hiredis asked for: with the base's epoll changelist
 * (main.c), that event's add and delete in the same turn cost no epoll_ctl
 * (they were ~0.25 per relayed message). A socket that takes only part keeps
 * the write event. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    sr_redis *r = arg;
    r->flush_due = false;
    if (r->ac && r->up) redisAsyncHandleWrite(r->ac);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    connect_now(arg);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    sr_redis *r = arg;
    uint64_t now = sr_monotonic_ms();
    if (!r->up && r->ac && r->connect_started_ms && now - r->connect_started_ms > r->timeout_ms) {
        sr_log_warn("redis %s: connect timed out after %u ms", r->name, r->timeout_ms);
        if (r->handshake) { /* connected, PING unanswered: hiredis calls on_disconnect */
            sr_redis_reset(r);
            return;
        }
        /* hiredis' async connect has no timeout of its own: a black-holed address would
         * hold us for the kernel's SYN retries. Never connected, so hiredis
         * calls no disconnect callback: go down by hand. */
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
        set_down(r);
        return;
    }
    if (r->up && r->pending && sr_monotonic_ms() - r->progress_ms > r->timeout_ms) {
        sr_log_warn("redis %s: no reply for %u ms, reconnecting", r->name, r->timeout_ms);
        sr_redis_reset(r);
    }
}

void sr_redis_init(sr_redis *r, struct event_base *base, const sr_redis_target *target,
                   const char *name, sr_redis_state_cb *on_state, void *privdata)
{
    memset(r, 0, sizeof *r);
    r->base = base;
    r->target = target;
    r->name = name;
    r->on_state = on_state;
    r->privdata = privdata;
    r->backoff_ms = SR_REDIS_BACKOFF_MIN_MS;
    r->timeout_ms = SR_REDIS_TIMEOUT_MS;
    r->retry = evtimer_new(base, retry_cb, r);
    r->watchdog = event_new(base, -1, EV_PERSIST, watchdog_cb, r);
    r->flush = event_new(base, -1, 0, flush_cb, r);
    if (target->tls) r->ssl_ctx = tls_context(target);
    struct timeval tv = {1, 0};
    event_add(r->watchdog, &tv);
    connect_now(r);
}

void sr_redis_reset(sr_redis *r)
{
    if (r->ac) redisAsyncFree(r->ac); /* fails pending callbacks, calls on_disconnect */
}

void sr_redis_close(sr_redis *r)
{
    r->closing = true;
    if (r->ac) redisAsyncFree(r->ac);
    r->ac = NULL;
    event_free(r->retry);
    event_free(r->watchdog);
    event_free(r->flush);
    sr_buf_free(&r->command);
    SSL_CTX_free(r->ssl_ctx);
}

typedef struct pending_cmd {
    sr_redis *r;
    sr_store_cb *fn;
    void *privdata;
    uint64_t sent_us;
    sr_redis_call_fn *call_fn; /* instead of fn: sr_redis_call */
    void (*cb)(void);
    struct pending_cmd *next_spare;
} pending_cmd;

/* Every command takes a record and they come back in bursts of as many as
 * are in flight, so they are recycled here (as core_op.c's ops). Not under
 * AddressSanitizer, which can then catch a record used after its reply. */
#if defined(__SANITIZE_ADDRESS__)
#define SR_SPARE_CMDS_MAX 0
#else
#define SR_SPARE_CMDS_MAX 4096
#endif
static pending_cmd *spare_cmds;
static int nspare_cmds;

static pending_cmd *cmd_new(void)
{
    pending_cmd *p = spare_cmds;
    if (!p) return sr_xmalloc(sizeof *p);
    spare_cmds = p->next_spare;
    nspare_cmds--;
    return p;
}

static void cmd_free(pending_cmd *p)
{
    if (nspare_cmds >= SR_SPARE_CMDS_MAX) {
        free(p);
        return;
    }
    p->next_spare = spare_cmds;
    spare_cmds = p;
    nspare_cmds++;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    pending_cmd *p = arg;
    sr_redis *r = p->r;
    const redisReply *rep = reply;
    if (rep) {
        uint64_t now = sr_monotonic_us();
        r->commands++;
        r->rtt_us_sum += now - p->sent_us;
        r->progress_ms = now / 1000;
        if (rep->type == REDIS_REPLY_ERROR) {
            r->failures++;
            sr_log_warn("redis %s: %s", r->name, rep->str);
            /* the script cache was flushed behind our back: set up again */
            if (!strncmp(rep->str, "NOSCRIPT", 8) && r->on_state) r->on_state(r, true, r->privdata);
            rep = NULL;
        }
    } else {
        r->failures++;
    }
    if (r->pending) r->pending--;
    if (p->call_fn)
        p->call_fn((const sr_reply *)rep, p->cb, p->privdata);
    else if (p->fn)
        p->fn((const sr_reply *)rep, p->privdata);
    cmd_free(p);
}

/* Writes v in decimal at p; returns the end. */
static char *put_decimal(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* argv in RESP, formatted here instead of by hiredis: its sdscatfmt-based
 * formatter was the largest cost of a relayed message (callgrind, BENCHMARKS.md). */
static void format_command(sr_buf *b, int argc, const char **argv, const size_t *lens)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++)
        need += lens[i] + 24;
    sr_buf_reset(b);
    sr_buf_reserve(b, need);
    char *p = b->data;
    *p++ = '*';
    p = put_decimal(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        *p++ = '$';
        p = put_decimal(p, lens[i]);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    b->len = (size_t)(p - b->data);
}

static int send_command(sr_redis *r, pending_cmd *p, int argc, const char **argv,
                        const size_t *lens)
{
    if (!r->up || !r->ac) {
        r->failures++;
        cmd_free(p);
        return -1;
    }
    size_t tmp[64];
    if (!lens) { /* C strings: measure them (callers with more pass lens) */
        if (argc > 64) {
            r->failures++;
            cmd_free(p);
            return -1;
        }
        for (int i = 0; i < argc; i++)
            tmp[i] = strlen(argv[i]);
        lens = tmp;
    }
    p->sent_us = sr_monotonic_us();
    format_command(&r->command, argc, argv, lens);
    int rc = redisAsyncFormattedCommand(r->ac, on_reply, p, r->command.data, r->command.len);
    if (r->command.cap > 1024 * 1024) sr_buf_free(&r->command); /* hiredis has copied it */
    if (rc != REDIS_OK) {
        cmd_free(p);
        r->failures++;
        return -1;
    }
    if (r->pending++ == 0) r->progress_ms = p->sent_us / 1000;
    if (!r->flush_due) {
        r->flush_due = true;
        event_active(r->flush, EV_TIMEOUT, 0);
    }
    return 0;
}

int sr_redis_command(sr_redis *r, sr_store_cb *fn, void *privdata, int argc, const char **argv,
                     const size_t *lens)
{
    pending_cmd *p = cmd_new();
    *p = (pending_cmd){.r = r, .fn = fn, .privdata = privdata};
    return send_command(r, p, argc, argv, lens);
}

int sr_redis_call(sr_redis *r, sr_redis_call_fn *fn, void (*cb)(void), void *arg, int argc,
                  const char **argv, const size_t *lens)
{
    pending_cmd *p = cmd_new();
    *p = (pending_cmd){.r = r, .call_fn = fn, .cb = cb, .privdata = arg};
    return send_command(r, p, argc, argv, lens);
}
