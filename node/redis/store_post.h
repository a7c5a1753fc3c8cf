/* store_post.h - server-side posts into a session (session_post.lua), behind
 * sr_session_post (core_post.h). No hiredis here. */
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
/* Reply: {status, seq, target id}; status ok|gone|noroute|norecipient. */
int sr_store_post(sr_store *s, const sr_store_post_args *a, sr_store_cb *cb, void *privdata);

#endif
