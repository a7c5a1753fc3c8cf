/* core_session.c - joining, publishing, leaving, fan-out and catch-up.
 *
 * A session with members on this node has a local record (sr_session) that
 * owns the node's subscription to the session's channel. Delivery keeps one
 * rule per connection: frames go out in seq order with no gap. A live envelope
 * that is not the next seq starts a catch-up from the Redis log, during which
 * live traffic is only noted; this heals reconnects, lost pub/sub messages and
 * the window between joining and the subscription becoming active. */
#include "core.h"
#include "core_poll.h"
#include "sr_envelope.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

typedef struct join_op join_op;

/* A join under way: rate-limit check, subscription, join script. */
struct join_op {
    join_op *next; /* in its session's waiting list */
    sr_session *session;
    sr_conn *c;
    sr_join_cb *cb;
    sr_join_request req;
    char id[128], member[128];
    sr_buf joined, left; /* envelopes */
    sr_buf info;
};

struct sr_session {
    char name[256]; /* "<kind>:{<id>}" */
    const char *kind;
    char id[128];
    sr_conn *conns;
    unsigned nconns;
    unsigned pending; /* joins under way that will attach here or let go */
    join_op *waiting; /* joins waiting for the subscription to be active */
    bool subscribed;
    bool registered;     /* in this node's set of sessions held (cluster counts) */
    uint64_t touched_ms; /* last TTL refresh sent by this node (monotonic) */
    sr_store_keys *keys; /* its Redis names, formatted once */
};

/* ---------- local session records ---------- */

static sr_session *session_find(sr_core *core, const char *kind, const char *id)
{
    char name[256];
    snprintf(name, sizeof name, "%s:{%s}", kind, id);
    return sr_map_get(&core->sessions, name);
}

/* The local record of a session, created (and subscribed) on first use. */
static sr_session *session_get(sr_core *core, const sr_dialect *d, const char *id)
{
    sr_session *s = session_find(core, d->name, id);
    if (!s) {
        s = sr_xcalloc(1, sizeof *s);
        s->kind = d->name;
        snprintf(s->id, sizeof s->id, "%s", id);
        snprintf(s->name, sizeof s->name, "%s:{%s}", s->kind, id);
        s->keys = sr_store_keys_new(core->store, s->kind, s->id);
        sr_map_set(&core->sessions, s->name, s);
        sr_bus_subscribe(core->bus, s->name);
    }
    return s;
}

/* Frees the record once no connection and no join needs it. */
static void session_release(sr_core *core, sr_session *s)
{
    if (s->nconns || s->pending) return;
    if (s->registered) sr_store_node_session(core->store, core->boot_id, s->kind, s->id, false);
    sr_map_remove(&core->sessions, s->name);
    sr_bus_unsubscribe(core->bus, s->name);
    sr_store_keys_free(s->keys);
    free(s);
}

static void session_attach(sr_session *s, sr_conn *c)
{
    s->touched_ms = sr_monotonic_ms(); /* the join script refreshed the TTLs */
    if (!s->registered) {
        s->registered = true;
        sr_store_node_session(c->core->store, c->core->boot_id, s->kind, s->id, true);
    }
    sr_log_info("conn %llu: joined %s %s as %s", (unsigned long long)c->id, s->kind, s->id,
                c->member);
    c->session = s;
    c->session_prev = NULL;
    c->session_next = s->conns;
    if (s->conns) s->conns->session_prev = c;
    s->conns = c;
    s->nconns++;
}

static void session_detach(sr_conn *c)
{
    sr_session *s = c->session;
    if (!s) return;
    if (c->session_prev)
        c->session_prev->session_next = c->session_next;
    else
        s->conns = c->session_next;
    if (c->session_next) c->session_next->session_prev = c->session_prev;
    c->session = NULL;
    c->session_next = c->session_prev = NULL;
    c->join_state = SR_CONN_IDLE;
    s->nconns--;
    session_release(c->core, s);
}

size_t sr_core_local_sessions(const sr_core *core)
{
    return core->sessions.count;
}

typedef struct held_list {
    char (*names)[256];
    const char **ptrs;
    size_t n;
} held_list;

static void list_held(const char *key, void *value, void *arg)
{
    sr_session *s = value;
    held_list *l = arg;
    if (!s->registered) return;
    snprintf(l->names[l->n], sizeof l->names[l->n], "%s:%s", s->kind, s->id);
    l->ptrs[l->n] = l->names[l->n];
    l->n++;
}

void sr_core_sync_sessions(sr_core *core)
{
    size_t cap = core->sessions.count ? core->sessions.count : 1;
    held_list l = {sr_xmalloc(cap * sizeof *l.names), sr_xmalloc(cap * sizeof *l.ptrs), 0};
    sr_map_each(&core->sessions, list_held, &l);
    sr_store_node_sessions_sync(core->store, core->boot_id, l.ptrs, l.n);
    free(l.names);
    free(l.ptrs);
}

/* ---------- delivery ---------- */

static void fetch_backlog(sr_conn *c);

/* Accepts the next envelope in seq order for c: delivers it when addressed to
 * c's member, skips it otherwise (own messages, other targets). A frame that
 * could not be queued does not count as delivered: last_seq stops there. */
static bool deliver(sr_conn *c, const sr_envelope *e, sr_frame **shared)
{
    if (!sr_conn_alive(c)) return false;
    if (sr_envelope_is_for(e, c->member)) {
        if (!*shared) *shared = sr_frame_new(e->frame, e->frame_len, e->seq);
        if (sr_conn_send_frame(c, *shared) < 0) return false;
    }
    c->last_seq = e->seq;
    return true;
}

/* The seq up to which c's member has really been served: frames still queued
 * in the transport are not. This is what Redis records as d:<member>. */
static uint64_t delivered_seq(sr_conn *c)
{
    uint64_t delivered = c->last_seq;
    if (c->transport) {
        uint64_t oldest = c->ops->oldest_unsent_seq(c->transport);
        if (oldest && oldest - 1 < delivered) delivered = oldest - 1;
    }
    return delivered;
}

/* Another connection holds c's member now: tell the client and close it. */
static void supersede_local(sr_conn *c)
{
    sr_core_error(c->core, SR_ERROR_SUPERSEDED);
    if (c->dialect->superseded) c->dialect->superseded(c);
    session_detach(c); /* Redis already names the new holder: nothing to undo */
    sr_conn_close(c, SR_CLOSE_SUPERSEDED, "superseded");
}

static void backlog_retry(evutil_socket_t fd, short what, void *arg)
{
    sr_conn *c = arg;
    c->core->retries_pending--;
    if (sr_conn_alive(c) && c->join_state == SR_CONN_JOINED && c->catching_up) fetch_backlog(c);
    sr_conn_unref(c);
}

static void on_backlog(const sr_reply *reply, void *arg)
{
    sr_conn *c = arg;
    c->fetching = false;
    if (!sr_conn_alive(c) || c->join_state != SR_CONN_JOINED) goto done;
    if (!reply || sr_reply_type(reply) != SR_REPLY_ARR || sr_reply_count(reply) < 1) {
        /* Redis is away: try again shortly; live traffic stays parked. */
        struct timeval tv = {1, 0};
        sr_conn_ref(c);
        c->core->retries_pending++;
        event_base_once(c->core->base, -1, EV_TIMEOUT, backlog_retry, c, &tv);
        goto done;
    }
    bool more = sr_reply_int(sr_reply_at(reply, 0)) != 0; /* the page was cut at its size */
    for (size_t i = 1; i < sr_reply_count(reply); i++) {
        size_t len;
        const char *s = sr_reply_str(sr_reply_at(reply, i), &len);
        sr_envelope e;
        if (!s || sr_envelope_parse(&e, s, len) < 0 || e.seq <= c->last_seq) continue;
        sr_frame *f = NULL;
        bool ok = deliver(c, &e, &f);
        if (f) {
            c->core->metrics.replayed++;
            /* it came live while this connection caught up: a relay, only later */
            if (c->parked_seq && e.seq >= c->parked_seq) f->origin_us = e.time_us;
            sr_frame_unref(f);
        }
        if (!ok) goto done; /* closing: the rest stays undelivered */
    }
    if (!c->session->subscribed) {
        /* a message published after this read may not reach us: the
         * subscription confirmation fetches again */
        c->catching_up = true;
    } else if (more || c->pending_seq > c->last_seq) {
        c->catching_up = true; /* the next page, or live traffic went past the read */
        fetch_backlog(c);
    } else {
        c->catching_up = false;
        c->parked_seq = 0;
    }
done:
    sr_conn_unref(c);
}

static void fetch_backlog(sr_conn *c)
{
    if (c->fetching) return;
    c->fetching = true;
    c->catching_up = true;
    sr_conn_ref(c);
    if (sr_store_history(c->core->store, c->session->kind, c->session->id, c->last_seq, on_backlog,
                         c) < 0)
        on_backlog(NULL, c);
}

static void on_message(sr_session *s, const sr_envelope *e)
{
    sr_frame *shared = NULL;
    for (sr_conn *c = s->conns, *next; c; c = next) {
        next = c->session_next;
        if (c->join_state != SR_CONN_JOINED || !sr_conn_alive(c)) continue;
        if (c->catching_up) {
            if (e->seq > c->pending_seq) c->pending_seq = e->seq;
            if (!c->parked_seq || e->seq < c->parked_seq) c->parked_seq = e->seq;
            if (s->subscribed && !c->fetching) fetch_backlog(c);
            continue;
        }
        if (e->seq <= c->last_seq) continue;
        if (e->seq != c->last_seq + 1) {
            c->pending_seq = e->seq;
            c->parked_seq = e->seq;
            fetch_backlog(c);
            continue;
        }
        deliver(c, e, &shared);
        if (shared) shared->origin_us = e->time_us; /* live: the transport times its writes */
    }
    sr_frame_unref(shared);
}

static void on_event(sr_session *s, const sr_envelope *e)
{
    sr_frame *shared = NULL;
    for (sr_conn *c = s->conns; c; c = c->session_next) {
        if (c->join_state != SR_CONN_JOINED || !sr_envelope_is_for(e, c->member)) continue;
        if (!shared) shared = sr_frame_new(e->frame, e->frame_len, 0);
        sr_conn_send_frame(c, shared);
    }
    sr_frame_unref(shared);
}

/* Member e->to now belongs to connection e->from, which was join number
 * e->seq of the session: holders that joined before it go. One that joined
 * after it (several joins racing) is newer than this notice and stays. */
static void on_supersede(sr_session *s, const sr_envelope *e)
{
    for (sr_conn *c = s->conns, *next; c; c = next) {
        next = c->session_next;
        size_t mlen = strlen(c->member), olen = strlen(c->owner);
        if (mlen != e->to_len || memcmp(c->member, e->to, mlen) != 0) continue;
        if (olen == e->from_len && memcmp(c->owner, e->from, olen) == 0) continue;
        if (c->join_state != SR_CONN_JOINED || c->join_number >= e->seq) continue;
        supersede_local(c);
    }
}

/* An admin ended the session: its keys are gone already, so members leave
 * without the leave script. */
static void on_end(sr_core *core, const char *name)
{
    sr_session *s;
    while ((s = sr_map_get(&core->sessions, name)) && s->conns) {
        sr_conn *c = s->conns;
        if (c->dialect->ended && sr_conn_alive(c)) c->dialect->ended(c);
        session_detach(c); /* may free s */
        sr_conn_close(c, SR_CLOSE_NORMAL, "session ended");
    }
}

void sr_core_bus_message(void *arg, const char *session, size_t session_len, const char *data,
                         size_t len)
{
    sr_core *core = arg;
    char name[256];
    sr_envelope e;
    if (session_len > 4 && !memcmp(session, "eio:", 4)) { /* this node's Engine.IO channel */
        sr_poll_bus_message(core, data, len);
        return;
    }
    if (session_len >= sizeof name) return;
    memcpy(name, session, session_len);
    name[session_len] = '\0';
    sr_session *s = sr_map_get(&core->sessions, name);
    if (!s) return;
    if (sr_envelope_parse(&e, data, len) < 0) {
        sr_log_warn("malformed envelope on %s", name);
        return;
    }
    if (e.kind == SR_ENVELOPE_MESSAGE)
        on_message(s, &e);
    else if (e.kind == SR_ENVELOPE_EVENT)
        on_event(s, &e);
    else if (e.kind == SR_ENVELOPE_SUPERSEDE)
        on_supersede(s, &e);
    else if (e.kind == SR_ENVELOPE_END)
        on_end(core, name);
}

static void run_join(join_op *op);

void sr_core_bus_subscribed(void *arg, const char *session)
{
    sr_core *core = arg;
    sr_session *s = sr_map_get(&core->sessions, session);
    if (!s) return;
    s->subscribed = true;
    join_op *waiting = s->waiting; /* s stays: each of them holds it (pending) */
    s->waiting = NULL;
    while (waiting) {
        join_op *op = waiting;
        waiting = op->next;
        run_join(op);
    }
    for (sr_conn *c = s->conns; c; c = c->session_next)
        if (c->join_state == SR_CONN_JOINED && c->catching_up) fetch_backlog(c);
}

/* The subscriber connection is back: pub/sub may have dropped messages. Every
 * connection parks live traffic; the subscription confirmation of its session
 * fetches what it missed (fetching before that could miss the window between
 * the read and the SUBSCRIBE). */
static void reset_session(const char *key, void *value, void *arg)
{
    sr_session *s = value;
    s->subscribed = false;
    for (sr_conn *c = s->conns; c; c = c->session_next)
        if (c->join_state == SR_CONN_JOINED) c->catching_up = true;
}

void sr_core_bus_reset(void *arg)
{
    sr_core *core = arg;
    sr_map_each(&core->sessions, reset_session, NULL);
}

/* ---------- joining ---------- */

static void join_op_free(join_op *op)
{
    sr_buf_free(&op->joined);
    sr_buf_free(&op->left);
    sr_buf_free(&op->info);
    free(op);
}

static void join_finish(join_op *op, int status, const sr_join_result *r)
{
    sr_conn *c = op->c;
    if (c->join_state == SR_CONN_JOINING) c->join_state = SR_CONN_IDLE;
    if (sr_conn_alive(c) && op->cb) op->cb(c, status, r);
    if (op->session) {
        op->session->pending--;
        session_release(c->core, op->session);
    }
    join_op_free(op);
    sr_conn_unref(c);
}

static uint64_t field_u64(const sr_reply *r, const char *name, bool *found)
{
    size_t len;
    const char *v = sr_reply_field(r, 2, name, &len);
    if (found) *found = v != NULL;
    return v ? strtoull(v, NULL, 10) : 0;
}

static void on_join_reply(const sr_reply *reply, void *arg)
{
    join_op *op = arg;
    sr_conn *c = op->c;
    size_t slen;
    const char *status = reply && sr_reply_type(reply) == SR_REPLY_ARR && sr_reply_count(reply) >= 2
                             ? sr_reply_str(sr_reply_at(reply, 0), &slen)
                             : NULL;
    if (!status) {
        if (reply) sr_log_error("join: unexpected reply from Redis");
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
        join_finish(op, SR_ERR_UNAVAILABLE, NULL);
        return;
    }
    if (!strcmp(status, "unknown")) {
        if (op->req.count_failure) sr_store_join_failed(c->core->store, c->ip);
        sr_core_error(c->core, SR_ERROR_UNKNOWN_SESSION);
        join_finish(op, SR_ERR_UNKNOWN_SESSION, NULL);
        return;
    }
    if (strcmp(status, "ok") != 0) {
        join_finish(op, !strcmp(status, "exists") ? SR_ERR_EXISTS : SR_ERR_FULL, NULL);
        return;
    }
    char dname[140];
    bool has_d, has_seq;
    snprintf(dname, sizeof dname, "d:%s", op->member);
    uint64_t seq = field_u64(reply, "seq", &has_seq);
    uint64_t delivered = field_u64(reply, dname, &has_d);
    uint64_t start = op->req.has_last_seq ? op->req.last_seq : has_d ? delivered : seq;
    if (start > seq) start = seq;

    if (!sr_conn_alive(c)) { /* the socket went while we waited: give the member back */
        sr_store_leave(c->core->store, c->dialect->name, op->id, op->member, c->owner, start,
                       op->left.len ? op->left.data : NULL, op->left.len, NULL, NULL);
        join_finish(op, SR_ERR_NOT_JOINED, NULL);
        return;
    }
    snprintf(c->member, sizeof c->member, "%s", op->member);
    sr_buf_reset(&c->left_event);
    if (op->left.len) sr_buf_append(&c->left_event, op->left.data, op->left.len);
    c->join_number = field_u64(reply, "joins", NULL);
    session_attach(op->session, c);
    sr_store_session_active(c->core->store, c->dialect->name, op->id);
    op->session->pending--;
    op->session = NULL;
    c->join_state = SR_CONN_JOINED;
    sr_conn_authenticated(c);
    c->last_seq = start;
    c->pending_seq = c->parked_seq = 0;
    c->catching_up = true; /* until the backlog (maybe empty) has been fetched */
    c->fetching = false;
    sr_join_result r = {seq, reply};
    if (op->cb) op->cb(c, SR_OK, &r);
    if (c->session && c->session->subscribed) fetch_backlog(c);
    join_op_free(op);
    sr_conn_unref(c);
}

static void run_join(join_op *op)
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
    if (sr_store_join(c->core->store, &a, on_join_reply, op) < 0) on_join_reply(NULL, op);
}

/* Subscribes to the session's channel before the join script runs, so that
 * nobody can learn of this member (and send to it) before this node hears the
 * channel: nothing it is sent depends on the log's retention. */
static void subscribe_then_join(join_op *op)
{
    sr_core *core = op->c->core;
    if (!sr_bus_up(core->bus)) {
        sr_core_error(core, SR_ERROR_UNAVAILABLE);
        join_finish(op, SR_ERR_UNAVAILABLE, NULL);
        return;
    }
    sr_session *s = session_get(core, op->c->dialect, op->id);
    s->pending++;
    op->session = s;
    if (s->subscribed) {
        run_join(op);
    } else {
        op->next = s->waiting;
        s->waiting = op;
    }
}

static void on_join_failures(const sr_reply *reply, void *arg)
{
    join_op *op = arg;
    if (!reply) {
        sr_core_error(op->c->core, SR_ERROR_UNAVAILABLE);
        join_finish(op, SR_ERR_UNAVAILABLE, NULL);
    } else if (sr_reply_int(reply) >= op->c->core->cfg->join_rate_limit) {
        sr_core_error(op->c->core, SR_ERROR_RATE_LIMITED);
        join_finish(op, SR_ERR_RATE_LIMITED, NULL);
    } else {
        subscribe_then_join(op);
    }
}

static bool valid_name(const char *s, size_t cap)
{
    size_t n = strlen(s);
    return n > 0 && n < cap && !strpbrk(s, "\n{}");
}

int sr_session_join(sr_conn *c, const sr_join_request *req, sr_join_cb *cb)
{
    if (c->join_state == SR_CONN_JOINING) return SR_ERR_BUSY;
    if (c->closing) return SR_ERR_UNAVAILABLE; /* a pair crossing our close frame */
    if (!valid_name(req->id, sizeof((join_op *)0)->id) ||
        !valid_name(req->member, sizeof((join_op *)0)->member))
        return SR_ERR_UNKNOWN_SESSION;
    if (c->join_state == SR_CONN_JOINED) sr_session_leave(c);

    join_op *op = sr_xcalloc(1, sizeof *op);
    op->c = c;
    op->cb = cb;
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
        if (sr_store_join_failures(c->core->store, c->ip, on_join_failures, op) < 0)
            on_join_failures(NULL, op);
    } else {
        subscribe_then_join(op);
    }
    return SR_OK;
}

void sr_session_join_failed(sr_conn *c)
{
    sr_store_join_failed(c->core->store, c->ip);
}

const char *sr_join_field(const sr_join_result *r, const char *name, size_t *len)
{
    size_t dummy;
    return sr_reply_field(r->fields, 2, name, len ? len : &dummy);
}

void sr_join_each_online(sr_conn *c, const sr_join_result *r,
                         void (*fn)(sr_conn *c, const char *member, size_t len, void *arg),
                         void *arg)
{
    size_t n = sr_reply_count(r->fields);
    for (size_t i = 2; i + 1 < n; i += 2) {
        size_t klen, vlen;
        const char *k = sr_reply_str(sr_reply_at(r->fields, i), &klen);
        const char *v = sr_reply_str(sr_reply_at(r->fields, i + 1), &vlen);
        if (!k || !v || klen < 3 || memcmp(k, "m:", 2) != 0 || vlen == 0) continue;
        if (klen - 2 == strlen(c->member) && !memcmp(k + 2, c->member, klen - 2)) continue;
        fn(c, k + 2, klen - 2, arg);
    }
}

/* ---------- publishing and leaving ---------- */

static void on_publish_reply(const sr_reply *reply, void *arg)
{
    sr_conn *c = arg;
    sr_publish_result r = {.status = SR_ERR_UNAVAILABLE};
    size_t n = sr_reply_count(reply);
    const char *s = n >= 2 ? sr_reply_str(sr_reply_at(reply, 0), NULL) : NULL;
    if (s) {
        r.seq = (uint64_t)sr_reply_int(sr_reply_at(reply, 1));
        r.version = n >= 3 ? (uint64_t)sr_reply_int(sr_reply_at(reply, 2)) : 0;
        r.status = !strcmp(s, "ok")         ? SR_OK
                   : !strcmp(s, "unpaired") ? SR_ERR_NOT_PAIRED
                   : !strcmp(s, "gone")     ? SR_ERR_UNKNOWN_SESSION
                   : !strcmp(s, "conflict") ? SR_ERR_CONFLICT
                   : !strcmp(s, "offline")  ? SR_ERR_OFFLINE
                                            : SR_ERR_SUPERSEDED;
        if (r.status == SR_ERR_CONFLICT && n >= 5) {
            r.current = sr_reply_str(sr_reply_at(reply, 3), &r.current_len);
            r.current_version = (uint64_t)sr_reply_int(sr_reply_at(reply, 4));
        }
    }
    if (r.status == SR_OK)
        c->core->metrics.relayed++;
    else if (r.status == SR_ERR_UNAVAILABLE)
        sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
    if (r.status == SR_ERR_SUPERSEDED && sr_conn_alive(c) && c->join_state == SR_CONN_JOINED)
        supersede_local(c); /* its 'x' envelope was missed (pub/sub is at-most-once) */
    else if (sr_conn_alive(c) && c->publish_cb)
        c->publish_cb(c, &r);
    sr_conn_unref(c);
}

int sr_session_publish(sr_conn *c, const sr_publish_request *req, sr_publish_cb *cb)
{
    if (c->join_state != SR_CONN_JOINED) return SR_ERR_NOT_JOINED;
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
    c->publish_cb = cb;
    sr_conn_ref(c);
    if (sr_store_publish(c->core->store, &a, on_publish_reply, c) < 0) on_publish_reply(NULL, c);
    return SR_OK;
}

typedef struct state_op {
    sr_conn *c;
    sr_state_cb *cb;
} state_op;

static void on_state(const sr_reply *reply, void *arg)
{
    state_op *op = arg;
    sr_conn *c = op->c;
    if (sr_conn_alive(c)) {
        if (sr_reply_count(reply) != 2) {
            sr_core_error(c->core, SR_ERROR_UNAVAILABLE);
            op->cb(c, SR_ERR_UNAVAILABLE, NULL, 0, 0);
        } else {
            size_t len = 0;
            const char *value = sr_reply_str(sr_reply_at(reply, 0), &len);
            op->cb(c, SR_OK, value, value ? len : 0, (uint64_t)sr_reply_int(sr_reply_at(reply, 1)));
        }
    }
    sr_conn_unref(c);
    free(op);
}

int sr_session_state(sr_conn *c, const char *name, sr_state_cb *cb)
{
    if (c->join_state != SR_CONN_JOINED) return SR_ERR_NOT_JOINED;
    state_op *op = sr_xmalloc(sizeof *op);
    op->c = c;
    op->cb = cb;
    sr_conn_ref(c);
    if (sr_store_state(c->core->store, c->session->kind, c->session->id, name, on_state, op) < 0)
        on_state(NULL, op);
    return SR_OK;
}

void sr_session_leave(sr_conn *c)
{
    if (c->join_state != SR_CONN_JOINED) return;
    sr_session *s = c->session;
    sr_log_info("conn %llu: left %s %s (%s)", (unsigned long long)c->id, s->kind, s->id, c->member);
    sr_store_leave(c->core->store, s->kind, s->id, c->member, c->owner, delivered_seq(c),
                   c->left_event.len ? c->left_event.data : NULL, c->left_event.len, NULL, NULL);
    session_detach(c);
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
        join_op *op = s->waiting;
        s->waiting = op->next;
        join_finish(op, SR_ERR_UNAVAILABLE, NULL); /* may free s */
    }
}

/* ---------- periodic TTL refresh of sessions with live members ---------- */

typedef struct touch_op {
    sr_core *core;
    char session[256];
} touch_op;

/* The touch reply lists the owners that no longer hold their member: their
 * supersede envelope was missed, so close them now. */
static void on_touched(const sr_reply *reply, void *arg)
{
    touch_op *op = arg;
    sr_session *s = sr_map_get(&op->core->sessions, op->session);
    for (size_t i = 0; s && i < sr_reply_count(reply); i++) {
        size_t len;
        const char *owner = sr_reply_str(sr_reply_at(reply, i), &len);
        for (sr_conn *c = s->conns; owner && c; c = c->session_next) {
            if (strlen(c->owner) != len || memcmp(c->owner, owner, len) != 0) continue;
            supersede_local(c); /* may free s when it was the last member */
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
            m[n++] = (sr_store_member_seq){c->member, c->owner, delivered_seq(c)};
    s->touched_ms = now;
    touch_op *op = sr_xmalloc(sizeof *op);
    op->core = core;
    snprintf(op->session, sizeof op->session, "%s", s->name);
    if (sr_store_touch(core->store, s->kind, s->id, m, n, on_touched, op) < 0) free(op);
}

void sr_core_touch_sessions(sr_core *core)
{
    sr_map_each(&core->sessions, touch_session, core);
}
