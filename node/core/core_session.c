/* core_session.c - the local records of sessions with members on this node,
 * leaving, and this node's set of held sessions in Redis.
 *
 * A session with members on this node has a local record (sr_session) that
 * owns the node's subscription to the session's channel; joining
 * (core_join.c) creates it, the last member or join to let go frees it.
 * Delivery to its members is core_delivery.c, publishing core_publish.c. */
#include "core_internal.h"
#include "sr_envelope.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---------- local session records ---------- */

static sr_session *local_find(sr_core *core, const char *kind, const char *id)
{
    char name[256];
    snprintf(name, sizeof name, "%s:{%s}", kind, id);
    return sr_map_get(&core->sessions, name);
}

/* The local record of a session, created (and subscribed) on first use. */
sr_session *sr_local_session_get(sr_core *core, const sr_dialect *d, const char *id)
{
    sr_session *s = local_find(core, d->name, id);
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
void sr_local_session_release(sr_core *core, sr_session *s)
{
    if (s->nconns || s->pending) return;
    if (s->registered) sr_store_node_session(core->store, core->boot_id, s->kind, s->id, false);
    sr_map_remove(&core->sessions, s->name);
    sr_bus_unsubscribe(core->bus, s->name);
    sr_store_keys_free(s->keys);
    free(s);
}

void sr_local_session_attach(sr_session *s, sr_conn *c)
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

void sr_local_session_detach(sr_conn *c)
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
    sr_local_session_release(c->core, s);
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

void sr_session_leave(sr_conn *c)
{
    if (c->join_state != SR_CONN_JOINED) return;
    sr_session *s = c->session;
    sr_log_info("conn %llu: left %s %s (%s)", (unsigned long long)c->id, s->kind, s->id, c->member);
    sr_store_leave(c->core->store, s->kind, s->id, c->member, c->owner, sr_delivery_seq(c),
                   c->left_event.len ? c->left_event.data : NULL, c->left_event.len);
    sr_local_session_detach(c);
}

/* The socket is gone: the dialect's close hook, then the member leaves. */
void sr_conn_closed(sr_conn *c)
{
    sr_core *core = c->core;
    sr_log_debug("conn %llu: closed", (unsigned long long)c->id);
    if (c->dialect->close) c->dialect->close(c);
    sr_session_leave(c);
    sr_limits_conn_closed(c);
    c->transport = NULL; /* from here sr_conn_set_timer does nothing */
    if (c->retry) {
        event_free(c->retry);
        c->retry = NULL;
    }
    if (c->timer) {
        event_free(c->timer);
        c->timer = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        core->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = c->prev = NULL;
    core->nconns--;
    sr_conn_unref(c);
}
