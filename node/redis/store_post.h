/* store_post.h - server-side posts into a session (session_post.lua), behind
 * sr_session_post (core.h). No hiredis here. Core layer only. */
#ifndef SR_STORE_POST_H
#define SR_STORE_POST_H

#include "store.h"

typedef struct sr_store_post_args {
    const char *kind;                /* the target session's kind */
    const char *id;                  /* the target id, or NULL when routed */
    const char *route, *route_field; /* routed: the id is field route_field of hash
                                        <prefix><route> */
    const char *from, *to;
    unsigned touch_ms; /* refresh TTLs when the last refresh is older than this */
    int seq_after, nparts;
    const char *const *parts;
    const size_t *lens;
} sr_store_post_args;
enum sr_store_post_status {
    SR_STORE_POSTED,
    SR_STORE_POST_UNAVAILABLE,
    SR_STORE_POST_GONE,         /* the target session does not exist */
    SR_STORE_POST_NO_ROUTE,     /* routed: the record naming the target does not exist */
    SR_STORE_POST_NO_RECIPIENT, /* routed: the record has no such field */
};
typedef void sr_store_post_cb(enum sr_store_post_status status, uint64_t seq, void *arg);
/* Calls cb exactly once (at once when Redis is down). */
void sr_store_post(sr_store *s, const sr_store_post_args *a, sr_store_post_cb *cb, void *arg);

#endif
