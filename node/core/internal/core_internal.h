/* core_internal.h - the core's own structs and cross-file functions.
 *
 * May be included by: the .c files of node/core only (the build puts node/core/internal
 * on no other target's include path). Dialects and the transport see
 * connections through conn.h's accessors. */
#ifndef SR_CORE_INTERNAL_H
#define SR_CORE_INTERNAL_H

#include "bus.h"
#include "core.h"
#include "core_limits.h"
#include "session.h"
#include "sr_map.h"
#include "store.h"
#include "store_op.h"

#define SR_METRIC_DIALECTS 8 /* per-dialect counters: slot = index in sr_dialects[] */
#define SR_RELAY_BUCKETS 13  /* relay-latency histogram (core_metrics.c) */

typedef struct sr_metrics {
    uint64_t connections_total, messages_in, messages_out, bytes_in, bytes_out;
    uint64_t relayed, replayed;
    uint64_t errors[SR_ERROR_KINDS];
    uint64_t dialect_in[SR_METRIC_DIALECTS], dialect_out[SR_METRIC_DIALECTS];
    uint64_t dialect_errors[SR_METRIC_DIALECTS];  /* error replies sent to clients */
    uint64_t relay_buckets[SR_RELAY_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    uint64_t relay_count, relay_sum_us;
} sr_metrics;

typedef struct sr_session sr_session;

typedef struct sr_core {
    struct event_base *base;
    const sr_config *cfg;
    sr_store *store;
    sr_bus *bus;
    const sr_transport_ops *transport;
    sr_map sessions; /* "<kind>:{<id>}" -> sr_session with local members */
    sr_conn *conns;
    unsigned nconns;
    uint64_t next_conn_id;
    char boot_id[12]; /* random per process: a restarted node's old connections stay dead */
    struct event *heartbeat_timer, *touch_timer;
    sr_metrics metrics;
    sr_core_limits limits; /* per-IP counts and refusals (core_limits.c) */
    /* cluster view from the last heartbeat */
    long long cluster_sessions, cluster_connections, cluster_nodes;
    uint64_t heartbeat_ok_ms;   /* last answered heartbeat (monotonic), 0: none yet */
    uint64_t heartbeat_sent_ms; /* last heartbeat sent */
    bool was_up;                /* Redis was reachable at the previous tick */
    bool resync;                /* commands failed: resync the held sessions at the next beat */
    uint64_t failures_seen;     /* the store's failure count at the last beat */
    bool draining;
    uint64_t started_ms;
    uint64_t sessions_logged_ms;    /* last "active sessions" log line (monotonic) */
    struct sr_op *spare_ops;        /* freed sr_ops kept for reuse (see sr_op_done) */
    struct sr_poll_registry *polls; /* Engine.IO long-polling (core_poll.c), NULL until used */
    unsigned nspare_ops;
} sr_core;

enum sr_join_state { SR_CONN_IDLE, SR_CONN_JOINING, SR_CONN_JOINED };

struct sr_conn {
    sr_core *core;
    void *transport;             /* NULL once the socket is gone */
    const sr_transport_ops *ops; /* core->transport, or a long-polling session's (core_poll.c) */
    const sr_dialect *dialect;
    void *state; /* the dialect's per-connection state */
    uint64_t id;
    unsigned refs;   /* the socket holds one, each pending Redis call one */
    char owner[200]; /* "<node>/<boot>/<id>", what Redis records as a member's holder */
    char ip[64];
    /* membership */
    sr_session *session;
    sr_conn *session_next, *session_prev;
    char member[128];
    sr_buf left_event; /* envelope published when this member leaves, may be empty */
    enum sr_join_state join_state;
    uint64_t join_number; /* the session's join counter when this one joined */
    uint64_t last_seq;    /* highest seq delivered or skipped, in order */
    uint64_t pending_seq; /* highest live seq seen while catching up */
    uint64_t parked_seq;  /* lowest live seq seen while catching up (relay latency), 0: none */
    bool catching_up, fetching, closing;
    sr_conn *next, *prev;
    sr_buf args;         /* the upgrade's query: "k=v\0k=v\0", decoded */
    struct event *timer; /* see sr_conn_set_timer */
    struct event *retry; /* the next read of the log after a failed one */
    void (*timer_fn)(sr_conn *c);
    sr_conn_budget budget; /* message rate and per-IP accounting (core_limits.c) */
};

typedef struct sr_join_op sr_join_op;

/* A join under way: rate-limit check, subscription, join script. */
struct sr_join_op {
    sr_join_op *next; /* in its session's waiting list */
    sr_session *session;
    sr_conn *c;
    sr_join_cb *cb;
    void *arg;
    sr_join_request req;
    char id[128], member[128];
    sr_buf joined, left; /* envelopes */
    sr_buf info;
};

struct sr_session {
    char name[256]; /* "<kind>:{<id>}" */
    const char *kind;
    char id[128];
    sr_conn *conns;
    unsigned nconns;
    unsigned pending;    /* joins under way that will attach here or let go */
    sr_join_op *waiting; /* joins waiting for the subscription to be active */
    bool subscribed;
    bool registered;     /* in this node's set of sessions held (cluster counts) */
    uint64_t touched_ms; /* last TTL refresh sent by this node (monotonic) */
    sr_store_keys *keys; /* its Redis names, formatted once */
};

/* Local session records (core_session.c). */
/* The local record of a session, created (and subscribed) on first use. */
sr_session *sr_local_session_get(sr_core *core, const sr_dialect *d, const char *id);
/* Frees the record once no connection and no join needs it. */
void sr_local_session_release(sr_core *core, sr_session *s);
void sr_local_session_attach(sr_session *s, sr_conn *c);
void sr_local_session_detach(sr_conn *c);

/* Delivery (core_delivery.c). */
/* Fetches what c missed from the log (a catch-up), unless one is under way. */
void sr_delivery_fetch(sr_conn *c);
/* The seq up to which c's member has really been served (d:<member>). */
uint64_t sr_delivery_seq(sr_conn *c);
/* Another connection holds c's member now: tell the client and close it. */
void sr_delivery_supersede(sr_conn *c);

/* Joining (core_join.c). */
/* Runs the join script of op (its session's subscription is active). */
void sr_join_run(sr_join_op *op);
void sr_join_finish(sr_join_op *op, int status, const sr_join_result *r);

/* sr_conn_open for a connection whose transport is reached through ops
 * (a long-polling session, core_poll.c). */
sr_conn *sr_conn_open_ops(sr_core *core, const sr_transport_ops *ops, void *transport,
                          const sr_dialect *d, const char *ip, const char *args, size_t args_len);

/* The core's own calls skip the function (the per-message path). */
#define sr_conn_alive(c) ((c)->transport != NULL && !(c)->closing)

/* How often this node refreshes a session's TTLs: SESSION_TTL/10, at most 60 s. */
uint64_t sr_core_touch_interval_ms(const sr_core *core);
size_t sr_core_local_sessions(const sr_core *core);
void sr_core_touch_sessions(sr_core *core);
/* Makes this node's set of held sessions in Redis match the local records
 * (after Redis was away, or the cluster took this node for dead). */
void sr_core_sync_sessions(sr_core *core);
/* Fails the joins still waiting for a subscription (shutdown). */
void sr_core_abort_joins(sr_core *core);
/* The admin API (GET/DELETE /api/sessions...): returns true when it took r. */
bool sr_admin_http(sr_http_req *r);
/* Whether r may use the admin API (ADMIN_TOKEN unset, or its Bearer token). */
bool sr_admin_allowed(const sr_http_req *r);

#endif
