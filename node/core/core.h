/* core.h - sessions, membership and delivery, written once for every dialect.
 *
 * A connection (sr_conn) joins a session as one member (a role such as "web",
 * a device or a user id). Messages a member publishes get the session's next
 * seq, are retained in Redis and fanned out through pub/sub to the members on
 * every node; each connection delivers them in seq order and fetches from the
 * log whatever it missed. The core knows neither libwebsockets nor hiredis:
 * the transport reaches it through sr_conn_* and it reaches the transport
 * through sr_transport_ops; Redis sits behind store.h and bus.h. */
#ifndef SR_CORE_H
#define SR_CORE_H

#include "bus.h"
#include "config.h"
#include "core_limits.h"
#include "dialect.h"
#include "sr_buf.h"
#include "sr_frame.h"
#include "sr_map.h"
#include "store.h"

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
typedef struct sr_conn sr_conn;

typedef struct sr_publish_result {
    int status; /* SR_OK or an sr_status */
    uint64_t seq, version;
    /* SR_ERR_CONFLICT: the state as it is (valid during the callback) */
    const char *current;
    size_t current_len;
    uint64_t current_version;
} sr_publish_result;
typedef void sr_publish_cb(sr_conn *c, const sr_publish_result *r);

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
    sr_core_limits limits; /* per-IP counts and refusals (core_limits.h) */
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
    struct sr_poll_registry *polls; /* Engine.IO long-polling (core_poll.c), NULL until used */
    unsigned retries_pending; /* one-shot backlog retries holding a connection: shutdown waits */
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
    sr_publish_cb *publish_cb;
    sr_conn *next, *prev;
    sr_buf args;         /* the upgrade's query: "k=v\0k=v\0", decoded */
    struct event *timer; /* see sr_conn_set_timer */
    void (*timer_fn)(sr_conn *c);
    sr_conn_budget budget; /* message rate and per-IP accounting (core_limits.h) */
};

sr_core *sr_core_new(struct event_base *base, const sr_config *cfg, sr_store *store, sr_bus *bus,
                     const sr_transport_ops *transport);
void sr_core_free(sr_core *core);
/* Stop taking upgrades; /ready turns 503. */
void sr_core_drain(sr_core *core);
/* Close every socket with code (1012 on shutdown). */
void sr_core_close_all(sr_core *core, int code, const char *reason);
bool sr_core_ready(const sr_core *core);
void sr_core_health_json(sr_core *core, sr_buf *out);
void sr_core_metrics_text(sr_core *core, sr_buf *out);
void sr_core_error(sr_core *core, enum sr_error_kind kind);
size_t sr_core_local_sessions(const sr_core *core);
/* How often this node refreshes a session's TTLs: SESSION_TTL/10, at most 60 s. */
uint64_t sr_core_touch_interval_ms(const sr_core *core);
void sr_core_touch_sessions(sr_core *core);
/* Makes this node's set of held sessions in Redis match the local records
 * (after Redis was away, or the cluster took this node for dead). */
void sr_core_sync_sessions(sr_core *core);
/* Fails the joins still waiting for a subscription (shutdown). */
void sr_core_abort_joins(sr_core *core);
/* Bus hooks. */
void sr_core_bus_message(void *core, const char *session, size_t session_len, const char *data,
                         size_t len);
void sr_core_bus_subscribed(void *core, const char *session);
void sr_core_bus_reset(void *core);

/* Transport -> core. */
/* args: the upgrade request's query arguments, each "name=value" (already
 * URL-decoded) followed by a NUL; may be NULL. */
sr_conn *sr_conn_open(sr_core *core, void *transport, const sr_dialect *d, const char *ip,
                      const char *args, size_t args_len);
/* The same for a connection whose transport is reached through ops. */
sr_conn *sr_conn_open_ops(sr_core *core, const sr_transport_ops *ops, void *transport,
                          const sr_dialect *d, const char *ip, const char *args, size_t args_len);
void sr_conn_receive(sr_conn *c, const char *data, size_t len, bool binary);
void sr_conn_closed(sr_conn *c);
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
/* Calls fn(c) once after ms, unless the socket is gone by then. One timer a
 * connection: setting it again replaces the previous one. */
void sr_conn_set_timer(sr_conn *c, uint64_t ms, void (*fn)(sr_conn *c));
void sr_conn_cancel_timer(sr_conn *c);
static inline bool sr_conn_alive(const sr_conn *c)
{
    return c->transport != NULL && !c->closing;
}

/* Joining. */
typedef struct sr_join_request {
    const char *id, *member;
    bool create;        /* a new session: SR_ERR_EXISTS when the id is taken */
    bool count_failure; /* an unknown id counts against the IP's join rate limit */
    bool has_last_seq;
    uint64_t last_seq;
    unsigned max_members;
    const char *joined_frame; /* sent to the other members now, or NULL */
    size_t joined_len;
    const char *left_frame; /* sent to the other members when this one leaves, or NULL */
    size_t left_len;
    const char *member_info; /* JSON kept as the member's i:<member> field, or NULL */
    size_t member_info_len;
} sr_join_request;

typedef struct sr_join_result {
    uint64_t seq;           /* the session's seq when joined */
    const sr_reply *fields; /* flat field/value list of the session hash */
} sr_join_result;

typedef void sr_join_cb(sr_conn *c, int status, const sr_join_result *r);
/* Joins c to a session. Backlog (seq > last seen) follows the callback. */
int sr_session_join(sr_conn *c, const sr_join_request *req, sr_join_cb *cb);
/* Counts an attempt of c's client against the join rate limit (a dialect's
 * own kind of guess, such as a host flag on an existing id). */
void sr_session_join_failed(sr_conn *c);
/* A field of the session hash, or NULL. */
const char *sr_join_field(const sr_join_result *r, const char *name, size_t *len);
/* Calls fn for each other member that is online (on a node that is alive). */
void sr_join_each_online(sr_conn *c, const sr_join_result *r,
                         void (*fn)(sr_conn *c, const char *member, size_t len, void *arg),
                         void *arg);

/* Publishing a sequenced message: the frame is parts[0..nparts) with the seq
 * written after part seq_after (1-based; 0: not written). A message may also
 * set one piece of the session's state (a named value kept in Redis, with a
 * version counting its changes) in the same atomic step, after a check:
 * when the check fails nothing is published and the callback gets
 * SR_ERR_CONFLICT with the state as it is. */
enum sr_state_check {
    SR_STATE_ANY = 0,
    SR_STATE_EQUALS = '=',  /* the value must equal state_operand ("" = unset) */
    SR_STATE_DIFFERS = '!', /* the value must differ from state_operand */
    SR_STATE_VERSION = 'v', /* the version must equal state_version (unset = 0) */
};
typedef struct sr_publish_request {
    const char *to; /* "*" all but the sender, "@" all, or a member */
    unsigned min_members;
    int seq_after, nparts;
    const char *const *parts;
    const size_t *lens;
    const char *state; /* state name, or NULL */
    const char *state_value;
    size_t state_value_len;
    enum sr_state_check state_check;
    const char *state_operand;
    size_t state_operand_len;
    uint64_t state_version;
    int version_after; /* the new version is written after this part (0: nowhere) */
    bool to_online;    /* "to" names a member that must be online, else SR_ERR_OFFLINE */
} sr_publish_request;
int sr_session_publish(sr_conn *c, const sr_publish_request *req, sr_publish_cb *cb);

/* Reads one piece of the joined session's state from Redis. value is NULL
 * when unset; status is SR_OK or SR_ERR_UNAVAILABLE. */
typedef void sr_state_cb(sr_conn *c, int status, const char *value, size_t len, uint64_t version);
int sr_session_state(sr_conn *c, const char *name, sr_state_cb *cb);
/* Leaves the session; the join's left_frame goes to the other members. */
void sr_session_leave(sr_conn *c);

/* Another dialect takes over the connection (the first message on "/" tells
 * token sync from mirror): its state is reset and its open hook runs. */
void sr_conn_set_dialect(sr_conn *c, const sr_dialect *d);

/* ---------- HTTP requests (the REST endpoints of every dialect) ---------- */

typedef struct sr_http_req sr_http_req;
struct sr_http_req {
    sr_core *core;
    void *transport; /* NULL once the client went away: responding does nothing */
    unsigned refs;   /* the transport holds one; take one to answer later */
    char method[8];
    char path[256];   /* without the query string */
    char query[4096]; /* after '?', may be empty */
    char authorization[1024];
    char accept[256]; /* the Accept header (cut), empty on an Upgrade request */
    char ip[64];
    sr_buf body;
    bool answered;
    bool cors; /* answer with Access-Control-Allow-* (not for the admin API) */
    /* more answer headers: static {name, value, ..., NULL} (the web pages' policy) */
    const char *const *headers;
};
/* Transport -> core: a complete request. The core always answers it (404
 * included), at once or after a Redis round trip. */
void sr_http_dispatch(sr_http_req *r);
/* Answers with a body (JSON unless type says otherwise). Once per request. */
void sr_http_respond(sr_http_req *r, unsigned status, const char *type, const char *body,
                     size_t len);
void sr_http_respond_json(sr_http_req *r, unsigned status, const char *json);
void sr_http_ref(sr_http_req *r);
void sr_http_unref(sr_http_req *r);
/* Whether the request carries "Authorization: Bearer <token>"; the token's span. */
const char *sr_http_bearer(const sr_http_req *r, size_t *len);
/* The admin API (GET/DELETE /api/sessions...): returns true when it took r. */
bool sr_admin_http(sr_http_req *r);
/* Whether r may use the admin API (ADMIN_TOKEN unset, or its Bearer token). */
bool sr_admin_allowed(const sr_http_req *r);

uint64_t sr_now_ms(void); /* wall clock */
/* ISO 8601 UTC with milliseconds, e.g. 2026-01-02T03:04:05.678Z (out >= 32). */
void sr_iso_time(uint64_t ms, char *out, size_t cap);
uint64_t sr_monotonic_ms(void);

#endif
