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
    int close_code;
    char close_reason[64];
    sr_buf http_body; /* HTTP response body still to send */
    size_t http_sent;
} sr_pss;

struct sr_transport {
    struct lws_context *ctx;
    sr_core *core;
    const sr_config *cfg;
    lws_retry_bo_t retry;
};

int sr_http_request(sr_transport *t, struct lws *wsi, sr_pss *pss, const char *uri);
int sr_http_writeable(struct lws *wsi, sr_pss *pss);

#endif
