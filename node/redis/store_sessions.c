/* store_sessions.c - the admin API's session reads (GET /api/sessions[/:id]).
 * Every session is read by its own sessions_read.lua call, in the session's
 * own hash slot; the listing first reads the sessions index (the node
 * registry's slot, SR_NODES_TAG) with ZREVRANGE. Not on any message path: a
 * page of n sessions costs two pipelined round trips. */
#include "sr_alloc.h"
#include "store_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One listing in flight: the sessions asked for, filled in as replies come. */
typedef struct gather {
    sr_store *s;
    sr_store_sessions_cb *cb;
    void *arg;
    size_t asked, answered, n;
    bool failed;
    sr_store_session *v; /* n of them, each a copy owning its strings */
} gather;

typedef struct ask {
    gather *g;
    char *kind, *id;
} ask;

/* A copy of field/value pairs: one block, the array followed by the bytes. */
static sr_field *copy_fields(const sr_field *f, size_t n)
{
    size_t bytes = n * sizeof *f;
    for (size_t i = 0; i < n; i++)
        bytes += f[i].name.len + f[i].value.len;
    sr_field *out = sr_xmalloc(bytes ? bytes : 1);
    char *at = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        memcpy(at, f[i].name.p, f[i].name.len);
        out[i].name = (sr_span){at, f[i].name.len};
        at += f[i].name.len;
        memcpy(at, f[i].value.p, f[i].value.len);
        out[i].value = (sr_span){at, f[i].value.len};
        at += f[i].value.len;
    }
    return out;
}

static void gather_done(gather *g)
{
    sr_store_sessions_result r = {.status = g->failed ? SR_STORE_UNAVAILABLE : SR_STORE_OK,
                                  .sessions = g->v,
                                  .n = g->failed ? 0 : g->n};
    g->cb(&r, g->arg);
    for (size_t i = 0; i < g->n; i++) {
        free((void *)g->v[i].fields);
        free((void *)g->v[i].kind.p);
        free((void *)g->v[i].id.p);
    }
    free(g->v);
    free(g);
}

/* a session's HGETALL, offline holders blanked (empty: gone) */
static void on_session(const sr_reply *reply, void *privdata)
{
    ask *a = privdata;
    gather *g = a->g;
    size_t nfields = 0;
    sr_field *f =
        reply && sr_reply_type(reply) == SR_REPLY_ARR ? sr_reply_fields(reply, 0, &nfields) : NULL;
    if (!reply || sr_reply_type(reply) != SR_REPLY_ARR) g->failed = true;
    if (nfields) {
        sr_store_session *e = &g->v[g->n++];
        e->kind = (sr_span){a->kind, strlen(a->kind)};
        e->id = (sr_span){a->id, strlen(a->id)};
        e->fields = copy_fields(f, nfields);
        e->nfields = nfields;
    } else {
        free(a->kind);
        free(a->id);
    }
    free(f);
    free(a);
    if (++g->answered == g->asked) gather_done(g);
}

/* Asks for one session; its reply lands in g (at once, failed, when Redis is down). */
static void ask_session(gather *g, const char *kind, size_t kind_len, const char *id, size_t id_len)
{
    const sr_config *cfg = sr_store_config(g->s);
    ask *a = sr_xmalloc(sizeof *a);
    a->g = g;
    a->kind = sr_xmalloc(kind_len + 1);
    memcpy(a->kind, kind, kind_len);
    a->kind[kind_len] = 0;
    a->id = sr_xmalloc(id_len + 1);
    memcpy(a->id, id, id_len);
    a->id[id_len] = 0;
    char key[600];
    snprintf(key, sizeof key, "%ssession:%s:{%s}", cfg->key_prefix, a->kind, a->id);
    const char *argv[] = {key, sr_store_live(g->s)};
    if (sr_store_eval(g->s, SR_SCRIPT_SESSIONS_READ, 1, 2, argv, NULL, on_session, a) < 0)
        on_session(NULL, a);
}

static gather *gather_new(sr_store *s, size_t asked, sr_store_sessions_cb *cb, void *arg)
{
    gather *g = sr_xcalloc(1, sizeof *g);
    *g = (gather){.s = s, .cb = cb, .arg = arg, .asked = asked};
    g->v = asked ? sr_xcalloc(asked, sizeof *g->v) : NULL;
    return g;
}

/* the index page: "kind:id" members, most recently active first */
static void on_index(const sr_reply *reply, void *privdata)
{
    gather *g = privdata;
    size_t n = reply && sr_reply_type(reply) == SR_REPLY_ARR ? sr_reply_count(reply) : 0;
    if (!reply || sr_reply_type(reply) != SR_REPLY_ARR) g->failed = true;
    g->asked = 0;
    g->v = n ? sr_xcalloc(n, sizeof *g->v) : NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *m = sr_reply_str(sr_reply_at(reply, i), &len);
        const char *colon = m ? memchr(m, ':', len) : NULL;
        if (colon) g->asked++;
    }
    if (!g->asked) {
        gather_done(g);
        return;
    }
    size_t asked = g->asked;
    for (size_t i = 0, sent = 0; i < n && sent < asked; i++) {
        size_t len;
        const char *m = sr_reply_str(sr_reply_at(reply, i), &len);
        const char *colon = m ? memchr(m, ':', len) : NULL;
        if (!colon) continue;
        sent++;
        ask_session(g, m, (size_t)(colon - m), colon + 1, len - (size_t)(colon - m) - 1);
    }
}

void sr_store_sessions(sr_store *s, const char *const *kinds, size_t n, const char *id,
                       unsigned limit, sr_store_sessions_cb *cb, void *arg)
{
    const char *p = sr_store_config(s)->key_prefix;
    if (id) {
        gather *g = gather_new(s, n, cb, arg);
        if (!n) {
            gather_done(g);
            return;
        }
        for (size_t i = 0; i < n; i++)
            ask_session(g, kinds[i], strlen(kinds[i]), id, strlen(id));
        return;
    }
    char index[200], stop[16];
    snprintf(index, sizeof index, "%s" SR_NODES_TAG "sessions", p);
    snprintf(stop, sizeof stop, "%d", (int)limit - 1); /* 0: all */
    const char *argv[] = {"ZREVRANGE", index, "0", stop};
    gather *g = gather_new(s, 0, cb, arg);
    if (sr_store_command(s, 4, argv, NULL, on_index, g) < 0) on_index(NULL, g);
}
