/* loadgen_ws.c - the load generator's WebSocket clients: libwebsockets on
 * the shared libevent loop, one protocol callback, one frame per WRITEABLE
 * callback, every received frame checked with the shared JSON scanner.
 *
 * A pair comes up in four steps: the web end connects and sends
 * {"type":"pair","clientType":"web"}; the token comes back; the figma end
 * connects (to the other URL) and pairs with the token; both ends see the
 * other's "peer joined". Then the pair is ready for traffic. */
#include "loadgen.h"
#include "sr_alloc.h"
#include "sr_json.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A sync frame is built here: LWS_PRE bytes of headroom, then the text. */
static unsigned char *txbuf;
static size_t txcap;

void sr_loadgen_error(sr_loadgen *lg, uint64_t *counter, const char *fmt, ...)
{
    va_list ap;
    (*counter)++;
    va_start(ap, fmt);
    vsnprintf(lg->err.last, sizeof lg->err.last, fmt, ap);
    va_end(ap);
}

void sr_loadgen_want_write(lg_conn *c)
{
    if (c->wsi && c->open) lws_callback_on_writable(c->wsi);
}

/* No validity (keepalive) timer per connection: lws keeps those in one sorted
 * list, so with thousands of connections every connect walked all of them
 * (the node pings; lws answers those pings by itself). */
static const lws_retry_bo_t no_keepalive;

static void connect_conn(sr_loadgen *lg, lg_conn *c)
{
    const lg_url *u = &lg->opt.url[c->role];
    struct lws_client_connect_info ci;
    char iface[32];
    memset(&ci, 0, sizeof ci);
    ci.context = lg->ctx;
    ci.address = u->host;
    ci.port = u->port;
    ci.path = u->path;
    ci.host = u->host;
    ci.origin = u->host;
    ci.local_protocol_name = "loadgen";
    ci.userdata = c;
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    ci.retry_and_idle_policy = &no_keepalive;
    if (lg->opt.sources > 1) {
        /* spread over 127.0.0.1..N: each source address has its own ephemeral ports */
        snprintf(iface, sizeof iface, "127.0.0.%u", 1 + lg->next_source++ % lg->opt.sources);
        ci.iface = iface;
    }
    c->connecting = true;
    if (!lws_client_connect_via_info(&ci) && c->connecting) {
        c->connecting = false;
        c->wsi = NULL;
        c->gone = true;
        sr_loadgen_error(lg, &lg->err.connect, "cannot connect to %s", u->text);
        if (!c->pair->ready && !c->pair->failed) {
            c->pair->failed = true;
            lg->err.pair_failed++;
            sr_loadgen_pair_settled(lg, c->pair);
        }
    }
}

void sr_loadgen_pair_start(sr_loadgen *lg, lg_pair *p)
{
    p->started = true;
    for (int r = 0; r < 2; r++) {
        p->c[r].lg = lg;
        p->c[r].pair = p;
        p->c[r].role = (enum lg_role)r;
    }
    connect_conn(lg, &p->c[LG_WEB]);
}

static void check_ready(sr_loadgen *lg, lg_pair *p)
{
    lg_conn *w = &p->c[LG_WEB], *f = &p->c[LG_FIGMA];
    if (p->ready || p->failed || !w->paired || !f->paired || !w->peer_joined || !f->peer_joined)
        return;
    p->ready = true;
    sr_loadgen_pair_settled(lg, p);
}

/* The pair cannot come up: count it and close what is open. */
static void pair_fail(sr_loadgen *lg, lg_pair *p)
{
    if (p->ready || p->failed) return;
    p->failed = true;
    lg->err.pair_failed++;
    for (int r = 0; r < 2; r++) {
        p->c[r].kill = true;
        sr_loadgen_want_write(&p->c[r]);
    }
    sr_loadgen_pair_settled(lg, p);
}

/* ---------- sending ---------- */

static unsigned char *tx_reserve(size_t n)
{
    if (n + LWS_PRE > txcap) {
        txcap = n + LWS_PRE + 256;
        free(txbuf);
        txbuf = sr_xmalloc(txcap);
    }
    return txbuf + LWS_PRE;
}

static int write_text(lg_conn *c, const char *s, size_t n)
{
    unsigned char *p = tx_reserve(n);
    memcpy(p, s, n);
    return lws_write(c->wsi, p, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

/* {"type":"sync","payload":{"n":N,"t":T[,"e":E],"p":"xxx..."}} with the
 * payload object exactly `size` bytes long when size allows. */
static int write_sync(sr_loadgen *lg, lg_conn *c, uint64_t n, uint64_t t, uint64_t e, bool echo)
{
    char head[160];
    int h =
        echo ? snprintf(head, sizeof head,
                        "{\"type\":\"sync\",\"payload\":{\"n\":%llu,\"t\":%llu,\"e\":%llu,\"p\":\"",
                        (unsigned long long)n, (unsigned long long)t, (unsigned long long)e)
             : snprintf(head, sizeof head,
                        "{\"type\":\"sync\",\"payload\":{\"n\":%llu,\"t\":%llu,\"p\":\"",
                        (unsigned long long)n, (unsigned long long)t);
    static const char prefix_len = sizeof "{\"type\":\"sync\",\"payload\":" - 1;
    size_t fixed = (size_t)h - (size_t)prefix_len + 2; /* payload bytes besides the filler */
    size_t fill = lg->opt.size > fixed ? lg->opt.size - fixed : 0;
    size_t len = (size_t)h + fill + 3;
    unsigned char *p = tx_reserve(len);
    memcpy(p, head, (size_t)h);
    memset(p + h, 'x', fill);
    memcpy(p + h + fill, "\"}}", 3);
    return lws_write(c->wsi, p, len, LWS_WRITE_TEXT) < (int)len ? -1 : 0;
}

static int on_writeable(sr_loadgen *lg, lg_conn *c)
{
    lg_pair *p = c->pair;
    if (c->kill) return -1;
    if (!c->pair_sent) {
        char msg[200];
        int n =
            c->role == LG_WEB
                ? snprintf(msg, sizeof msg, "{\"type\":\"pair\",\"clientType\":\"web\"}")
                : snprintf(msg, sizeof msg,
                           "{\"type\":\"pair\",\"clientType\":\"figma\",\"sessionToken\":\"%s\"}",
                           p->token);
        c->pair_sent = true;
        return write_text(c, msg, (size_t)n);
    }
    if (!p->ready) return 0;
    lg_item it;
    if (c->role == LG_WEB) {
        bool sending = lg->phase == LG_WARMUP || lg->phase == LG_RUN;
        if (!sending) return 0;
        uint64_t now = sr_loadgen_now_ns() - lg->t0_ns, t;
        if (lg->opt.mode == LG_CLOSED) {
            if (p->inflight >= lg->opt.inflight) return 0;
            t = now;
        } else {
            if (!lg_queue_pop(&c->out, &it)) return 0;
            t = it.t;
            if (lg->phase == LG_RUN && now >= t) sr_hist_record(&lg->send_lag, now - t);
        }
        p->requests_sent++;
        p->inflight++;
        if (lg->phase == LG_RUN) lg->requests_in_window++;
        if (write_sync(lg, c, p->requests_sent, t, 0, false) < 0) return -1;
        if (lg->opt.mode == LG_CLOSED ? p->inflight < lg->opt.inflight : c->out.count > 0)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (!lg_queue_pop(&c->out, &it)) return 0;
    p->echoes_sent++;
    if (write_sync(lg, c, p->echoes_sent, it.t, sr_loadgen_now_ns() - lg->t0_ns, true) < 0)
        return -1;
    if (c->out.count) lws_callback_on_writable(c->wsi);
    return 0;
}

/* ---------- receiving ---------- */

static bool get_u64(const sr_json_doc *d, const char *key, uint64_t *out)
{
    long long v;
    const sr_json_span *s = sr_json_get(d, key);
    if (!s || sr_json_int(s, &v) < 0 || v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

static void on_sync(sr_loadgen *lg, lg_conn *c, const sr_json_doc *doc)
{
    lg_pair *p = c->pair;
    const sr_json_span *payload = sr_json_get(doc, "payload");
    sr_json_doc pd;
    uint64_t seq, n, t, e = 0;
    if (!payload || !get_u64(doc, "seq", &seq) || sr_json_parse(&pd, payload->p, payload->n) < 0 ||
        !get_u64(&pd, "n", &n) || !get_u64(&pd, "t", &t) ||
        (c->role == LG_WEB && !get_u64(&pd, "e", &e))) {
        sr_loadgen_error(lg, &lg->err.protocol, "malformed sync frame");
        return;
    }
    if (seq <= c->last_seq) c->check.out_of_order++; /* the relay's seq went backwards */
    c->last_seq = seq;
    uint64_t before = c->check.distinct;
    sr_seqcheck_record(&c->check, n);
    uint64_t now = sr_loadgen_now_ns() - lg->t0_ns;
    bool measure = lg->phase == LG_RUN;
    if (measure) lg->relayed++;
    if (c->role == LG_FIGMA) {
        if (measure && now >= t) sr_hist_record(&lg->oneway, now - t);
        lg_queue_push(&c->out, n, t); /* echo it */
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (measure) {
        if (now >= t) sr_hist_record(&lg->rtt, now - t);
        if (now >= e) sr_hist_record(&lg->oneway, now - e);
    }
    if (c->check.distinct > before && p->inflight) {
        p->inflight--;
        if (lg->opt.mode == LG_CLOSED) sr_loadgen_want_write(c);
    }
}

static void on_message(sr_loadgen *lg, lg_conn *c, const char *data, size_t len)
{
    sr_json_doc doc;
    char type[16];
    lg_pair *p = c->pair;
    const sr_json_span *ts;
    if (sr_json_parse(&doc, data, len) < 0 || !(ts = sr_json_get(&doc, "type")) ||
        sr_json_string(ts, type, sizeof type) < 0) {
        sr_loadgen_error(lg, &lg->err.protocol, "not a JSON object with a type: %.60s", data);
        return;
    }
    if (!strcmp(type, "sync")) {
        on_sync(lg, c, &doc);
    } else if (!strcmp(type, "pair")) {
        const sr_json_span *tok = sr_json_get(&doc, "sessionToken");
        if (c->role == LG_WEB && !p->token[0]) {
            if (!tok || sr_json_string(tok, p->token, sizeof p->token) < 0) {
                sr_loadgen_error(lg, &lg->err.protocol, "pair reply without a token");
                pair_fail(lg, p);
                return;
            }
            connect_conn(lg, &p->c[LG_FIGMA]);
        }
        c->paired = true;
        check_ready(lg, p);
    } else if (!strcmp(type, "peer")) {
        const sr_json_span *ev = sr_json_get(&doc, "event");
        if (sr_json_string_is(ev, "joined")) {
            c->peer_joined = true;
            check_ready(lg, p);
        } else if (!lg->stopping) {
            sr_loadgen_error(lg, &lg->err.closed, "peer left a pair");
        }
    } else if (!strcmp(type, "error")) {
        sr_loadgen_error(lg, &lg->err.server, "node said: %.150s", data);
        if (!p->ready) pair_fail(lg, p);
    } else if (strcmp(type, "pong") != 0) {
        sr_loadgen_error(lg, &lg->err.protocol, "unexpected message: %.60s", data);
    }
}

static void on_receive(sr_loadgen *lg, lg_conn *c, struct lws *wsi, const char *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    bool final = lws_is_final_fragment(wsi) && remaining == 0;
    if (final && c->rx.len == 0) {
        on_message(lg, c, in, len);
        return;
    }
    sr_buf_append(&c->rx, in, len);
    if (!final) return;
    on_message(lg, c, c->rx.data, c->rx.len);
    sr_buf_reset(&c->rx);
}

static void on_gone(sr_loadgen *lg, lg_conn *c, const char *why, const char *detail)
{
    bool was_open = c->open;
    c->open = c->connecting = false;
    c->wsi = NULL;
    if (c->gone) return;
    c->gone = true;
    if (lg->stopping || c->kill) return;
    if (!c->pair->ready) {
        sr_loadgen_error(lg, was_open ? &lg->err.closed : &lg->err.connect, "%s %s: %s", why,
                         lg->opt.url[c->role].text, detail ? detail : "");
        pair_fail(lg, c->pair);
    } else {
        sr_loadgen_error(lg, &lg->err.closed, "%s %s", why, lg->opt.url[c->role].text);
    }
}

/* Our client ports must not stop another program on this host from binding
 * a listener to the same port number (it would, for 60 s after close, even
 * with SO_REUSEADDR on the listener): mark them reusable too. */
static void reuse_port(struct lws *wsi)
{
    int one = 1, fd = lws_get_socket_fd(wsi);
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    lg_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    sr_loadgen *lg = c ? c->lg : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!c) return -1;
        c->wsi = wsi;
        c->connecting = false;
        c->open = true;
        lg->established[c->role]++;
        reuse_port(wsi);
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) on_gone(lg, c, "cannot connect to", in ? (const char *)in : "");
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c) on_receive(lg, c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c ? on_writeable(lg, c) : 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c && !c->gone) on_gone(lg, c, "connection closed by", NULL);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"loadgen", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    fprintf(stderr, "loadgen: lws: %s", line);
}

int sr_loadgen_ws_init(sr_loadgen *lg)
{
    struct lws_context_creation_info info;
    void *loops[1] = {lg->base};
    lws_set_log_level(LLL_ERR, lws_log);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.foreign_loops = loops;
    info.options = LWS_SERVER_OPTION_LIBEVENT;
    info.timeout_secs = 30;
    info.connect_timeout_secs = 30;
    lg->ctx = lws_create_context(&info);
    return lg->ctx ? 0 : -1;
}

void sr_loadgen_ws_free(sr_loadgen *lg)
{
    lg->stopping = true;
    /* reset instead of closing: no TIME_WAIT holding thousands of local ports */
    struct linger hard = {1, 0};
    for (unsigned i = 0; lg->pairs && i < lg->opt.pairs; i++)
        for (int r = 0; r < 2; r++) {
            lg_conn *c = &lg->pairs[i].c[r];
            int fd = c->wsi && c->open ? lws_get_socket_fd(c->wsi) : -1;
            if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        }
    if (lg->ctx) lws_context_destroy(lg->ctx);
    lg->ctx = NULL;
    free(txbuf);
    txbuf = NULL;
    txcap = 0;
}
