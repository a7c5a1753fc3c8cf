/* core.h - sessions, membership and delivery, written once for every dialect:
 * the node-level API (main.c and the transport).
 *
 * A connection (sr_conn) joins a session as one member (a role such as "web",
 * a device or a user id). Messages a member publishes get the session's next
 * seq, are retained in Redis and fanned out through pub/sub to the members on
 * every node; each connection delivers them in seq order and fetches from the
 * log whatever it missed. The core knows neither libwebsockets nor hiredis:
 * the transport reaches it through sr_conn_* (conn.h) and http.h, and it
 * reaches the transport through sr_transport_ops; Redis sits behind store.h
 * and bus.h, which this header does not include.
 *
 * Headers of node/core, by audience:
 *   conn.h      connections (dialects, transport)
 *   session.h   join/publish/state/post/leave (dialects)
 *   http.h      HTTP requests (transport, dialects)
 *   dialect.h   the dialect table (dialects, transport)
 *   core.h      the node: create, drain, health, bus hooks (main.c, transport)
 *   internal/   the core's own structs: the .c files of node/core only
 *
 * May be included by: node/main.c, node/transport, node/core. */
#ifndef SR_CORE_H
#define SR_CORE_H

#include "conn.h"
#include "http.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct sr_transport_ops {
    /* Queues f on the socket (takes its own reference). Returns 0, or -1 when
     * the socket's queue is over its limit (it is then being closed). */
    int (*send)(void *t, sr_frame *f);
    /* Sends what is queued, then closes with code and reason. */
    void (*close)(void *t, int code, const char *reason);
    /* Seq of the oldest sequenced frame still queued, or 0. */
    uint64_t (*oldest_unsent_seq)(void *t);
    /* Answers an HTTP request (t is sr_http_req.transport). */
    void (*http_respond)(void *t, unsigned status, const char *type, const char *body, size_t len);
} sr_transport_ops;

struct event_base;
struct sr_store;
struct sr_bus;

sr_core *sr_core_new(struct event_base *base, const sr_config *cfg, struct sr_store *store,
                     const sr_transport_ops *transport);
/* The bus is made after the core (its hooks take the core): hand it over. */
void sr_core_attach_bus(sr_core *core, struct sr_bus *bus);
void sr_core_free(sr_core *core);
/* Stop taking upgrades; /ready turns 503. */
void sr_core_drain(sr_core *core);
bool sr_core_draining(const sr_core *core);
/* Close every socket with code (1012 on shutdown). */
void sr_core_close_all(sr_core *core, int code, const char *reason);
unsigned sr_core_connections(const sr_core *core);
bool sr_core_ready(const sr_core *core);
void sr_core_health_json(sr_core *core, sr_buf *out);
void sr_core_metrics_text(sr_core *core, sr_buf *out);
void sr_core_error(sr_core *core, enum sr_error_kind kind);
/* A relayed message's frame was written to a socket: observes the time since
 * its first node published it (origin_us, wall clock) in the histogram. */
void sr_core_observe_relay(sr_core *core, uint64_t origin_us);
/* Bus hooks (sr_bus_hooks, privdata: the core). */
void sr_core_bus_message(void *core, const char *session, size_t session_len, const char *data,
                         size_t len);
void sr_core_bus_subscribed(void *core, const char *session);
void sr_core_bus_reset(void *core);
/* Sends a heartbeat now (another node process joined: learn of it at once). */
void sr_core_beat_now(void *core);

#endif
