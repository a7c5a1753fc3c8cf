/* core_post.h - server-side posts: a connection puts a sequenced message into
 * a session it has NOT joined (typically another user's inbox session), on
 * whatever node that session's members are. The message is retained and
 * delivered like a member's (seq, log, resume, catch-up); no holder is
 * checked, so the dialect decides who may post where. One round trip. */
#ifndef SR_CORE_POST_H
#define SR_CORE_POST_H

#include "core.h"

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
/* Called once, also when c's socket has gone meanwhile (check sr_conn_alive). */
typedef void sr_post_cb(sr_conn *c, const sr_post_result *r, void *arg);

/* Posts; cb may be NULL. Works on a connection whose socket is closing (its
 * close hook may still post). Returns SR_OK (cb follows) or an error (no cb). */
int sr_session_post(sr_conn *c, const sr_post_request *req, sr_post_cb *cb, void *arg);

#endif
