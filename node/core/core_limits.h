/* core_limits.h - what one client may cost a node: connections and
 * unauthenticated sockets per client IP, messages per second per connection
 * (a token bucket), JSON members per message. A socket over a limit gets the
 * dialect's own error frame, then a close (1008; 1009 for JSON members); every
 * refusal, here and in the transport (HTTP headers and bodies, handshakes),
 * is counted in /metrics as syncrelay_limited_total{limit=...}. */
#ifndef SR_CORE_LIMITS_H
#define SR_CORE_LIMITS_H

#include "sr_buf.h"
#include "sr_map.h"

#include <stdbool.h>
#include <stdint.h>

struct sr_core;
struct sr_conn;

enum sr_limit {
    SR_LIMIT_CONNECTIONS,  /* MAX_CONNECTIONS_PER_IP */
    SR_LIMIT_PENDING,      /* MAX_PENDING_PER_IP */
    SR_LIMIT_MESSAGE_RATE, /* MESSAGE_RATE / MESSAGE_BURST */
    SR_LIMIT_JSON_MEMBERS, /* MAX_JSON_MEMBERS */
    SR_LIMIT_HTTP_HEADERS, /* MAX_HTTP_HEADER_BYTES */
    SR_LIMIT_HTTP_BODY,    /* MAX_HTTP_BODY_BYTES */
    SR_LIMIT_HANDSHAKE,    /* HANDSHAKE_TIMEOUT */
    SR_LIMIT_KINDS
};

/* Per connection. */
typedef struct sr_conn_budget {
    uint64_t millitokens; /* the bucket, in thousandths of a message */
    uint64_t refill_ms;   /* when it was last filled (monotonic) */
    bool pending;         /* counted as unauthenticated against its IP */
    bool counted;         /* counted against its IP at all */
    bool refused;         /* over a limit: closing, and what it still sends is dropped */
} sr_conn_budget;

/* Per node. */
typedef struct sr_core_limits {
    sr_map ips; /* client IP -> its counts (sr_ip_use, core_limits.c) */
    uint64_t hits[SR_LIMIT_KINDS];
} sr_core_limits;

void sr_limits_init(sr_core_limits *l);
void sr_limits_free(sr_core_limits *l);
/* Counts a refusal made elsewhere (the transport's HTTP and handshake limits). */
void sr_core_limit_hit(struct sr_core *core, enum sr_limit kind);
void sr_limits_metrics_text(const struct sr_core *core, sr_buf *out);

/* Sends message in the dialect's error format, then closes with code; counted. */
void sr_conn_refuse(struct sr_conn *c, enum sr_limit kind, int code, const char *message);
/* A new socket: counted against its IP, refused when the IP is over a limit. */
void sr_limits_conn_open(struct sr_conn *c);
void sr_limits_conn_closed(struct sr_conn *c);
/* The socket joined a session or authenticated: no longer pending. */
void sr_conn_authenticated(struct sr_conn *c);
/* One message from c: false when it must be dropped (its bucket is empty, and
 * c is then refused, or it was refused before: a flood that goes on until the
 * client answers the close frame is not relayed). */
bool sr_limits_message(struct sr_conn *c);

#endif
