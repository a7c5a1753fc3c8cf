/* transport.h - the libwebsockets side of the node: one listening vhost on
 * the node's event_base serving every dialect's WebSocket path and the HTTP
 * endpoints. Only transport_*.c include libwebsockets.h.
 *
 * node/transport: compiled with the core's public headers (core.h, conn.h,
 * http.h, dialect.h) only, never the store's or the core's internals. Its
 * headers may be included by main.c alone. */
#ifndef SR_TRANSPORT_H
#define SR_TRANSPORT_H

#include "core.h"

typedef struct sr_transport sr_transport;

extern const sr_transport_ops sr_transport_lws_ops;

sr_transport *sr_transport_new(struct event_base *base, const sr_config *cfg);
void sr_transport_attach(sr_transport *t, sr_core *core);
void sr_transport_free(sr_transport *t);

#endif
