/* core_post.c - sr_session_post: a connection posts into a session it is not
 * a member of (see core_post.h). */
#include "core_post.h"
#include "store_post.h"

#include <stdlib.h>
#include <string.h>

typedef struct post_op {
    sr_conn *c;
    sr_post_cb *cb;
    void *arg;
} post_op;

static void on_posted(const sr_reply *reply, void *privdata)
{
    post_op *op = privdata;
    sr_conn *c = op->c;
    sr_post_result r = {.status = SR_POST_UNAVAILABLE};
    const char *s = sr_reply_count(reply) >= 2 ? sr_reply_str(sr_reply_at(reply, 0), NULL) : NULL;
    if (s) {
        r.seq = (uint64_t)sr_reply_int(sr_reply_at(reply, 1));
        r.status = !strcmp(s, "ok")            ? SR_POST_OK
                   : !strcmp(s, "gone")        ? SR_POST_GONE
                   : !strcmp(s, "noroute")     ? SR_POST_NO_ROUTE
                   : !strcmp(s, "norecipient") ? SR_POST_NO_RECIPIENT
                                               : SR_POST_UNAVAILABLE;
    }
    if (r.status == SR_POST_OK)
        c->core->metrics.relayed++;
    else if (r.status == SR_POST_UNAVAILABLE)
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
    if (op->cb) op->cb(c, &r, op->arg);
    sr_conn_unref(c);
    free(op);
}

int sr_session_post(sr_conn *c, const sr_post_request *req, sr_post_cb *cb, void *arg)
{
    if (!req->kind || !req->from || !req->to || (!req->id && (!req->route || !req->route_field)))
        return SR_POST_GONE;
    const char *bad = "\n{}";
    if ((req->id && (!*req->id || strpbrk(req->id, bad))) || strchr(req->from, '\n') ||
        strchr(req->to, '\n'))
        return SR_POST_GONE;
    sr_store_post_args a = {
        .kind = req->kind,
        .id = req->id,
        .route = req->route,
        .route_field = req->route_field,
        .from = req->from,
        .to = req->to,
        .touch_ms = (unsigned)sr_core_touch_interval_ms(c->core),
        .seq_after = req->seq_after,
        .nparts = req->nparts,
        .parts = req->parts,
        .lens = req->lens,
    };
    post_op *op = sr_xmalloc(sizeof *op);
    *op = (post_op){c, cb, arg};
    sr_conn_ref(c);
    if (sr_store_post(c->core->store, &a, on_posted, op) < 0) {
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
        sr_conn_unref(c);
        free(op);
        return SR_POST_UNAVAILABLE;
    }
    return SR_OK;
}
