/* core_publish.c - publishing, reading a session's state, server-side posts,
 * and the periodic TTL refresh of sessions with live members. */
#include "core_internal.h"
#include "sr_envelope.h"
#include "store_post.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---------- publishing and leaving ---------- */

static int publish_status(enum sr_store_status s)
{
    switch (s) {
    case SR_STORE_OK:
        return SR_OK;
    case SR_STORE_UNPAIRED:
        return SR_ERR_NOT_PAIRED;
    case SR_STORE_GONE:
        return SR_ERR_UNKNOWN_SESSION;
    case SR_STORE_CONFLICT:
        return SR_ERR_CONFLICT;
    case SR_STORE_OFFLINE:
        return SR_ERR_OFFLINE;
    case SR_STORE_SUPERSEDED:
        return SR_ERR_SUPERSEDED;
    default:
        return SR_ERR_UNAVAILABLE;
    }
}

static void on_publish_reply(const sr_store_publish_result *sr, void *arg)
{
    sr_op *op = arg;
    sr_conn *c = op->c;
    sr_publish_result r = {
        .status = publish_status(sr->status),
        .seq = sr->seq,
        .version = sr->version,
        .current = sr->current.p,
        .current_len = sr->current.len,
        .current_version = sr->current_version,
    };
    if (r.status == SR_OK)
        c->core->metrics.relayed++;
    else if (r.status == SR_ERR_UNAVAILABLE)
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
    if (r.status == SR_ERR_SUPERSEDED && sr_conn_alive(c) && c->join_state == SR_CONN_JOINED)
        sr_delivery_supersede(c); /* its 'x' envelope was missed (pub/sub is at-most-once) */
    if (op->cb) ((sr_publish_cb *)op->cb)(c, &r, op->arg);
    sr_op_done(op);
}

void sr_session_publish(sr_conn *c, const sr_publish_request *req, sr_publish_cb *cb, void *arg)
{
    if (c->join_state != SR_CONN_JOINED) {
        if (cb) cb(c, &(sr_publish_result){.status = SR_ERR_NOT_JOINED}, arg);
        return;
    }
    sr_session *s = c->session;
    uint64_t now = sr_monotonic_ms();
    bool touch = now - s->touched_ms >= sr_core_touch_interval_ms(c->core);
    if (touch) s->touched_ms = now;
    sr_store_publish_args a = {
        .kind = s->kind,
        .id = s->id,
        .keys = s->keys,
        .from = c->member,
        .owner = c->owner,
        .to = req->to,
        .touch = touch,
        .min_members = req->min_members,
        .seq_after = req->seq_after,
        .state = req->state,
        .state_value = req->state_value,
        .state_value_len = req->state_value_len,
        .state_check = (char)req->state_check,
        .state_operand = req->state_operand,
        .state_operand_len = req->state_operand_len,
        .state_version = req->state_version,
        .version_after = req->version_after,
        .to_online = req->to_online,
        .nparts = req->nparts,
        .parts = req->parts,
        .lens = req->lens,
    };
    sr_store_publish(c->core->store, &a, on_publish_reply, sr_op_conn(c, SR_FN(cb), arg));
}

static void on_state(const sr_store_state_result *r, void *arg)
{
    sr_op *op = arg;
    sr_state_cb *cb = (sr_state_cb *)op->cb;
    if (r->status != SR_STORE_OK) {
        sr_core_error(op->core, SR_ERROR_UNAVAILABLE);
        cb(op->c, SR_ERR_UNAVAILABLE, NULL, 0, 0, op->arg);
    } else {
        cb(op->c, SR_OK, r->value.p, r->value.len, r->version, op->arg);
    }
    sr_op_done(op);
}

void sr_session_state(sr_conn *c, const char *name, sr_state_cb *cb, void *arg)
{
    if (c->join_state != SR_CONN_JOINED) {
        cb(c, SR_ERR_NOT_JOINED, NULL, 0, 0, arg);
        return;
    }
    sr_store_state(c->core->store, c->session->kind, c->session->id, name, on_state,
                   sr_op_conn(c, SR_FN(cb), arg));
}

static void on_posted(enum sr_store_post_status status, uint64_t seq, void *arg)
{
    sr_op *op = arg;
    static const int statuses[] = {
        [SR_STORE_POSTED] = SR_POST_OK,
        [SR_STORE_POST_UNAVAILABLE] = SR_POST_UNAVAILABLE,
        [SR_STORE_POST_GONE] = SR_POST_GONE,
        [SR_STORE_POST_NO_ROUTE] = SR_POST_NO_ROUTE,
        [SR_STORE_POST_NO_RECIPIENT] = SR_POST_NO_RECIPIENT,
    };
    sr_post_result r = {statuses[status], seq};
    if (r.status == SR_POST_OK)
        op->core->metrics.relayed++;
    else if (r.status == SR_POST_UNAVAILABLE)
        sr_core_error(op->core, SR_ERROR_UNAVAILABLE);
    if (op->cb) ((sr_post_cb *)op->cb)(op->c, &r, op->arg);
    sr_op_done(op);
}

void sr_session_post(sr_conn *c, const sr_post_request *req, sr_post_cb *cb, void *arg)
{
    const char *bad = "\n{}";
    if (!req->kind || !req->from || !req->to || (!req->id && (!req->route || !req->route_field)) ||
        (req->id && (!*req->id || strpbrk(req->id, bad))) || strchr(req->from, '\n') ||
        strchr(req->to, '\n')) {
        if (cb) cb(c, &(sr_post_result){.status = SR_POST_GONE}, arg);
        return;
    }
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
    sr_store_post(c->core->store, &a, on_posted, sr_op_conn(c, SR_FN(cb), arg));
}

/* ---------- periodic TTL refresh of sessions with live members ---------- */

typedef struct touch_op {
    sr_core *core;
    char session[256];
} touch_op;

/* The touch reply lists the owners that no longer hold their member: their
 * supersede envelope was missed, so close them now. */
static void on_touched(const sr_store_touch_result *r, void *arg)
{
    touch_op *op = arg;
    sr_session *s = sr_map_get(&op->core->sessions, op->session);
    for (size_t i = 0; s && i < r->n; i++) {
        size_t len = r->stale_owners[i].len;
        const char *owner = r->stale_owners[i].p;
        for (sr_conn *c = s->conns; c; c = c->session_next) {
            if (strlen(c->owner) != len || memcmp(c->owner, owner, len) != 0) continue;
            sr_delivery_supersede(c); /* may free s when it was the last member */
            s = sr_map_get(&op->core->sessions, op->session);
            break;
        }
    }
    free(op);
}

static void touch_session(const char *key, void *value, void *arg)
{
    sr_session *s = value;
    sr_core *core = arg;
    uint64_t now = sr_monotonic_ms();
    if (now - s->touched_ms < sr_core_touch_interval_ms(core)) return;
    sr_store_member_seq m[SR_STORE_TOUCH_MAX];
    size_t n = 0;
    for (sr_conn *c = s->conns; c && n < SR_STORE_TOUCH_MAX; c = c->session_next)
        if (c->join_state == SR_CONN_JOINED)
            m[n++] = (sr_store_member_seq){c->member, c->owner, sr_delivery_seq(c)};
    s->touched_ms = now;
    touch_op *op = sr_xmalloc(sizeof *op);
    op->core = core;
    snprintf(op->session, sizeof op->session, "%s", s->name);
    sr_store_touch(core->store, s->kind, s->id, m, n, on_touched, op);
}

void sr_core_touch_sessions(sr_core *core)
{
    sr_map_each(&core->sessions, touch_session, core);
}
