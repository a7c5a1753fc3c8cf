/* core_accounts.c - connection- and request-bound calls over store_accounts.h
 * (see core_accounts.h): reference counting, reply checks and error
 * accounting in one place. */
#include "core_accounts.h"

#include <stdlib.h>

typedef struct call {
    sr_core *core;
    sr_conn *c;     /* bound to a connection ... */
    sr_http_req *r; /* ... or to an HTTP request */
    sr_accounts_conn_cb *conn_cb;
    sr_accounts_http_cb *http_cb;
    void *arg;
    enum sr_reply_type want; /* the reply's type */
    size_t count;            /* arrays: exactly this many elements; 0 any */
} call;

static bool expected(const call *k, const sr_reply *reply)
{
    if (!reply || sr_reply_type(reply) != k->want) return false;
    return k->want != SR_REPLY_ARR || !k->count || sr_reply_count(reply) == k->count;
}

static void on_reply(const sr_reply *reply, void *privdata)
{
    call *k = privdata;
    if (!expected(k, reply)) {
        sr_core_error(k->core, SR_ERROR_UNAVAILABLE);
        reply = NULL;
    }
    if (k->c) {
        if (k->conn_cb) k->conn_cb(k->c, reply, k->arg);
        sr_conn_unref(k->c);
    } else {
        if (k->http_cb) k->http_cb(k->r, reply, k->arg);
        sr_http_unref(k->r);
    }
    free(k);
}

static call *conn_call(sr_conn *c, enum sr_reply_type want, size_t count, sr_accounts_conn_cb *cb,
                       void *arg)
{
    call *k = sr_xcalloc(1, sizeof *k);
    *k = (call){.core = c->core, .c = c, .conn_cb = cb, .arg = arg, .want = want, .count = count};
    sr_conn_ref(c);
    return k;
}

static call *http_call(sr_http_req *r, enum sr_reply_type want, sr_accounts_http_cb *cb, void *arg)
{
    call *k = sr_xcalloc(1, sizeof *k);
    *k = (call){.core = r->core, .r = r, .http_cb = cb, .arg = arg, .want = want};
    sr_http_ref(r);
    return k;
}

/* The store refused at once (Redis down): answer through the callback all the same. */
static int sent(int rc, call *k)
{
    if (rc < 0) on_reply(NULL, k);
    return 0;
}

int sr_accounts_device_register(sr_conn *c, const sr_store_device_args *a, sr_accounts_conn_cb *cb,
                                void *arg)
{
    call *k = conn_call(c, SR_REPLY_ARR, 2, cb, arg);
    return sent(sr_store_device_register(c->core->store, a, on_reply, k), k);
}

void sr_accounts_device_seen(sr_conn *c, const char *user, const char *device)
{
    sr_store_device_seen(c->core->store, user, device);
}

int sr_accounts_attempt(sr_http_req *r, sr_accounts_http_cb *cb, void *arg)
{
    call *k = http_call(r, SR_REPLY_INT, cb, arg);
    return sent(sr_store_auth_attempt(r->core->store, r->ip, on_reply, k), k);
}

int sr_accounts_create(sr_http_req *r, const char *email, const char *user_id,
                       const char *password_record, sr_accounts_http_cb *cb, void *arg)
{
    call *k = http_call(r, SR_REPLY_INT, cb, arg);
    return sent(
        sr_store_account_create(r->core->store, email, user_id, password_record, on_reply, k), k);
}

int sr_accounts_get(sr_http_req *r, const char *email, sr_accounts_http_cb *cb, void *arg)
{
    call *k = http_call(r, SR_REPLY_ARR, cb, arg);
    return sent(sr_store_account_get(r->core->store, email, on_reply, k), k);
}

int sr_accounts_devices(sr_http_req *r, const char *kind, const char *user, sr_accounts_http_cb *cb,
                        void *arg)
{
    call *k = http_call(r, SR_REPLY_ARR, cb, arg);
    return sent(sr_store_devices(r->core->store, kind, user, on_reply, k), k);
}

int sr_accounts_session_fields(sr_http_req *r, const char *kind, const char *id,
                               sr_accounts_http_cb *cb, void *arg)
{
    call *k = http_call(r, SR_REPLY_ARR, cb, arg);
    return sent(sr_store_session_fields(r->core->store, kind, id, on_reply, k), k);
}
