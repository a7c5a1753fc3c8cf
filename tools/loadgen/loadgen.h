/* loadgen.h - the syncrelay load generator's shared state.
 *
 * One process, one libevent loop, libwebsockets clients on it. P pairs: the
 * web end on one URL, the figma end on another. The web end sends numbered
 * requests, the figma end echoes each one back (numbered on its own), so
 * every relayed message is checked (arrived, in order, once) and timed one
 * way, and each request is also timed for the round trip.
 *
 * Two dialects: token sync (a pair is a token-sync session, web and figma its
 * two roles) and device sync (a pair is one user, web and figma two of its
 * devices, over Socket.IO; loadgen_accounts.c registers the users first).
 *
 * loadgen_ws.c drives the connections and token sync, loadgen_devicesync.c
 * the Socket.IO side, loadgen_main.c the phases and the report. */
#ifndef SR_LOADGEN_H
#define SR_LOADGEN_H

#include "hist.h"
#include "seqcheck.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

struct event_base;
struct lws;
struct lws_context;

enum lg_mode { LG_CLOSED, LG_RATE, LG_CAPACITY };
enum lg_dialect { LG_TOKENSYNC, LG_DEVICESYNC };
enum lg_role { LG_WEB, LG_FIGMA };
enum lg_phase { LG_RAMP, LG_WARMUP, LG_RUN, LG_DRAIN, LG_HOLD, LG_DONE };

typedef struct lg_url {
    char text[400];
    char host[128];
    char path[256];
    int port;
} lg_url;

typedef struct lg_options {
    lg_url url[2]; /* [LG_WEB], [LG_FIGMA] */
    enum lg_mode mode;
    enum lg_dialect dialect;
    char accounts[64]; /* device sync: emails are <accounts>-<pair>@loadgen.test */
    unsigned pairs, inflight, size, ramp_concurrency, sources;
    double rate; /* relayed messages/s offered, both directions together */
    double duration, warmup, hold, drain_timeout, setup_timeout;
    int pid[2]; /* node serving url[i], for RSS and CPU; 0: unknown */
    int pid_redis;
} lg_options;

typedef struct lg_item {
    uint64_t n, t;
} lg_item;

/* A FIFO of items that grows as needed. */
typedef struct lg_queue {
    lg_item *v;
    size_t head, count, cap;
} lg_queue;

typedef struct lg_conn {
    struct sr_loadgen *lg;
    struct lg_pair *pair;
    struct lws *wsi;
    enum lg_role role;
    bool connecting, open, pair_sent, paired, peer_joined, kill, gone;
    bool eio_open;  /* device sync: the Engine.IO OPEN arrived */
    unsigned pongs; /* device sync: Engine.IO pongs owed */
    lg_queue out;   /* web: requests due (t = scheduled time); figma: echoes owed (n, t) */
    sr_buf rx;      /* a message arriving in fragments */
    sr_seqcheck check;
    uint64_t last_seq; /* the relay's seq of the last sync received */
} lg_conn;

typedef struct lg_pair {
    lg_conn c[2];
    unsigned index;
    char token[32];
    char *jwt; /* device sync: the user's token */
    bool started, ready, failed;
    uint64_t requests_sent, echoes_sent;
    uint64_t inflight;    /* requests whose echo has not come back */
    uint64_t next_due_ns; /* rate mode: when the next request is due */
} lg_pair;

typedef struct lg_errors {
    uint64_t connect, closed, server, protocol, pair_failed;
    char last[200];
} lg_errors;

typedef struct lg_proc_sample {
    long rss_kib;
    double cpu_s;
} lg_proc_sample;

typedef struct sr_loadgen {
    lg_options opt;
    struct event_base *base;
    struct lws_context *ctx;
    struct event *tick;
    enum lg_phase phase;
    lg_pair *pairs;
    unsigned started, ready, failed, setting_up;
    uint64_t t0_ns; /* process start: payload times are relative to it */
    uint64_t phase_ns;
    /* ramp */
    uint64_t ramp_start_ns, ramp_end_ns;
    uint64_t established[2]; /* WebSocket connections opened per URL */
    unsigned next_source;
    /* measured window */
    uint64_t run_start_ns, run_end_ns;
    struct rusage ru_start, ru_end;
    lg_proc_sample proc_start[3], proc_end[3]; /* web node, figma node, redis */
    uint64_t relayed;                          /* syncs received in the window */
    uint64_t requests_in_window;
    sr_hist rtt, oneway;
    sr_hist send_lag; /* rate mode: how late the load generator sent a request */
    lg_errors err;
    bool stopping;
} sr_loadgen;

/* loadgen_ws.c */
int sr_loadgen_ws_init(sr_loadgen *lg);
void sr_loadgen_ws_free(sr_loadgen *lg);
/* Starts a pair: connects its web end (the figma end follows the token). */
void sr_loadgen_pair_start(sr_loadgen *lg, lg_pair *p);
/* Asks for a write on c (a request, echo or pair message is ready). */
void sr_loadgen_want_write(lg_conn *c);
void sr_loadgen_error(sr_loadgen *lg, uint64_t *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens c's WebSocket (the figma end's, once the web end is in). */
void sr_loadgen_connect(sr_loadgen *lg, lg_conn *c);
/* The pair is ready when both ends are in and each knows of the other. */
void sr_loadgen_check_ready(sr_loadgen *lg, lg_pair *p);
/* The pair cannot come up: counts it and closes what is open. */
void sr_loadgen_pair_fail(sr_loadgen *lg, lg_pair *p);
/* A relayed message arrived on c: payload is the sender's {"n","t"[,"e"],"p"}
 * object, seq the relay's seq (NULL when the relay gives none). */
void sr_loadgen_relayed(sr_loadgen *lg, lg_conn *c, const sr_json_span *payload,
                        const sr_json_span *seq);
/* Writes frame[0..len) (len bytes after LWS_PRE headroom of tx_reserve). */
unsigned char *sr_loadgen_tx_reserve(size_t n);
int sr_loadgen_write_text(lg_conn *c, const char *s, size_t n);

/* loadgen_devicesync.c */
/* The WebSocket path for device sync: /socket.io/ with the Engine.IO query. */
void sr_loadgen_ds_path(const lg_url *u, enum lg_role role, char *out, size_t cap);
/* What goes out on WRITEABLE before traffic: pongs, then the CONNECT. Returns
 * 1 when it wrote (or must wait), 0 when the caller may send traffic, -1 on error. */
int sr_loadgen_ds_writeable(sr_loadgen *lg, lg_conn *c);
/* The frame around message number n's payload object: prefix, then suffix. */
void sr_loadgen_ds_frame(uint64_t n, const char **prefix, size_t *plen, const char **suffix,
                         size_t *slen);
void sr_loadgen_ds_message(sr_loadgen *lg, lg_conn *c, const char *data, size_t len);
void sr_loadgen_ds_free(void);

/* loadgen_accounts.c */
/* Registers (or logs in) one user per pair; fills p->jwt or marks p failed.
 * Returns how many pairs got a token. */
unsigned sr_loadgen_accounts(sr_loadgen *lg);

/* loadgen_main.c */
uint64_t sr_loadgen_now_ns(void);
/* A pair became ready or failed during the ramp. */
void sr_loadgen_pair_settled(sr_loadgen *lg, lg_pair *p);

static inline void lg_queue_push(lg_queue *q, uint64_t n, uint64_t t)
{
    if (q->count == q->cap) { /* grow, unrolling the ring */
        size_t cap = q->cap ? q->cap * 2 : 16;
        lg_item *v = sr_xmalloc(cap * sizeof *v);
        for (size_t i = 0; i < q->count; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->count++) % q->cap] = (lg_item){n, t};
}

static inline bool lg_queue_pop(lg_queue *q, lg_item *out)
{
    if (!q->count) return false;
    *out = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

static inline void lg_queue_free(lg_queue *q)
{
    free(q->v);
    q->v = NULL;
    q->head = q->count = q->cap = 0;
}

#endif
