/* session.h - what a dialect asks of a session: join it as a member,
 * publish sequenced messages (optionally setting a piece of the session's
 * state), read that state, post into a session it is not a member of, leave.
 *
 * Every asynchronous call takes a callback and a void *arg and calls it
 * exactly once, errors included (at once when the call cannot start), also
 * when the socket has gone meanwhile (check sr_conn_alive before sending).
 *
 * May be included by: node/dialects, node/core, node/redis. */
#ifndef SR_SESSION_H
#define SR_SESSION_H

#include "conn.h"
#include "sr_field.h"

typedef struct sr_publish_result {
    int status; /* SR_OK or an sr_status */
    uint64_t seq, version;
    /* SR_ERR_CONFLICT: the state as it is (valid during the callback) */
    const char *current;
    size_t current_len;
    uint64_t current_version;
} sr_publish_result;
typedef void sr_publish_cb(sr_conn *c, const sr_publish_result *r, void *arg);

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
    const sr_field *fields; /* the session hash */
    size_t nfields;
} sr_join_result;

typedef void sr_join_cb(sr_conn *c, int status, const sr_join_result *r, void *arg);
/* Joins c to a session (leaving the one it is in). cb (may be NULL) is called
 * exactly once: at once with SR_ERR_BUSY (a join is under way),
 * SR_ERR_UNAVAILABLE (c is closing) or SR_ERR_UNKNOWN_SESSION (an id or
 * member no session can have), else when Redis has answered; r is NULL
 * unless SR_OK. Backlog (seq > last seen) follows the callback. */
void sr_session_join(sr_conn *c, const sr_join_request *req, sr_join_cb *cb, void *arg);
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
/* Publishes; cb (may be NULL) is called exactly once: SR_ERR_NOT_JOINED at
 * once, else with Redis' answer, also when c's socket has gone meanwhile
 * (check sr_conn_alive). On SR_ERR_SUPERSEDED c is being closed already. */
void sr_session_publish(sr_conn *c, const sr_publish_request *req, sr_publish_cb *cb, void *arg);

/* Reads one piece of the joined session's state from Redis. value is NULL
 * when unset; status is SR_OK, SR_ERR_UNAVAILABLE or SR_ERR_NOT_JOINED. Called
 * exactly once, also when c's socket has gone meanwhile. */
typedef void sr_state_cb(sr_conn *c, int status, const char *value, size_t len, uint64_t version,
                         void *arg);
void sr_session_state(sr_conn *c, const char *name, sr_state_cb *cb, void *arg);

/* Server-side posts: c puts a sequenced message into a session it has NOT
 * joined (typically another user's inbox session), on whatever node that
 * session's members are. The message is retained and delivered like a
 * member's (seq, log, resume, catch-up); no holder is checked, so the dialect
 * decides who may post where. One round trip. */
enum sr_post_status {
    SR_POST_OK = 0,
    SR_POST_UNAVAILABLE = SR_ERR_UNAVAILABLE,
    SR_POST_GONE = -101,         /* the target session does not exist (expired, never made) */
    SR_POST_NO_ROUTE = -102,     /* routed: the record naming the target does not exist */
    SR_POST_NO_RECIPIENT = -103, /* routed: the record has no such field */
};
typedef struct sr_post_request {
    const char *kind; /* the target session's kind (a dialect name) */
    const char *id;   /* the target session id; NULL when routed */
    /* Routed: the target id is field route_field of the hash <KEY_PREFIX><route>,
     * read in the same atomic step (whose TTL a post refreshes too). */
    const char *route, *route_field;
    const char *from; /* the envelope's sender (no member of the target needs to be it) */
    const char *to;   /* "@" every member, "*" all but a member named like from, or one member */
    int seq_after, nparts; /* as in sr_publish_request */
    const char *const *parts;
    const size_t *lens;
} sr_post_request;
typedef struct sr_post_result {
    int status; /* an sr_post_status */
    uint64_t seq;
} sr_post_result;
typedef void sr_post_cb(sr_conn *c, const sr_post_result *r, void *arg);
/* Posts; cb (may be NULL) is called exactly once (SR_POST_GONE at once for a
 * malformed request), also when c's socket has gone meanwhile (check
 * sr_conn_alive). Works on a connection whose socket is closing (its close
 * hook may still post). */
void sr_session_post(sr_conn *c, const sr_post_request *req, sr_post_cb *cb, void *arg);
/* Leaves the session; the join's left_frame goes to the other members. */
void sr_session_leave(sr_conn *c);

#endif
