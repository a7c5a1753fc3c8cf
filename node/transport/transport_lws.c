/* transport_lws.c - WebSocket connections: upgrade and dialect choice by
 * path, reassembly of fragmented messages with the size limit, a
 * per-connection queue of shared frames (sent by transport_write.c), and named
 * closes. lws picks a protocol from Sec-WebSocket-Protocol, not the path, so
 * one protocol is the vhost default and the dialect is chosen here. */
#include "sr_log.h"
#include "sr_alloc.h"
#include "sr_utf8.h"
#include "transport_lws.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* How long a socket waits for the client's reply to our close frame. */
#define SR_CLOSE_REPLY_TIMEOUT_S 2
/* lws 4.1 keeps its close opcode private (roles/ws/private-lib-roles-ws.h:
 * LWS_WRITE_CLOSE 4) and sends it itself from lws_close_reason(); we pin
 * 4.1.6, whose lws_write() frames it like a ping or pong. */
#define SR_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)
#define SR_RX_BUFFER_BYTES 512 /* lws' receive buffer per socket (see protocols[]) */

_Static_assert(LWS_PRE <= SR_FRAME_HEADROOM, "SR_FRAME_HEADROOM must cover LWS_PRE");

static size_t queue_limit(const sr_transport *t)
{
    /* a slow reader may fall this far behind before it is cut off (it resumes) */
    return (size_t)t->cfg->max_message_bytes + 8u * 1024 * 1024;
}

static int transport_send(void *handle, sr_frame *f)
{
    sr_pss *pss = handle;
    sr_transport *t = lws_context_user(lws_get_context(pss->wsi));
    if (pss->close_sent) return -1;
    if (pss->queued_bytes + f->len > queue_limit(t)) {
        sr_log_warn("closing a slow reader (%zu bytes queued)", pss->queued_bytes);
        pss->close_pending = true;
        pss->close_code = SR_CLOSE_SLOW_READER;
        snprintf(pss->close_reason, sizeof pss->close_reason, "slow reader");
        lws_callback_on_writable(pss->wsi);
        return -1;
    }
    out_item *it = sr_transport_item_new();
    it->frame = sr_frame_ref(f);
    it->next = NULL;
    if (pss->tail)
        pss->tail->next = it;
    else
        pss->head = it;
    pss->tail = it;
    pss->queued_bytes += f->len;
    sr_transport_write_kick(t, pss);
    return 0;
}

static void transport_close(void *handle, int code, const char *reason)
{
    sr_pss *pss = handle;
    pss->close_pending = true;
    pss->close_code = code;
    snprintf(pss->close_reason, sizeof pss->close_reason, "%s", reason ? reason : "");
    lws_callback_on_writable(pss->wsi);
}

static uint64_t transport_oldest_unsent_seq(void *handle)
{
    sr_pss *pss = handle;
    for (out_item *it = pss->head; it; it = it->next)
        if (it->frame->seq) return it->frame->seq;
    return 0;
}

const sr_transport_ops sr_transport_lws_ops = {
    transport_send,
    transport_close,
    transport_oldest_unsent_seq,
    sr_transport_http_answer,
};

void sr_transport_client_ip(sr_transport *t, struct lws *wsi, char *out, size_t cap)
{
    out[0] = '\0';
    if (t->cfg->trust_proxy && lws_hdr_copy(wsi, out, (int)cap, WSI_TOKEN_X_FORWARDED_FOR) > 0) {
        /* the last address is the one our proxy added; the ones before it
         * come from the client and may be forged */
        char *comma = strrchr(out, ',');
        char *s = comma ? comma + 1 : out;
        while (*s == ' ')
            s++;
        memmove(out, s, strlen(s) + 1);
        for (char *e = out + strlen(out); e > out && e[-1] == ' '; e--)
            e[-1] = '\0';
        if (out[0]) return;
    }
    lws_get_peer_simple(wsi, out, cap);
}

/* The upgrade's query arguments as "name=value\0..." (lws has decoded them). */
static void query_args(struct lws *wsi, sr_buf *out)
{
    char arg[4096];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        sr_buf_append(out, arg, (size_t)n);
        sr_buf_append(out, "", 1);
    }
}

static const sr_dialect *dialect_of(struct lws *wsi)
{
    char path[512];
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0) return NULL;
    return sr_dialect_for_path(path);
}

static void drop_queue(sr_pss *pss)
{
    while (pss->head) {
        out_item *it = pss->head;
        pss->head = it->next;
        sr_frame_unref(it->frame);
        sr_transport_item_free(it);
    }
    pss->tail = NULL;
    pss->queued_bytes = 0;
}

/* A whole message to the core. Text must be UTF-8 (RFC 6455 8.1): checked
 * here on the whole message, eight ASCII bytes a step, instead of by lws byte
 * by byte (LWS_SERVER_OPTION_VALIDATE_UTF8 was a tenth of the node's
 * instructions per relayed message; BENCHMARKS.md). */
static void deliver(sr_pss *pss, const char *data, size_t len, bool binary)
{
    if (binary || sr_utf8_valid(data, len)) {
        sr_conn_receive(pss->conn, data, len, binary);
        return;
    }
    pss->too_big = true; /* closing: what the client still sends is dropped */
    sr_conn_close(pss->conn, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "invalid UTF-8");
}

static int on_receive(sr_transport *t, struct lws *wsi, sr_pss *pss, const char *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    bool final = lws_is_final_fragment(wsi) && remaining == 0;
    if (pss->too_big || pss->rx.len + len + remaining > (size_t)t->cfg->max_message_bytes) {
        /* Our own close frame, and what the client still sends is read and
         * dropped until its close reply (or the reply timeout): closing from
         * here mid-frame (lws_close_reason and -1), lws would parse the rest of
         * the frame as frame headers and reset the socket before a client
         * still sending fragments saw the 1009. */
        if (!pss->too_big) {
            sr_core_error(t->core, SR_ERROR_TOO_BIG);
            pss->too_big = true;
            sr_buf_free(&pss->rx);
            if (pss->conn)
                sr_conn_close(pss->conn, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
            else
                transport_close(pss, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
        }
        return 0;
    }
    if (!pss->conn) return 0;
    bool binary = lws_frame_is_binary(wsi);
    if (final && pss->rx.len == 0) { /* the common case: no copy */
        deliver(pss, in, len, binary);
        return 0;
    }
    sr_buf_append(&pss->rx, in, len);
    if (!final) return 0;
    deliver(pss, pss->rx.data, pss->rx.len, binary);
    if (pss->rx.cap > 1024 * 1024)
        sr_buf_free(&pss->rx);
    else
        sr_buf_reset(&pss->rx);
    return 0;
}

/* Sends the close frame ourselves instead of through lws_close_reason(): lws
 * then waits for the reply in a state that drops every data frame, but frames
 * the client wrote before it saw our close frame must still be relayed
 * (SPEC 5). The socket stays "established" for lws; the client's close reply
 * ends it (LWS_CALLBACK_WS_PEER_INITIATED_CLOSE), or the timeout does. */
static int send_close_frame(struct lws *wsi, sr_pss *pss)
{
    unsigned char buf[LWS_PRE + 2 + sizeof pss->close_reason];
    size_t n = strlen(pss->close_reason);
    if (n > 123) n = 123; /* a control frame carries at most 125 bytes */
    buf[LWS_PRE] = (unsigned char)(pss->close_code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)(pss->close_code & 0xff);
    memcpy(&buf[LWS_PRE + 2], pss->close_reason, n);
    if (lws_write(wsi, &buf[LWS_PRE], n + 2, SR_LWS_WRITE_CLOSE) < 0) return -1;
    pss->close_sent = true;
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, SR_CLOSE_REPLY_TIMEOUT_S);
    return 0;
}

/* ---------- heartbeat ----------
 * A socket that has not answered a ping for HEARTBEAT_INTERVAL is pinged (again
 * each interval) and dropped after three intervals without a pong. lws could do
 * this (retry policy), but keeps every socket's keepalive timer in one sorted
 * list that each new socket and each pong walks end to end: at 15 000
 * connections that walk was half of the node's CPU during a connection ramp
 * (BENCHMARKS.md). One sweep over the connections a second (a quarter interval
 * when shorter) costs a few microseconds per thousand. */
static void heartbeat_sweep(evutil_socket_t fd, short what, void *arg)
{
    sr_transport *t = arg;
    uint64_t now = sr_monotonic_ms(), hb = (uint64_t)t->cfg->heartbeat_interval * 1000;
    sr_buf dead; /* struct lws * of the sockets to drop, after the walk */
    sr_buf_init(&dead);
    for (sr_conn *c = t->core ? sr_core_first_conn(t->core) : NULL; c; c = sr_conn_next(c)) {
        if (!sr_conn_is_socket(c)) continue; /* long-polling: no socket */
        sr_pss *pss = sr_conn_transport(c);
        if (!pss || !pss->wsi) continue;
        uint64_t since = pss->ping_ms > pss->valid_ms ? pss->ping_ms : pss->valid_ms;
        if (now - pss->valid_ms >= 3 * hb) {
            sr_buf_append(&dead, &pss->wsi, sizeof pss->wsi);
        } else if (now - since >= hb) {
            pss->ping_ms = now;
            pss->ping_due = true;
            lws_callback_on_writable(pss->wsi);
        }
    }
    /* closed now, without a close frame, as lws' own keepalive does (a timeout
     * set from outside lws' service would wait for its next wake-up) */
    for (size_t i = 0; i + sizeof(struct lws *) <= dead.len; i += sizeof(struct lws *)) {
        struct lws *wsi;
        memcpy(&wsi, dead.data + i, sizeof wsi);
        sr_log_info("dropping a socket silent for %d s", 3 * t->cfg->heartbeat_interval);
        lws_set_timeout(wsi, PENDING_TIMEOUT_WS_PONG_CHECK_GET_PONG, LWS_TO_KILL_SYNC);
    }
    sr_buf_free(&dead);
}

static int on_writeable(sr_transport *t, struct lws *wsi, sr_pss *pss)
{
    if (pss->close_sent) return 0;
    out_item *it = pss->head;
    if (pss->ping_due) {
        /* with a payload: lws does not report an empty pong */
        unsigned char ping[LWS_PRE + 2];
        memcpy(ping + LWS_PRE, "hb", 2);
        pss->ping_due = false;
        if (lws_write(wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 0) return -1;
        pss->await_writeable = it || pss->close_pending;
        if (pss->await_writeable) lws_callback_on_writable(wsi);
        return 0;
    }
    if (it) return sr_transport_write_queued(t, pss);
    pss->await_writeable = false;
    if (pss->close_pending) return send_close_frame(wsi, pss);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    sr_pss *pss = user;
    sr_transport *t = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (sr_core_draining(t->core) || !dialect_of(wsi)) return -1; /* refuse the upgrade */
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        char ip[64];
        sr_transport_client_ip(t, wsi, ip, sizeof ip);
        memset(pss, 0, sizeof *pss);
        pss->wsi = wsi;
        pss->valid_ms = sr_monotonic_ms();
        sr_buf_init(&pss->rx);
        sr_buf args;
        sr_buf_init(&args);
        query_args(wsi, &args);
        pss->conn = sr_conn_open(t->core, pss, dialect_of(wsi), ip, args.data, args.len);
        sr_buf_free(&args);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        return on_receive(t, wsi, pss, in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
        pss->valid_ms = sr_monotonic_ms();
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(t, wsi, pss);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* the reply to our close frame: done (lws would answer it again) */
        return pss && pss->close_sent ? -1 : 0;
    case LWS_CALLBACK_CLOSED:
        if (!pss) return 0;
        if (pss->conn) sr_conn_closed(pss->conn);
        pss->conn = NULL;
        sr_transport_write_forget(t, pss);
        drop_queue(pss);
        sr_buf_free(&pss->rx);
        return 0;
    case LWS_CALLBACK_HTTP:
        return sr_transport_http_request(t, wsi, pss, in);
    case LWS_CALLBACK_HTTP_BODY:
        return sr_transport_http_body(wsi, pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return sr_transport_http_body_done(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return sr_http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
        /* also comes for connections that never made a request (no pss) */
        if (pss) sr_http_closed(pss);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* lws gives every WebSocket a receive buffer of rx_buffer_size: 512 bytes
 * holds a typical sync message whole (larger ones arrive in pieces and are
 * joined in pss->rx) and keeps an idle connection under 4 KiB of node memory
 * (64 KiB here cost 7.6 KiB per idle connection; BENCHMARKS.md). Writes stay
 * up to 64 KiB per call (tx_packet_size). */
static const struct lws_protocols protocols[] = {
    {"syncrelay", callback, sizeof(sr_pss), SR_RX_BUFFER_BYTES, 0, NULL, 65536},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    sr_log(level == LLL_ERR ? SR_LOG_ERROR : SR_LOG_WARN, "lws: %.*s", (int)n, line);
}

sr_transport *sr_transport_new(struct event_base *base, const sr_config *cfg)
{
    sr_transport *t = sr_xcalloc(1, sizeof *t);
    struct lws_context_creation_info info;
    void *loops[1] = {base};

    t->cfg = cfg;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.protocols = protocols;
    info.foreign_loops = loops;
    info.user = t;
    info.retry_and_idle_policy = &t->retry;
    info.options = LWS_SERVER_OPTION_LIBEVENT; /* UTF-8: deliver() checks it */
    if (cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        free(t);
        return NULL;
    }
    long sweep_ms = cfg->heartbeat_interval * 1000L / 4;
    if (sweep_ms > 1000) sweep_ms = 1000;
    struct timeval tv = {sweep_ms / 1000, (sweep_ms % 1000) * 1000};
    t->heartbeat = event_new(base, -1, EV_PERSIST, heartbeat_sweep, t);
    event_add(t->heartbeat, &tv);
    sr_transport_write_init(t, base);
    return t;
}

void sr_transport_attach(sr_transport *t, sr_core *core)
{
    t->core = core;
}

void sr_transport_free(sr_transport *t)
{
    if (!t) return;
    event_free(t->heartbeat);
    lws_context_destroy(t->ctx);
    sr_transport_write_free(t);
    free(t);
}
