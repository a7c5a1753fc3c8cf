/* core_delivery.c - fan-out and catch-up, and the bus hooks.
 *
 * Delivery keeps one rule per connection: frames go out in seq order with no
 * gap. A live envelope that is not the next seq starts a catch-up from the
 * Redis log, during which live traffic is only noted; this heals reconnects,
 * lost pub/sub messages and the window between joining and the subscription
 * becoming active. */
#include "core_internal.h"
#include "core_poll.h"
#include "sr_envelope.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---------- delivery ---------- */

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
uint64_t sr_delivery_seq(sr_conn *c)
{
    uint64_t delivered = c->last_seq;
    if (c->transport) {
        uint64_t oldest = c->ops->oldest_unsent_seq(c->transport);
        if (oldest && oldest - 1 < delivered) delivered = oldest - 1;
    }
    return delivered;
}

/* Another connection holds c's member now: tell the client and close it. */
void sr_delivery_supersede(sr_conn *c)
{
    sr_core_error(c->core, SR_ERROR_SUPERSEDED);
    if (c->dialect->superseded) c->dialect->superseded(c);
    sr_local_session_detach(c); /* Redis already names the new holder: nothing to undo */
    sr_conn_close(c, SR_CLOSE_SUPERSEDED, "superseded");
}

/* The connection's own timer, freed with its socket (sr_conn_closed), so a
 * retry pending when the node stops holds nothing. */
static void backlog_retry(evutil_socket_t fd, short what, void *arg)
{
    sr_conn *c = arg;
    if (sr_conn_alive(c) && c->join_state == SR_CONN_JOINED && c->catching_up) sr_delivery_fetch(c);
}

static void on_backlog(const sr_store_history_result *r, void *arg)
{
    sr_conn *c = arg;
    c->fetching = false;
    if (!sr_conn_alive(c) || c->join_state != SR_CONN_JOINED) goto done;
    if (r->status != SR_STORE_OK) {
        /* Redis is away: try again shortly; live traffic stays parked. */
        struct timeval tv = {1, 0};
        if (!c->retry) c->retry = evtimer_new(c->core->base, backlog_retry, c);
        evtimer_add(c->retry, &tv);
        goto done;
    }
    for (size_t i = 0; i < r->n; i++) {
        sr_envelope e;
        if (sr_envelope_parse(&e, r->envelopes[i].p, r->envelopes[i].len) < 0 ||
            e.seq <= c->last_seq)
            continue;
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
    } else if (r->more || c->pending_seq > c->last_seq) {
        c->catching_up = true; /* the next page, or live traffic went past the read */
        sr_delivery_fetch(c);
    } else {
        c->catching_up = false;
        c->parked_seq = 0;
    }
done:
    sr_conn_unref(c);
}

void sr_delivery_fetch(sr_conn *c)
{
    if (c->fetching) return;
    c->fetching = true;
    c->catching_up = true;
    sr_conn_ref(c);
    sr_store_history(c->core->store, c->session->kind, c->session->id, c->last_seq, on_backlog, c);
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
            if (s->subscribed && !c->fetching) sr_delivery_fetch(c);
            continue;
        }
        if (e->seq <= c->last_seq) continue;
        if (e->seq != c->last_seq + 1) {
            c->pending_seq = e->seq;
            c->parked_seq = e->seq;
            sr_delivery_fetch(c);
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
        sr_delivery_supersede(c);
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
        sr_local_session_detach(c); /* may free s */
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

void sr_core_bus_subscribed(void *arg, const char *session)
{
    sr_core *core = arg;
    sr_session *s = sr_map_get(&core->sessions, session);
    if (!s) return;
    s->subscribed = true;
    sr_join_op *waiting = s->waiting; /* s stays: each of them holds it (pending) */
    s->waiting = NULL;
    while (waiting) {
        sr_join_op *op = waiting;
        waiting = op->next;
        sr_join_run(op);
    }
    for (sr_conn *c = s->conns; c; c = c->session_next)
        if (c->join_state == SR_CONN_JOINED && c->catching_up) sr_delivery_fetch(c);
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
