/* store_peersync.c - the peersync dialect's Redis records behind
 * peersync_store.h: each call bound to its connection (sr_op), each update
 * one script of node/redis/scripts/peersync_*.lua, each reply decoded here. */
#include "peersync_store.h"
#include "core.h"
#include "sr_clock.h"
#include "store_op.h"
#include "store_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node whose last heartbeat is older than three beats counts as down. */
#define STALE_MS "6000"

typedef struct ctx {
    char now[24], ttl[16];
    const char *prefix;
} ctx;

static void ctx_init(ctx *x, sr_store *s)
{
    const sr_config *cfg = sr_store_config(s);
    snprintf(x->now, sizeof x->now, "%llu", (unsigned long long)sr_now_ms());
    snprintf(x->ttl, sizeof x->ttl, "%d", cfg->session_ttl);
    x->prefix = cfg->key_prefix;
}

/* <prefix>peersync:<what>{<id>}<rest> */
static void key(char *out, size_t cap, const ctx *x, const char *what, const char *id)
{
    snprintf(out, cap, "%speersync:%s{%s}", x->prefix, what, id);
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Redis did not answer, or not in the expected shape: counted once, here. */
static int checked(const sr_op *op, bool ok)
{
    if (ok) return SR_OK;
    sr_core_error(op->core, SR_ERROR_UNAVAILABLE);
    return SR_ERR_UNAVAILABLE;
}

/* Runs the script with op as its argument; when Redis is down its decoder runs at once. */
static void eval(sr_op *op, enum sr_script script, int nkeys, int argc, const char *const *argv,
                 sr_store_cb *decode)
{
    if (sr_store_eval(sr_core_store(op->core), script, nkeys, argc, argv, NULL, decode, op) < 0)
        decode(NULL, op);
}

/* ---------- presence ---------- */

/* 1 */
static void on_registered(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply != NULL);
    ((sr_peersync_done_cb *)op->cb)(op->c, status, op->arg);
    sr_op_done(op);
}

void sr_peersync_register(sr_conn *c, const sr_peersync_peer *p, sr_peersync_done_cb *cb, void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    ctx x;
    char peer[300], index[200];
    ctx_init(&x, sr_core_store(op->core));
    key(peer, sizeof peer, &x, "peer:", p->user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    const char *argv[] = {peer,    index,  p->user,   p->holder, p->profile,
                          p->role, p->ide, p->status, x.now,     x.ttl};
    eval(op, SR_SCRIPT_PEERSYNC_REGISTER, 2, ARGC(argv), argv, on_registered);
}

/* flat {user, profile, status, ...} */
static void on_discovered(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply != NULL);
    size_t count = sr_reply_count(reply), n = 0;
    sr_peersync_entry *e = count >= 3 ? sr_xcalloc(count / 3, sizeof *e) : NULL;
    for (size_t i = 0; i + 2 < count; i += 3) {
        if (!(e[n].user.p = sr_reply_str(sr_reply_at(reply, i), &e[n].user.len))) continue;
        e[n].profile.p = sr_reply_str(sr_reply_at(reply, i + 1), &e[n].profile.len);
        e[n].status.p = sr_reply_str(sr_reply_at(reply, i + 2), &e[n].status.len);
        n++;
    }
    ((sr_peersync_list_cb *)op->cb)(op->c, status, e, n, op->arg);
    free(e);
    sr_op_done(op);
}

void sr_peersync_discover(sr_conn *c, const char *user, const char *role, const char *ide,
                          sr_peersync_list_cb *cb, void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    ctx x;
    char index[200], peer_prefix[200], node_prefix[200];
    ctx_init(&x, sr_core_store(op->core));
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(peer_prefix, sizeof peer_prefix, "%speersync:peer:", x.prefix);
    snprintf(node_prefix, sizeof node_prefix, "%s" SR_NODES_TAG "node:", x.prefix);
    const char *argv[] = {index, peer_prefix, node_prefix, user, role, ide, x.now, x.ttl, STALE_MS};
    eval(op, SR_SCRIPT_PEERSYNC_DISCOVER, 1, ARGC(argv), argv, on_discovered);
}

/* the number of entries refreshed: nobody waits for it */
static void on_refreshed(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    checked(op, reply != NULL);
    sr_op_done(op);
}

void sr_peersync_refresh(sr_conn *c, const char *user)
{
    sr_op *op = sr_op_conn(c, NULL, NULL);
    ctx x;
    char peer[300], index[200], sessions[300], prefix[200];
    ctx_init(&x, sr_core_store(op->core));
    key(peer, sizeof peer, &x, "peer:", user);
    key(sessions, sizeof sessions, &x, "user-sessions:", user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {peer, index, sessions, user, sr_conn_owner(c), x.now, x.ttl, prefix};
    eval(op, SR_SCRIPT_PEERSYNC_REFRESH, 3, ARGC(argv), argv, on_refreshed);
}

/* ---------- requests ---------- */

/* request: {status, requester profile, target profile}, status
 * ok|unregistered|notfound|connected; respond: {status, requester, requester
 * profile}, status accepted|rejected|unknown */
static void on_answer(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    sr_peersync_answer a = {.status = SR_ERR_UNAVAILABLE};
    const char *st = sr_reply_str(sr_reply_at(reply, 0), NULL);
    if (checked(op, st != NULL) == SR_OK) {
        static const struct {
            const char *word;
            int status;
        } words[] = {{"ok", SR_OK},
                     {"unregistered", SR_PEERSYNC_UNREGISTERED},
                     {"connected", SR_PEERSYNC_CONNECTED},
                     {"accepted", SR_PEERSYNC_ACCEPTED},
                     {"rejected", SR_PEERSYNC_REJECTED},
                     {"unknown", SR_PEERSYNC_UNKNOWN}};
        a.status = SR_PEERSYNC_NOT_FOUND;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (!strcmp(st, words[i].word)) a.status = words[i].status;
        bool respond = a.status <= SR_PEERSYNC_ACCEPTED;
        if (respond) a.requester.p = sr_reply_str(sr_reply_at(reply, 1), &a.requester.len);
        a.profile.p = sr_reply_str(sr_reply_at(reply, respond ? 2 : 1), &a.profile.len);
    }
    ((sr_peersync_answer_cb *)op->cb)(op->c, &a, op->arg);
    sr_op_done(op);
}

void sr_peersync_request(sr_conn *c, const char *from, const char *to, const char *request_id,
                         sr_peersync_answer_cb *cb, void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    ctx x;
    char mine[300], theirs[300], pair[400], request[300], node_prefix[200], prefix[200];
    ctx_init(&x, sr_core_store(op->core));
    key(mine, sizeof mine, &x, "peer:", from);
    key(theirs, sizeof theirs, &x, "peer:", to);
    key(request, sizeof request, &x, "request:", request_id);
    bool ordered = strcmp(from, to) < 0;
    snprintf(pair, sizeof pair, "%speersync:pair:{%s}:%s", x.prefix, ordered ? from : to,
             ordered ? to : from);
    snprintf(node_prefix, sizeof node_prefix, "%s" SR_NODES_TAG "node:", x.prefix);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {mine,       theirs, pair,  request,     from,   to,      sr_conn_owner(c),
                          request_id, x.now,  x.ttl, node_prefix, prefix, STALE_MS};
    eval(op, SR_SCRIPT_PEERSYNC_REQUEST, 4, ARGC(argv), argv, on_answer);
}

void sr_peersync_respond(sr_conn *c, const char *request_id, const char *responder, bool accepted,
                         const char *session_id, sr_peersync_answer_cb *cb, void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    ctx x;
    char request[300], prefix[200];
    ctx_init(&x, sr_core_store(op->core));
    key(request, sizeof request, &x, "request:", request_id);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {request, responder, accepted ? "1" : "0", session_id, x.now,
                          x.ttl,   prefix};
    eval(op, SR_SCRIPT_PEERSYNC_RESPOND, 1, ARGC(argv), argv, on_answer);
}

/* ---------- leaving ---------- */

/* flat {session id, partner, ...} of the sessions ended */
static void on_left(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply != NULL);
    size_t count = sr_reply_count(reply), n = 0;
    sr_peersync_ended *e = count >= 2 ? sr_xcalloc(count / 2, sizeof *e) : NULL;
    for (size_t i = 0; i + 1 < count; i += 2) {
        e[n].session.p = sr_reply_str(sr_reply_at(reply, i), &e[n].session.len);
        e[n].partner.p = sr_reply_str(sr_reply_at(reply, i + 1), &e[n].partner.len);
        if (e[n].session.p && e[n].partner.p) n++;
    }
    if (op->cb) ((sr_peersync_ended_cb *)op->cb)(op->c, status, e, n, op->arg);
    free(e);
    sr_op_done(op);
}

void sr_peersync_leave(sr_conn *c, const char *user, bool end_sessions, sr_peersync_ended_cb *cb,
                       void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    ctx x;
    char peer[300], index[200], sessions[300], inbox[300], prefix[200];
    ctx_init(&x, sr_core_store(op->core));
    key(peer, sizeof peer, &x, "peer:", user);
    key(sessions, sizeof sessions, &x, "user-sessions:", user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(inbox, sizeof inbox, "%ssession:peersync:{%s}", x.prefix, user);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {
        peer, index, sessions, inbox, user, sr_conn_owner(c), end_sessions ? "1" : "0", prefix};
    eval(op, SR_SCRIPT_PEERSYNC_LEAVE, 4, ARGC(argv), argv, on_left);
}
