/* store_peersync.c - the peersync dialect's Redis records (store_peersync.h),
 * each update one script of node/redis/scripts/peersync_*.lua. */
#include "store_peersync.h"
#include "store_script.h"
#include "sr_clock.h"

#include <stdio.h>
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

int sr_store_peer_register(sr_store *s, const sr_store_peer *p, sr_store_cb *cb, void *privdata)
{
    ctx x;
    char peer[300], index[200];
    ctx_init(&x, s);
    key(peer, sizeof peer, &x, "peer:", p->user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    const char *argv[] = {peer,    index,  p->user,   p->holder, p->profile,
                          p->role, p->ide, p->status, x.now,     x.ttl};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_REGISTER, 2, ARGC(argv), argv, NULL, cb, privdata);
}

int sr_store_peer_discover(sr_store *s, const char *caller, const char *role, const char *ide,
                           sr_store_cb *cb, void *privdata)
{
    ctx x;
    char index[200], peer_prefix[200], node_prefix[200];
    ctx_init(&x, s);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(peer_prefix, sizeof peer_prefix, "%speersync:peer:", x.prefix);
    snprintf(node_prefix, sizeof node_prefix, "%snode:", x.prefix);
    const char *argv[] = {index, peer_prefix, node_prefix, caller,  role,
                          ide,   x.now,       x.ttl,       STALE_MS};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_DISCOVER, 1, ARGC(argv), argv, NULL, cb, privdata);
}

int sr_store_peer_refresh(sr_store *s, const char *user, const char *holder, sr_store_cb *cb,
                          void *privdata)
{
    ctx x;
    char peer[300], index[200], sessions[300], prefix[200];
    ctx_init(&x, s);
    key(peer, sizeof peer, &x, "peer:", user);
    key(sessions, sizeof sessions, &x, "user-sessions:", user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {peer, index, sessions, user, holder, x.now, x.ttl, prefix};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_REFRESH, 3, ARGC(argv), argv, NULL, cb, privdata);
}

int sr_store_peer_request(sr_store *s, const char *from, const char *to, const char *holder,
                          const char *request_id, sr_store_cb *cb, void *privdata)
{
    ctx x;
    char mine[300], theirs[300], pair[400], request[300], node_prefix[200], prefix[200];
    ctx_init(&x, s);
    key(mine, sizeof mine, &x, "peer:", from);
    key(theirs, sizeof theirs, &x, "peer:", to);
    key(request, sizeof request, &x, "request:", request_id);
    bool ordered = strcmp(from, to) < 0;
    snprintf(pair, sizeof pair, "%speersync:pair:{%s}:%s", x.prefix, ordered ? from : to,
             ordered ? to : from);
    snprintf(node_prefix, sizeof node_prefix, "%snode:", x.prefix);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {mine,       theirs, pair,  request,     from,   to,      holder,
                          request_id, x.now,  x.ttl, node_prefix, prefix, STALE_MS};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_REQUEST, 4, ARGC(argv), argv, NULL, cb, privdata);
}

int sr_store_peer_respond(sr_store *s, const char *request_id, const char *responder, bool accepted,
                          const char *session_id, sr_store_cb *cb, void *privdata)
{
    ctx x;
    char request[300], prefix[200];
    ctx_init(&x, s);
    key(request, sizeof request, &x, "request:", request_id);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {request, responder, accepted ? "1" : "0", session_id, x.now,
                          x.ttl,   prefix};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_RESPOND, 1, ARGC(argv), argv, NULL, cb, privdata);
}

int sr_store_peer_leave(sr_store *s, const char *user, const char *holder, bool end_sessions,
                        sr_store_cb *cb, void *privdata)
{
    ctx x;
    char peer[300], index[200], sessions[300], inbox[300], prefix[200];
    ctx_init(&x, s);
    key(peer, sizeof peer, &x, "peer:", user);
    key(sessions, sizeof sessions, &x, "user-sessions:", user);
    snprintf(index, sizeof index, "%speersync:peers", x.prefix);
    snprintf(inbox, sizeof inbox, "%ssession:peersync:{%s}", x.prefix, user);
    snprintf(prefix, sizeof prefix, "%speersync:", x.prefix);
    const char *argv[] = {peer,  index, sessions, inbox, user, holder, end_sessions ? "1" : "0",
                          prefix};
    return sr_store_eval(s, SR_SCRIPT_PEERSYNC_LEAVE, 4, ARGC(argv), argv, NULL, cb, privdata);
}
