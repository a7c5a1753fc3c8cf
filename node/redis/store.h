/* store.h - what the core asks of Redis: session records, the message log and
 * the node registry. Implemented over hiredis in store_redis.c; this header
 * does not expose hiredis or a reply's shape: results are decoded into the
 * structs below, so the core never sees either. Core layer only (dialects
 * cannot include it).
 *
 * Every call with a callback is asynchronous and calls it exactly once: with
 * the decoded result, or with SR_STORE_UNAVAILABLE when Redis is unreachable
 * (then at once, before the call returns) or did not answer within the
 * command timeout. Spans and fields point into the reply and are valid only
 * during the callback.
 *
 * node/redis: the only code that includes hiredis. Its headers store.h,
 * bus.h, store_post.h and store_op.h may be included by node/core (and
 * main.c); the rest (redis_conn.h, store_script.h, cluster_slots.h) by
 * node/redis alone. A dialect's records are reached through the typed API
 * beside the dialect (node/dialects/<dialect>_store.h), which store_<dialect>.c
 * implements. */
#ifndef SR_STORE_H
#define SR_STORE_H

#include "config.h"
#include "sr_field.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
typedef struct sr_store sr_store;

/* What a call's script answered, decoded (SR_STORE_UNAVAILABLE: Redis was
 * unreachable, too slow, or answered in an unexpected shape). */
enum sr_store_status {
    SR_STORE_OK = 0,
    SR_STORE_UNAVAILABLE,
    SR_STORE_UNKNOWN,    /* join: no such session */
    SR_STORE_EXISTS,     /* join with create: the id is taken */
    SR_STORE_FULL,       /* join: max_members online already */
    SR_STORE_GONE,       /* publish: the session expired */
    SR_STORE_SUPERSEDED, /* publish: another connection holds the member */
    SR_STORE_UNPAIRED,   /* publish: fewer than min_members ever joined */
    SR_STORE_CONFLICT,   /* publish: the state check failed; nothing was written */
    SR_STORE_OFFLINE,    /* publish with to_online: the target is not online */
};

/* Raw replies: for the store files that decode their own (store_post.c,
 * store_peersync.c, store_devicesync.c). */
typedef struct sr_reply sr_reply;
enum sr_reply_type {
    SR_REPLY_OTHER,
    SR_REPLY_NIL,
    SR_REPLY_INT,
    SR_REPLY_STR,
    SR_REPLY_ARR,
    SR_REPLY_ERR
};
enum sr_reply_type sr_reply_type(const sr_reply *r);
long long sr_reply_int(const sr_reply *r); /* integers, or strings holding one */
const char *sr_reply_str(const sr_reply *r, size_t *len);
size_t sr_reply_count(const sr_reply *r);
const sr_reply *sr_reply_at(const sr_reply *r, size_t i);
/* In a flat field/value list (HGETALL) starting at element first: the value
 * of field name, or NULL. */
const char *sr_reply_field(const sr_reply *r, size_t first, const char *name, size_t *len);
typedef void sr_store_cb(const sr_reply *reply, void *privdata);

typedef struct sr_store_stats {
    uint64_t commands, failures, rtt_us_sum;
    bool up;
} sr_store_stats;

sr_store *sr_store_new(struct event_base *base, const sr_config *cfg);
void sr_store_free(sr_store *s);
bool sr_store_up(const sr_store *s);
unsigned sr_store_pending(const sr_store *s);
void sr_store_stats_get(const sr_store *s, sr_store_stats *out);

typedef struct sr_store_join_args {
    const char *kind, *id, *member, *owner;
    bool create;          /* the session must not exist yet (else it must) */
    unsigned max_members; /* members online at once, 0 = no limit */
    const char *event;    /* envelope published to the others, or NULL */
    size_t event_len;
    const char *info; /* the member's description (JSON) for field i:<member>, or NULL */
    size_t info_len;
} sr_store_join_args;
typedef struct sr_store_join_result {
    enum sr_store_status status; /* OK, UNKNOWN, EXISTS, FULL or UNAVAILABLE */
    /* OK: the session hash; holders on nodes whose liveness record expired
     * read as '' (offline) */
    const sr_field *fields;
    size_t nfields;
} sr_store_join_result;
typedef void sr_store_join_cb(const sr_store_join_result *r, void *arg);
void sr_store_join(sr_store *s, const sr_store_join_args *a, sr_store_join_cb *cb, void *arg);
/* Records the session as active now in the cluster's session index (after a
 * successful join; publish and touch keep it current). */
void sr_store_session_active(sr_store *s, const char *kind, const char *id);

/* A session's key and channel names, formatted once: a node keeps one per
 * local session so that a relayed message formats none of them. */
typedef struct sr_store_keys sr_store_keys;
sr_store_keys *sr_store_keys_new(const sr_store *s, const char *kind, const char *id);
void sr_store_keys_free(sr_store_keys *k);

typedef struct sr_store_publish_args {
    const char *kind, *id, *from, *owner, *to;
    const sr_store_keys *keys; /* the session's names from sr_store_keys_new, or NULL */
    bool touch;                /* refresh the session's TTLs in the same script */
    unsigned min_members;      /* refuse ("unpaired") while fewer members ever joined */
    int seq_after;             /* the seq goes after part seq_after (1-based), 0: nowhere */
    /* One piece of session state set with the message, checked first. */
    const char *state; /* name (field s:<name>, versions in v:<name>), or NULL */
    const char *state_value;
    size_t state_value_len;
    char state_check;          /* 0 none, '=' value equals, '!' value differs, 'v' version equals */
    const char *state_operand; /* for '=' and '!' ("" matches an unset value) */
    size_t state_operand_len;
    uint64_t state_version; /* for 'v' (an unset state is version 0) */
    int version_after;      /* the new version goes after this part, 0: nowhere */
    bool to_online;         /* member "to" must be held by a live holder, else "offline" */
    int nparts;
    const char *const *parts;
    const size_t *lens;
} sr_store_publish_args;
typedef struct sr_store_publish_result {
    enum sr_store_status status; /* OK, GONE, SUPERSEDED, UNPAIRED, CONFLICT, OFFLINE */
    uint64_t seq, version;
    sr_span current; /* CONFLICT: the state's value as it is */
    uint64_t current_version;
} sr_store_publish_result;
typedef void sr_store_publish_cb(const sr_store_publish_result *r, void *arg);
/* One round trip. */
void sr_store_publish(sr_store *s, const sr_store_publish_args *a, sr_store_publish_cb *cb,
                      void *arg);

/* Clears member's owner if it is still owner, records its delivered seq and
 * publishes event (may be NULL). Fire and forget. */
void sr_store_leave(sr_store *s, const char *kind, const char *id, const char *member,
                    const char *owner, uint64_t last_seq, const char *event, size_t event_len);

typedef struct sr_store_history_result {
    enum sr_store_status status; /* OK or UNAVAILABLE */
    bool more;                   /* the page was cut: ask again from the last */
    const sr_span *envelopes;    /* seq > since, oldest first */
    size_t n;
} sr_store_history_result;
typedef void sr_store_history_cb(const sr_store_history_result *r, void *arg);
/* The retained envelopes with seq > since, cut after SR_STORE_PAGE_BYTES. */
void sr_store_history(sr_store *s, const char *kind, const char *id, uint64_t since,
                      sr_store_history_cb *cb, void *arg);

#define SR_STORE_PAGE_BYTES (4u * 1024 * 1024)

typedef struct sr_store_member_seq {
    const char *member, *owner;
    uint64_t seq;
} sr_store_member_seq;
#define SR_STORE_TOUCH_MAX 16
typedef struct sr_store_touch_result {
    enum sr_store_status status; /* OK or UNAVAILABLE */
    const sr_span *stale_owners; /* owners that no longer hold their member */
    size_t n;
} sr_store_touch_result;
typedef void sr_store_touch_cb(const sr_store_touch_result *r, void *arg);
/* Refreshes a session's TTLs and records its local members' delivered seqs
 * (at most SR_STORE_TOUCH_MAX). */
void sr_store_touch(sr_store *s, const char *kind, const char *id, const sr_store_member_seq *m,
                    size_t n, sr_store_touch_cb *cb, void *arg);

typedef struct sr_store_state_result {
    enum sr_store_status status; /* OK or UNAVAILABLE */
    sr_span value;               /* p NULL: unset */
    uint64_t version;
} sr_store_state_result;
typedef void sr_store_state_cb(const sr_store_state_result *r, void *arg);
/* Reads state name of a session and its version. */
void sr_store_state(sr_store *s, const char *kind, const char *id, const char *name,
                    sr_store_state_cb *cb, void *arg);

/* This node holds members of the session (add) or no longer does. The
 * cluster's count of sessions with online members follows from these. */
void sr_store_node_session(sr_store *s, const char *boot_id, const char *kind, const char *id,
                           bool add);

/* Makes the node's set equal to sessions ("kind:id", n of them), fixing the
 * counts: after Redis was away (updates lost) or others released the set. */
void sr_store_node_sessions_sync(sr_store *s, const char *boot_id, const char *const *sessions,
                                 size_t n);

typedef struct sr_store_session {
    sr_span kind, id;
    const sr_field *fields; /* its hash; holders on dead nodes shown as '' */
    size_t nfields;
} sr_store_session;
typedef struct sr_store_sessions_result {
    enum sr_store_status status; /* OK or UNAVAILABLE */
    const sr_store_session *sessions;
    size_t n;
} sr_store_sessions_result;
typedef void sr_store_sessions_cb(const sr_store_sessions_result *r, void *arg);
/* Sessions for the admin API. With id, the session of that id of each of
 * kinds (n of them); without, the limit most recently active sessions of the
 * index. */
void sr_store_sessions(sr_store *s, const char *const *kinds, size_t n, const char *id,
                       unsigned limit, sr_store_sessions_cb *cb, void *arg);

/* status OK with found, OK without (no such session), or UNAVAILABLE. */
typedef void sr_store_done_cb(enum sr_store_status status, bool found, void *arg);
/* Ends a session: publishes envelope (its members' nodes close them) and
 * removes its keys. */
void sr_store_session_delete(sr_store *s, const char *kind, const char *id, const char *envelope,
                             size_t envelope_len, sr_store_done_cb *cb, void *arg);

/* status OK with a count, or UNAVAILABLE. */
typedef void sr_store_count_cb(enum sr_store_status status, long long count, void *arg);
/* Failed join attempts of one client IP this minute. */
void sr_store_join_failures(sr_store *s, const char *ip, sr_store_count_cb *cb, void *arg);
/* Counts one failed join attempt of the client IP (atomic INCR + EXPIRE). */
void sr_store_join_failed(sr_store *s, const char *ip);

typedef struct sr_store_heartbeat_args {
    long long connections, sessions, started_ms;
    const char *boot_id;
} sr_store_heartbeat_args;
typedef struct sr_store_heartbeat_result {
    enum sr_store_status status;            /* OK or UNAVAILABLE */
    long long sessions, connections, nodes; /* active sessions, on live nodes, live nodes */
    bool resync; /* this node's set of held sessions was lost: send it again */
} sr_store_heartbeat_result;
typedef void sr_store_heartbeat_cb(const sr_store_heartbeat_result *r, void *arg);
/* Writes this node's liveness record, prunes the indexes and reads the cluster. */
void sr_store_heartbeat(sr_store *s, const sr_store_heartbeat_args *a, sr_store_heartbeat_cb *cb,
                        void *arg);

/* The session kind whose records last like the account (DEVICE_STATE_TTL,
 * default no expiry) instead of SESSION_TTL: seed 001 keeps a user's synced
 * state in SQLite, restored whenever the user comes back. */
#define SR_STORE_LASTING_KIND "devicesync"

#define SR_NODE_TTL_SECONDS 10
#define SR_HEARTBEAT_MS 2000

#endif
