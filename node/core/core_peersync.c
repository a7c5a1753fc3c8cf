/* core_peersync.c - connection-bound calls over store_peersync.h (see
 * core_peersync.h): reference counting and error accounting in one place. */
#include "core_peersync.h"

#include <stdlib.h>

typedef struct call {
    sr_conn *c;
    sr_peersync_cb *cb;
    void *arg;
} call;

static void on_reply(const sr_reply *reply, void *privdata)
{
    call *k = privdata;
    if (!reply) sr_core_error(k->c->core, SR_ERROR_UNAVAILABLE);
    if (k->cb) k->cb(k->c, reply, k->arg);
    sr_conn_unref(k->c);
    free(k);
}

static call *call_new(sr_conn *c, sr_peersync_cb *cb, void *arg)
{
    call *k = sr_xmalloc(sizeof *k);
    *k = (call){c, cb, arg};
    sr_conn_ref(c);
    return k;
}

/* The store refused at once (Redis down): answer through the callback all the same. */
static int sent(int rc, call *k)
{
    if (rc < 0) on_reply(NULL, k);
    return 0;
}

int sr_peersync_register(sr_conn *c, const sr_store_peer *p, sr_peersync_cb *cb, void *arg)
{
    call *k = call_new(c, cb, arg);
    return sent(sr_store_peer_register(c->core->store, p, on_reply, k), k);
}

int sr_peersync_discover(sr_conn *c, const char *user, const char *role, const char *ide,
                         sr_peersync_cb *cb, void *arg)
{
    call *k = call_new(c, cb, arg);
    return sent(sr_store_peer_discover(c->core->store, user, role, ide, on_reply, k), k);
}

int sr_peersync_refresh(sr_conn *c, const char *user)
{
    call *k = call_new(c, NULL, NULL);
    return sent(sr_store_peer_refresh(c->core->store, user, c->owner, on_reply, k), k);
}

int sr_peersync_request(sr_conn *c, const char *from, const char *to, const char *request_id,
                        sr_peersync_cb *cb, void *arg)
{
    call *k = call_new(c, cb, arg);
    return sent(sr_store_peer_request(c->core->store, from, to, c->owner, request_id, on_reply, k),
                k);
}

int sr_peersync_respond(sr_conn *c, const char *request_id, const char *responder, bool accepted,
                        const char *session_id, sr_peersync_cb *cb, void *arg)
{
    call *k = call_new(c, cb, arg);
    return sent(sr_store_peer_respond(c->core->store, request_id, responder, accepted, session_id,
                                      on_reply, k),
                k);
}

int sr_peersync_leave(sr_conn *c, const char *user, bool end_sessions, sr_peersync_cb *cb,
                      void *arg)
{
    call *k = call_new(c, cb, arg);
    return sent(sr_store_peer_leave(c->core->store, user, c->owner, end_sessions, on_reply, k), k);
}
