/* client_limits.h - what one client may cost a node, the part the dialects and the
 * transport use: connections and unauthenticated sockets per client IP,
 * messages per second per connection (a token bucket), JSON members per
 * message (core_limits.c). A socket over a limit gets the dialect's own error
 * frame, then a close (1008; 1009 for JSON members); every refusal, here and
 * in the transport (HTTP headers and bodies, handshakes), is counted in
 * /metrics as syncrelay_limited_total{limit=...}. */
#ifndef SR_CLIENT_LIMITS_H
#define SR_CLIENT_LIMITS_H

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

/* Counts a refusal made elsewhere (the transport's HTTP and handshake limits). */
void sr_core_limit_hit(struct sr_core *core, enum sr_limit kind);
/* Sends message in the dialect's error format, then closes with code; counted. */
void sr_conn_refuse(struct sr_conn *c, enum sr_limit kind, int code, const char *message);
/* The socket joined a session or authenticated: no longer pending. */
void sr_conn_authenticated(struct sr_conn *c);

#endif
