/* store.h - what the core asks of Redis: session records, the message log and
 * the node registry. Implemented over hiredis in store_redis.c; this header
 * does not expose hiredis, so the core never sees it.
 *
 * Every call is asynchronous. Callbacks get a NULL reply when Redis is
 * unreachable or did not answer in time, never later than the command timeout. */
#ifndef SR_STORE_H
#define SR_STORE_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
typedef struct sr_store sr_store;
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
/* Reply: {status, previous owner, hash fields...}; status ok|exists|unknown|full.
 * Holders on nodes whose liveness record expired read as '' (offline). */
int sr_store_join(sr_store *s, const sr_store_join_args *a, sr_store_cb *cb, void *privdata);
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
/* Reply: {status, seq, version[, current value, current version]}; status
 * ok|gone|superseded|unpaired|conflict (the state check failed; nothing was
 * written)|offline (to_online and the target is not online). One round trip. */
int sr_store_publish(sr_store *s, const sr_store_publish_args *a, sr_store_cb *cb, void *privdata);

/* Clears member's owner if it is still owner, records its delivered seq and
 * publishes event (may be NULL). Reply: 1 left, 0 was not the owner. */
int sr_store_leave(sr_store *s, const char *kind, const char *id, const char *member,
                   const char *owner, uint64_t last_seq, const char *event, size_t event_len,
                   sr_store_cb *cb, void *privdata);
/* Reply: {more, envelopes...}: the retained envelopes with seq > since, oldest
 * first, cut after SR_STORE_PAGE_BYTES (more = 1: ask again from the last). */
int sr_store_history(sr_store *s, const char *kind, const char *id, uint64_t since, sr_store_cb *cb,
                     void *privdata);

#define SR_STORE_PAGE_BYTES (4u * 1024 * 1024)

typedef struct sr_store_member_seq {
    const char *member, *owner;
    uint64_t seq;
} sr_store_member_seq;
#define SR_STORE_TOUCH_MAX 16
/* Refreshes a session's TTLs and records its local members' delivered seqs
 * (at most SR_STORE_TOUCH_MAX). Reply: the owners that no longer hold their member. */
int sr_store_touch(sr_store *s, const char *kind, const char *id, const sr_store_member_seq *m,
                   size_t n, sr_store_cb *cb, void *privdata);

/* Reply: {value or nil, version or nil} of state name of a session. */
int sr_store_state(sr_store *s, const char *kind, const char *id, const char *name, sr_store_cb *cb,
                   void *privdata);

/* This node holds members of the session (add) or no longer does. The
 * cluster's count of sessions with online members follows from these. */
void sr_store_node_session(sr_store *s, const char *boot_id, const char *kind, const char *id,
                           bool add);

/* Makes the node's set equal to sessions ("kind:id", n of them), fixing the
 * counts: after Redis was away (updates lost) or others released the set. */
void sr_store_node_sessions_sync(sr_store *s, const char *boot_id, const char *const *sessions,
                                 size_t n);

/* Sessions for the admin API. With id, the session of that id of each of
 * kinds (n of them); without, the limit most recently active sessions of the
 * index. Reply: an array of {kind, id, HGETALL...} with holders on dead nodes
 * shown as ''. */
int sr_store_sessions(sr_store *s, const char *const *kinds, size_t n, const char *id,
                      unsigned limit, sr_store_cb *cb, void *privdata);
/* Ends a session: publishes envelope (its members' nodes close them) and
 * removes its keys. Reply: 1 deleted, 0 unknown. */
int sr_store_session_delete(sr_store *s, const char *kind, const char *id, const char *envelope,
                            size_t envelope_len, sr_store_cb *cb, void *privdata);

/* Failed join attempts of one client IP this minute (reply: integer or nil). */
int sr_store_join_failures(sr_store *s, const char *ip, sr_store_cb *cb, void *privdata);
/* Counts one failed join attempt of the client IP (atomic INCR + EXPIRE). */
void sr_store_join_failed(sr_store *s, const char *ip);

typedef struct sr_store_heartbeat_args {
    long long connections, sessions, started_ms;
    const char *boot_id;
} sr_store_heartbeat_args;
/* Writes this node's liveness record, prunes the indexes and reads the cluster:
 * reply {active sessions, connections on live nodes, live nodes}. */
int sr_store_heartbeat(sr_store *s, const sr_store_heartbeat_args *a, sr_store_cb *cb,
                       void *privdata);

/* The session kind whose records last like the account (DEVICE_STATE_TTL,
 * default no expiry) instead of SESSION_TTL: seed 001 keeps a user's synced
 * state in SQLite, restored whenever the user comes back. */
#define SR_STORE_LASTING_KIND "devicesync"

#define SR_NODE_TTL_SECONDS 10
#define SR_HEARTBEAT_MS 2000

#endif
