/* transport_lws.h - what transport_lws.c and transport_http.c share. */
#ifndef SR_TRANSPORT_LWS_H
#define SR_TRANSPORT_LWS_H

#include "transport.h"

#include <libwebsockets.h>

typedef struct out_item {
    sr_frame *frame;
    struct out_item *next;
} out_item;

/* Per-connection state, for WebSocket and plain HTTP alike. */
typedef struct sr_pss {
    struct lws *wsi;
    sr_conn *conn; /* WebSocket connections only */
    out_item *head, *tail;
    size_t queued_bytes;
    sr_buf rx; /* a message arriving in pieces */
    bool close_pending;
    bool close_sent;            /* our close frame is out; frames still arrive until the reply */
    bool too_big;               /* over MAX_MESSAGE_BYTES or not UTF-8: closing */
    bool ping_due;              /* heartbeat: a ping goes out before the next frame */
    uint64_t valid_ms, ping_ms; /* last pong (or open) and last ping (monotonic) */
    int close_code;
    char close_reason[64];
    /* sending (transport_write.c) */
    bool await_writeable; /* a WRITEABLE callback is asked for: it sends the queue */
    bool flush_listed;    /* on the transport's list of queues to send this turn */
    struct sr_pss *flush_prev, *flush_next;
    /* plain HTTP */
    sr_http_req *req; /* the request being answered */
    sr_buf http_body; /* response body still to send */
    size_t http_sent;
    unsigned http_status;
    char http_type[64];
    bool http_ready, http_headers_sent;
    bool http_head;          /* HEAD: headers only */
    bool http_awaiting_body; /* a Content-Length > 0: dispatched when the body is in */
} sr_pss;

struct sr_transport {
    struct lws_context *ctx;
    sr_core *core;
    const sr_config *cfg;
    lws_retry_bo_t retry;    /* all zero: lws keeps no keepalive timers (see heartbeat) */
    struct event *heartbeat; /* the sweep that pings and drops silent sockets */
    struct event *flush;     /* sends the queues listed from flush_head, once per loop turn */
    sr_pss *flush_head;
};

/* sr_transport_ops.http_respond: keeps the answer until the socket is writeable. */
/* The client's address: the socket peer, or with TRUST_PROXY the last
 * X-Forwarded-For address, the one the trusted proxy appended (WebSocket
 * upgrades and HTTP requests alike). */
void sr_transport_client_ip(sr_transport *t, struct lws *wsi, char *out, size_t cap);
void sr_transport_http_answer(void *pss, unsigned status, const char *type, const char *body,
                              size_t len);

/* transport_write.c: sending a WebSocket's queue (see there). kick: frames
 * were queued; queued: the WRITEABLE callback with frames queued; forget: the
 * socket is closed. */
void sr_transport_write_init(sr_transport *t, struct event_base *base);
void sr_transport_write_free(sr_transport *t);
void sr_transport_write_kick(sr_transport *t, sr_pss *pss);
int sr_transport_write_queued(sr_transport *t, sr_pss *pss);
void sr_transport_write_forget(sr_transport *t, sr_pss *pss);
/* A queue item, recycled. */
out_item *sr_transport_item_new(void);
void sr_transport_item_free(out_item *it);

int sr_transport_http_request(sr_transport *t, struct lws *wsi, sr_pss *pss, const char *uri);
int sr_transport_http_body(struct lws *wsi, sr_pss *pss, const void *in, size_t len);
int sr_transport_http_body_done(struct lws *wsi, sr_pss *pss);
int sr_http_writeable(struct lws *wsi, sr_pss *pss);
void sr_http_closed(sr_pss *pss);

#endif
