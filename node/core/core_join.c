/* core_join.c - joining a session: the join rate limit, the subscription
 * before the join script, the script's answer, and the backlog fetch that
 * follows a successful join. */
#include "core_internal.h"
#include "sr_envelope.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---------- joining ---------- */

static void join_op_free(sr_join_op *op)
{
    sr_buf_free(&op->joined);
    sr_buf_free(&op->left);
    sr_buf_free(&op->info);
    free(op);
}

void sr_join_finish(sr_join_op *op, int status, const sr_join_result *r)
{
    sr_conn *c = op->c;
    if (c->join_state == SR_CONN_JOINING) c->join_state = SR_CONN_IDLE;
    if (op->cb) op->cb(c, status, r, op->arg);
    if (op->session) {
        op->session->pending--;
        sr_local_session_release(c->core, op->session);
    }
    join_op_free(op);
    sr_conn_unref(c);
}

static void on_join_reply(const sr_store_join_result *reply, void *arg)
{
    sr_join_op *op = arg;
    sr_conn *c = op->c;
    if (reply->status == SR_STORE_UNAVAILABLE) {
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
        sr_join_finish(op, SR_ERR_UNAVAILABLE, NULL);
        return;
    }
    if (reply->status == SR_STORE_UNKNOWN) {
        if (op->req.count_failure) sr_store_join_failed(c->core->store, c->ip);
        sr_core_error(c->core, SR_ERROR_UNKNOWN_SESSION);
        sr_join_finish(op, SR_ERR_UNKNOWN_SESSION, NULL);
        return;
    }
    if (reply->status != SR_STORE_OK) {
        sr_join_finish(op, reply->status == SR_STORE_EXISTS ? SR_ERR_EXISTS : SR_ERR_FULL, NULL);
        return;
    }
    const sr_field *fields = reply->fields;
    size_t nfields = reply->nfields;
    char dname[140];
    bool has_d;
    snprintf(dname, sizeof dname, "d:%s", op->member);
    uint64_t seq = sr_fields_u64(fields, nfields, "seq", NULL);
    uint64_t delivered = sr_fields_u64(fields, nfields, dname, &has_d);
    uint64_t start = op->req.has_last_seq ? op->req.last_seq : has_d ? delivered : seq;
    if (start > seq) start = seq;

    if (!sr_conn_alive(c)) { /* the socket went while we waited: give the member back */
        sr_store_leave(c->core->store, c->dialect->name, op->id, op->member, c->owner, start,
                       op->left.len ? op->left.data : NULL, op->left.len);
        sr_join_finish(op, SR_ERR_NOT_JOINED, NULL);
        return;
    }
    snprintf(c->member, sizeof c->member, "%s", op->member);
    sr_buf_reset(&c->left_event);
    if (op->left.len) sr_buf_append(&c->left_event, op->left.data, op->left.len);
    c->join_number = sr_fields_u64(fields, nfields, "joins", NULL);
    sr_local_session_attach(op->session, c);
    sr_store_session_active(c->core->store, c->dialect->name, op->id);
    op->session->pending--;
    op->session = NULL;
    c->join_state = SR_CONN_JOINED;
    sr_conn_authenticated(c);
    c->last_seq = start;
    c->pending_seq = c->parked_seq = 0;
    c->catching_up = true; /* until the backlog (maybe empty) has been fetched */
    c->fetching = false;
    sr_join_result r = {seq, fields, nfields};
    if (op->cb) op->cb(c, SR_OK, &r, op->arg);
    if (c->session && c->session->subscribed) sr_delivery_fetch(c);
    join_op_free(op);
    sr_conn_unref(c);
}

void sr_join_run(sr_join_op *op)
{
    sr_conn *c = op->c;
    sr_store_join_args a = {
        .kind = c->dialect->name,
        .id = op->id,
        .member = op->member,
        .owner = c->owner,
        .create = op->req.create,
        .max_members = op->req.max_members,
        .event = op->joined.len ? op->joined.data : NULL,
        .event_len = op->joined.len,
        .info = op->info.len ? op->info.data : NULL,
        .info_len = op->info.len,
    };
    sr_store_join(c->core->store, &a, on_join_reply, op);
}

/* Subscribes to the session's channel before the join script runs, so that
 * nobody can learn of this member (and send to it) before this node hears the
 * channel: nothing it is sent depends on the log's retention. */
static void subscribe_then_join(sr_join_op *op)
{
    sr_core *core = op->c->core;
    if (!sr_bus_up(core->bus)) {
        sr_core_error(core, SR_ERROR_UNAVAILABLE);
        sr_join_finish(op, SR_ERR_UNAVAILABLE, NULL);
        return;
    }
    sr_session *s = sr_local_session_get(core, op->c->dialect, op->id);
    s->pending++;
    op->session = s;
    if (s->subscribed) {
        sr_join_run(op);
    } else {
        op->next = s->waiting;
        s->waiting = op;
    }
}

static void on_join_failures(enum sr_store_status status, long long count, void *arg)
{
    sr_join_op *op = arg;
    if (status != SR_STORE_OK) {
        sr_core_error(op->c->core, SR_ERROR_UNAVAILABLE);
        sr_join_finish(op, SR_ERR_UNAVAILABLE, NULL);
    } else if (count >= op->c->core->cfg->join_rate_limit) {
        sr_core_error(op->c->core, SR_ERROR_RATE_LIMITED);
        sr_join_finish(op, SR_ERR_RATE_LIMITED, NULL);
    } else {
        subscribe_then_join(op);
    }
}

static bool valid_name(const char *s, size_t cap)
{
    size_t n = strlen(s);
    return n > 0 && n < cap && !strpbrk(s, "\n{}");
}

void sr_session_join(sr_conn *c, const sr_join_request *req, sr_join_cb *cb, void *arg)
{
    int refused = c->join_state == SR_CONN_JOINING ? SR_ERR_BUSY
                  : c->closing ? SR_ERR_UNAVAILABLE /* a pair crossing our close frame */
                  : !valid_name(req->id, sizeof((sr_join_op *)0)->id) ||
                          !valid_name(req->member, sizeof((sr_join_op *)0)->member)
                      ? SR_ERR_UNKNOWN_SESSION
                      : SR_OK;
    if (refused != SR_OK) {
        if (cb) cb(c, refused, NULL, arg);
        return;
    }
    if (c->join_state == SR_CONN_JOINED) sr_session_leave(c);

    sr_join_op *op = sr_xcalloc(1, sizeof *op);
    op->c = c;
    op->cb = cb;
    op->arg = arg;
    op->req = *req;
    snprintf(op->id, sizeof op->id, "%s", req->id);
    snprintf(op->member, sizeof op->member, "%s", req->member);
    sr_buf_init(&op->joined);
    sr_buf_init(&op->left);
    sr_buf_init(&op->info);
    if (req->member_info) sr_buf_append(&op->info, req->member_info, req->member_info_len);
    /* the caller's frames do not outlive this call: keep them as envelopes */
    if (req->joined_frame)
        sr_envelope_write(&op->joined, SR_ENVELOPE_EVENT, 0, op->member, "*", req->joined_frame,
                          req->joined_len);
    if (req->left_frame)
        sr_envelope_write(&op->left, SR_ENVELOPE_EVENT, 0, op->member, "*", req->left_frame,
                          req->left_len);
    op->req.joined_frame = op->req.left_frame = op->req.member_info = NULL;
    c->join_state = SR_CONN_JOINING;
    sr_conn_ref(c);
    if (req->count_failure) {
        sr_store_join_failures(c->core->store, c->ip, on_join_failures, op);
    } else {
        subscribe_then_join(op);
    }
}

void sr_session_join_failed(sr_conn *c)
{
    sr_store_join_failed(c->core->store, c->ip);
}

const char *sr_join_field(const sr_join_result *r, const char *name, size_t *len)
{
    return sr_fields_get(r->fields, r->nfields, name, len);
}

void sr_join_each_online(sr_conn *c, const sr_join_result *r,
                         void (*fn)(sr_conn *c, const char *member, size_t len, void *arg),
                         void *arg)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const char *k = r->fields[i].name.p;
        size_t klen = r->fields[i].name.len, vlen = r->fields[i].value.len;
        if (klen < 3 || memcmp(k, "m:", 2) != 0 || vlen == 0) continue;
        if (klen - 2 == strlen(c->member) && !memcmp(k + 2, c->member, klen - 2)) continue;
        fn(c, k + 2, klen - 2, arg);
    }
}

static void find_waiting(const char *key, void *value, void *arg)
{
    sr_session *s = value;
    if (s->waiting && !*(sr_session **)arg) *(sr_session **)arg = s;
}

void sr_core_abort_joins(sr_core *core)
{
    sr_session *s;
    while ((s = NULL, sr_map_each(&core->sessions, find_waiting, &s), s)) {
        sr_join_op *op = s->waiting;
        s->waiting = op->next;
        sr_join_finish(op, SR_ERR_UNAVAILABLE, NULL); /* may free s */
    }
}
