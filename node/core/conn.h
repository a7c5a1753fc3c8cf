/* conn.h - a client connection as dialects and the transport see it: an
 * opaque sr_conn with accessors, the status and close codes and the error
 * kinds counted in the metrics. The core's own view of a connection is
 * node/core/internal/core_internal.h.
 *
 * May be included by: node/dialects, node/transport, node/redis (the store
 * files of a dialect's records), node/core. It includes no store, bus or
 * core-internal header, so code that includes only this (and session.h,
 * http.h) cannot name sr_store_*, sr_bus_*, sr_reply_* or a field of the
 * core's structs: the build checks the layering. */
#ifndef SR_CONN_H
#define SR_CONN_H

#include "config.h"
#include "dialect.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_clock.h"
#include "sr_frame.h"

#include <stdbool.h>
#include <stdint.h>

/* Status codes of core calls (0 is success). */
enum sr_status {
    SR_OK = 0,
    SR_ERR_UNAVAILABLE = -1, /* Redis unreachable or too slow */
    SR_ERR_UNKNOWN_SESSION = -2,
    SR_ERR_EXISTS = -3,       /* create: the id is taken */
    SR_ERR_FULL = -4,         /* join: max_members online already */
    SR_ERR_RATE_LIMITED = -5, /* join: too many failed attempts from this IP */
    SR_ERR_NOT_PAIRED = -6,   /* publish: fewer than min_members ever joined */
    SR_ERR_SUPERSEDED = -7,   /* another connection holds this member now */
    SR_ERR_NOT_JOINED = -8,
    SR_ERR_BUSY = -9,      /* a join is already under way on this connection */
    SR_ERR_CONFLICT = -10, /* publish: the state check failed */
    SR_ERR_OFFLINE = -11,  /* publish with to_online: the target member is not online */
};

/* Close codes with a name, as centrifuge does. */
#define SR_CLOSE_NORMAL 1000
#define SR_CLOSE_POLICY 1008
#define SR_CLOSE_TOO_BIG 1009
#define SR_CLOSE_RESTART 1012
#define SR_CLOSE_SUPERSEDED 4001
#define SR_CLOSE_SLOW_READER 4008

enum sr_error_kind {
    SR_ERROR_INVALID_JSON,
    SR_ERROR_BAD_REQUEST,
    SR_ERROR_TOO_BIG,
    SR_ERROR_RATE_LIMITED,
    SR_ERROR_UNKNOWN_SESSION,
    SR_ERROR_UNAVAILABLE,
    SR_ERROR_SUPERSEDED,
    SR_ERROR_SLOW_READER,
    SR_ERROR_KINDS
};

typedef struct sr_core sr_core;
typedef struct sr_conn sr_conn;

/* Transport -> core. */
/* args: the upgrade request's query arguments, each "name=value" (already
 * URL-decoded) followed by a NUL; may be NULL. */
sr_conn *sr_conn_open(sr_core *core, void *transport, const sr_dialect *d, const char *ip,
                      const char *args, size_t args_len);
void sr_conn_receive(sr_conn *c, const char *data, size_t len, bool binary);
void sr_conn_closed(sr_conn *c);
/* The transport's handle of c (NULL once the socket is gone). */
void *sr_conn_transport(const sr_conn *c);
/* c is the transport's WebSocket (not a long-polling session's connection). */
bool sr_conn_is_socket(const sr_conn *c);
/* Every open connection of core: the first, then the next of each. */
sr_conn *sr_core_first_conn(sr_core *core);
sr_conn *sr_conn_next(sr_conn *c);

/* Dialect -> transport, through the core. */
void sr_conn_send(sr_conn *c, const char *data, size_t len);
/* Sends prefix, message as a JSON string, suffix: a dialect's error frame. */
void sr_conn_send_error(sr_conn *c, const char *prefix, const char *message, const char *suffix);
/* Returns 0, or -1 when the frame was not queued (closing, or over the queue limit). */
int sr_conn_send_frame(sr_conn *c, sr_frame *f);
void sr_conn_close(sr_conn *c, int code, const char *reason);
void sr_conn_ref(sr_conn *c);
void sr_conn_unref(sr_conn *c);
/* The value of query argument name of the upgrade request, or NULL. */
const char *sr_conn_arg(const sr_conn *c, const char *name);
/* All of them: "name=value" each followed by a NUL, *len bytes in all. */
const char *sr_conn_args(const sr_conn *c, size_t *len);
/* Calls fn(c) once after ms, unless the socket is gone by then. One timer a
 * connection: setting it again replaces the previous one. */
void sr_conn_set_timer(sr_conn *c, uint64_t ms, void (*fn)(sr_conn *c));
void sr_conn_cancel_timer(sr_conn *c);
/* The socket is there and not closing: frames sent now reach the client. */
bool sr_conn_alive(const sr_conn *c);
/* The node closes it (its close frame is under way). */
bool sr_conn_closing(const sr_conn *c);
/* Another dialect takes over the connection (the first message on "/" tells
 * token sync from mirror): its state is reset and its open hook runs. */
void sr_conn_set_dialect(sr_conn *c, const sr_dialect *d);

/* The dialect's per-connection state (sr_dialect.state_size bytes, zeroed at open). */
void *sr_conn_state(const sr_conn *c);
/* The dialect's name: the kind of the sessions it joins. */
const char *sr_conn_kind(const sr_conn *c);
const sr_config *sr_conn_config(const sr_conn *c);
/* "<node>/<boot>/<id>": what Redis records as the holder of c's member. */
const char *sr_conn_owner(const sr_conn *c);
/* Counts one error of kind in the metrics. */
void sr_conn_error(sr_conn *c, enum sr_error_kind kind);
/* An error reply went to c's client (counted per dialect). */
void sr_conn_count_error(sr_conn *c);
/* A join is under way, or c is a member of a session now. */
bool sr_conn_joining(const sr_conn *c);
bool sr_conn_joined(const sr_conn *c);
/* How often a session's TTLs are refreshed: SESSION_TTL/10, at most 60 s. */
uint64_t sr_conn_touch_interval_ms(const sr_conn *c);

#endif
