/* loadgen_ws.c - the load generator's WebSocket clients: libwebsockets on
 * the shared libevent loop, one protocol callback, one frame per WRITEABLE
 * callback, every received frame checked with the shared JSON scanner; and
 * the token-sync dialect (device sync is in loadgen_devicesync.c).
 *
 * A token-sync pair comes up in four steps: the web end connects and sends
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

void sr_loadgen_connect(sr_loadgen *lg, lg_conn *c)
{
    const lg_url *u = &lg->opt.url[c->role];
    struct lws_client_connect_info ci;
    char iface[32], path[sizeof u->path + 128];
    memset(&ci, 0, sizeof ci);
    ci.context = lg->ctx;
    ci.address = u->host;
    ci.port = u->port;
    ci.path = u->path;
    if (lg->opt.dialect == LG_DEVICESYNC) {
        sr_loadgen_ds_path(u, c->role, path, sizeof path);
        ci.path = path;
    }
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
    if (p->failed || (lg->opt.dialect == LG_DEVICESYNC && !p->jwt)) {
        if (!p->failed)
            sr_loadgen_error(lg, &lg->err.pair_failed, "pair %u has no account", p->index);
        p->failed = true; /* its account could not be had: counted there */
        sr_loadgen_pair_settled(lg, p);
        return;
    }
    sr_loadgen_connect(lg, &p->c[LG_WEB]);
}

void sr_loadgen_check_ready(sr_loadgen *lg, lg_pair *p)
{
    lg_conn *w = &p->c[LG_WEB], *f = &p->c[LG_FIGMA];
    if (p->ready || p->failed || !w->paired || !f->paired || !w->peer_joined || !f->peer_joined)
        return;
    p->ready = true;
    sr_loadgen_pair_settled(lg, p);
}

void sr_loadgen_pair_fail(sr_loadgen *lg, lg_pair *p)
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

unsigned char *sr_loadgen_tx_reserve(size_t n)
{
    if (n + LWS_PRE > txcap) {
        txcap = n + LWS_PRE + 256;
        free(txbuf);
        txbuf = sr_xmalloc(txcap);
    }
    return txbuf + LWS_PRE;
}

int sr_loadgen_write_text(lg_conn *c, const char *s, size_t n)
{
    unsigned char *p = sr_loadgen_tx_reserve(n);
    memcpy(p, s, n);
    return lws_write(c->wsi, p, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

/* The frame of message n: the dialect's prefix, the payload object
 * {"n":N,"t":T[,"e":E],"p":"xxx..."} exactly `size` bytes long when size
 * allows, the suffix. Token sync: {"type":"sync","payload":<object>}. */
static int write_sync(sr_loadgen *lg, lg_conn *c, uint64_t n, uint64_t t, uint64_t e, bool echo)
{
    static const char ts_prefix[] = "{\"type\":\"sync\",\"payload\":", ts_suffix[] = "}";
    const char *prefix = ts_prefix, *suffix = ts_suffix;
    size_t plen = sizeof ts_prefix - 1, slen = sizeof ts_suffix - 1;
    if (lg->opt.dialect == LG_DEVICESYNC) sr_loadgen_ds_frame(n, &prefix, &plen, &suffix, &slen);
    char head[96];
    int h = echo ? snprintf(head, sizeof head, "{\"n\":%llu,\"t\":%llu,\"e\":%llu,\"p\":\"",
                            (unsigned long long)n, (unsigned long long)t, (unsigned long long)e)
                 : snprintf(head, sizeof head, "{\"n\":%llu,\"t\":%llu,\"p\":\"",
                            (unsigned long long)n, (unsigned long long)t);
    size_t fixed = (size_t)h + 2; /* payload bytes besides the filler */
    size_t fill = lg->opt.size > fixed ? lg->opt.size - fixed : 0;
    size_t len = plen + (size_t)h + fill + 2 + slen;
    unsigned char *p = sr_loadgen_tx_reserve(len), *w = p;
    memcpy(w, prefix, plen);
    w += plen;
    memcpy(w, head, (size_t)h);
    w += h;
    memset(w, 'x', fill);
    w += fill;
    memcpy(w, "\"}", 2);
    memcpy(w + 2, suffix, slen);
    return lws_write(c->wsi, p, len, LWS_WRITE_TEXT) < (int)len ? -1 : 0;
}

static int on_writeable(sr_loadgen *lg, lg_conn *c)
{
    lg_pair *p = c->pair;
    if (c->kill) return -1;
    if (lg->opt.dialect == LG_DEVICESYNC) {
        int rc = sr_loadgen_ds_writeable(lg, c);
        if (rc) return rc < 0 ? -1 : 0;
    } else if (!c->pair_sent) {
        char msg[200];
        int n =
            c->role == LG_WEB
                ? snprintf(msg, sizeof msg, "{\"type\":\"pair\",\"clientType\":\"web\"}")
                : snprintf(msg, sizeof msg,
                           "{\"type\":\"pair\",\"clientType\":\"figma\",\"sessionToken\":\"%s\"}",
                           p->token);
        c->pair_sent = true;
        return sr_loadgen_write_text(c, msg, (size_t)n);
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

void sr_loadgen_relayed(sr_loadgen *lg, lg_conn *c, const sr_json_span *payload,
                        const sr_json_span *seq_span)
{
    lg_pair *p = c->pair;
    sr_json_doc pd;
    long long seq = 0;
    uint64_t n, t, e = 0;
    if (!payload || sr_json_parse(&pd, payload->p, payload->n) < 0 || !get_u64(&pd, "n", &n) ||
        !get_u64(&pd, "t", &t) || (c->role == LG_WEB && !get_u64(&pd, "e", &e)) ||
        (seq_span && (sr_json_int(seq_span, &seq) < 0 || seq < 0))) {
        sr_loadgen_error(lg, &lg->err.protocol, "malformed relayed message");
        return;
    }
    if (seq_span) { /* the relay's seq must go up (baselines have none) */
        if ((uint64_t)seq <= c->last_seq) c->check.out_of_order++;
        c->last_seq = (uint64_t)seq;
    }
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
        sr_loadgen_relayed(lg, c, sr_json_get(&doc, "payload"), sr_json_get(&doc, "seq"));
    } else if (!strcmp(type, "pair")) {
        const sr_json_span *tok = sr_json_get(&doc, "sessionToken");
        if (c->role == LG_WEB && !p->token[0]) {
            if (!tok || sr_json_string(tok, p->token, sizeof p->token) < 0) {
                sr_loadgen_error(lg, &lg->err.protocol, "pair reply without a token");
                sr_loadgen_pair_fail(lg, p);
                return;
            }
            sr_loadgen_connect(lg, &p->c[LG_FIGMA]);
        }
        c->paired = true;
        sr_loadgen_check_ready(lg, p);
    } else if (!strcmp(type, "peer")) {
        const sr_json_span *ev = sr_json_get(&doc, "event");
        if (sr_json_string_is(ev, "joined")) {
            c->peer_joined = true;
            sr_loadgen_check_ready(lg, p);
        } else if (!lg->stopping) {
            sr_loadgen_error(lg, &lg->err.closed, "peer left a pair");
        }
    } else if (!strcmp(type, "error")) {
        sr_loadgen_error(lg, &lg->err.server, "node said: %.150s", data);
        if (!p->ready) sr_loadgen_pair_fail(lg, p);
    } else if (strcmp(type, "pong") != 0) {
        sr_loadgen_error(lg, &lg->err.protocol, "unexpected message: %.60s", data);
    }
}

static void on_receive(sr_loadgen *lg, lg_conn *c, struct lws *wsi, const char *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    bool final = lws_is_final_fragment(wsi) && remaining == 0;
    void (*handle)(sr_loadgen *, lg_conn *, const char *, size_t) =
        lg->opt.dialect == LG_DEVICESYNC ? sr_loadgen_ds_message : on_message;
    if (final && c->rx.len == 0) {
        handle(lg, c, in, len);
        return;
    }
    sr_buf_append(&c->rx, in, len);
    if (!final) return;
    handle(lg, c, c->rx.data, c->rx.len);
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
        sr_loadgen_pair_fail(lg, c->pair);
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
    sr_loadgen_ds_free();
}
