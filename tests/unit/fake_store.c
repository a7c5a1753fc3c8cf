/* fake_store.c - the in-memory store and bus of fake_store.h (test-only).
 *
 * A session is a hash of string fields (seq, joins, members, m:<member>,
 * d:<member>, s:<state>, v:<state>) and a log of envelopes, as the Lua
 * scripts keep them. Every answer and pub/sub message goes through one queue,
 * so a test sees them in the order Redis would send them. */
#include "fake_store.h"
#include "devicesync_store.h"
#include "peersync_store.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_envelope.h"
#include "store_cluster.h"
#include "store_eio.h"
#include "store_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
#define MAX_LOG 256

typedef struct fsession {
    char name[256]; /* "<kind>:{<id>}" */
    char *names[MAX_FIELDS], *values[MAX_FIELDS];
    size_t nfields;
    sr_buf log[MAX_LOG];
    size_t nlog;
} fsession;

typedef struct fevent fevent;
struct fevent {
    fevent *next;
    void (*run)(fevent *e);
    void (*cb)(void);
    void *arg;
    /* what the answer carries */
    int status;
    uint64_t seq, version, count;
    sr_buf data, data2; /* envelope or value; the channel of a bus message */
    fsession *session;  /* join: the hash as it was after the script */
    size_t first;       /* history: envelopes after this seq */
    sr_field *fields;
    size_t nfields;
};

struct sr_store {
    fsession *sessions[64];
    size_t nsessions;
    bool down;
    int history_calls;
};

struct sr_bus {
    sr_bus_hooks hooks;
    int drop;
};

static fevent *queue_head, *queue_tail;
static fevent *held_head, *held_tail; /* history answers held back */
static bool hold_history;
static sr_bus *the_bus;

/* ---------- sessions ---------- */

static fsession *find(sr_store *s, const char *kind, const char *id, bool create)
{
    char name[256];
    snprintf(name, sizeof name, "%s:{%s}", kind, id);
    for (size_t i = 0; i < s->nsessions; i++)
        if (!strcmp(s->sessions[i]->name, name)) return s->sessions[i];
    if (!create || s->nsessions == 64) return NULL;
    fsession *f = sr_xcalloc(1, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return s->sessions[s->nsessions++] = f;
}

static const char *hget(const fsession *f, const char *name)
{
    for (size_t i = 0; i < f->nfields; i++)
        if (!strcmp(f->names[i], name)) return f->values[i];
    return NULL;
}

static void hset(fsession *f, const char *name, const char *value)
{
    for (size_t i = 0; i < f->nfields; i++)
        if (!strcmp(f->names[i], name)) {
            free(f->values[i]);
            f->values[i] = sr_xstrdup(value);
            return;
        }
    if (f->nfields == MAX_FIELDS) abort();
    f->names[f->nfields] = sr_xstrdup(name);
    f->values[f->nfields++] = sr_xstrdup(value);
}

static uint64_t hincr(fsession *f, const char *name)
{
    const char *v = hget(f, name);
    uint64_t n = (v ? strtoull(v, NULL, 10) : 0) + 1;
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)n);
    hset(f, name, buf);
    return n;
}

/* ---------- the queue ---------- */

static fevent *event_new(void (*run)(fevent *e), void (*cb)(void), void *arg)
{
    fevent *e = sr_xcalloc(1, sizeof *e);
    e->run = run;
    e->cb = cb;
    e->arg = arg;
    sr_buf_init(&e->data);
    sr_buf_init(&e->data2);
    return e;
}

static void queue(fevent *e)
{
    if (queue_tail)
        queue_tail->next = e;
    else
        queue_head = e;
    queue_tail = e;
}

static void append(fevent **head, fevent **tail, fevent *e)
{
    e->next = NULL;
    if (*tail)
        (*tail)->next = e;
    else
        *head = e;
    *tail = e;
}

void fake_hold_history(sr_store *s, bool hold)
{
    hold_history = hold;
    if (hold) return;
    while (held_head) {
        fevent *e = held_head;
        held_head = e->next;
        append(&queue_head, &queue_tail, e);
    }
    held_tail = NULL;
}

void fake_expire(sr_store *s, const char *kind, const char *id)
{
    fsession *f = find(s, kind, id, false);
    for (size_t k = 0; f && k < f->nfields; k++) {
        free(f->names[k]);
        free(f->values[k]);
    }
    if (f) f->nfields = 0;
}

int fake_run(sr_store *s)
{
    int n = 0;
    while (queue_head) {
        fevent *e = queue_head;
        queue_head = e->next;
        if (!queue_head) queue_tail = NULL;
        e->run(e);
        sr_buf_free(&e->data);
        sr_buf_free(&e->data2);
        free(e->fields);
        free(e);
        n++;
    }
    return n;
}

static void run_bus_message(fevent *e)
{
    the_bus->hooks.message(the_bus->hooks.privdata, e->data2.data, e->data2.len, e->data.data,
                           e->data.len);
}

static void publish(fsession *f, const char *envelope, size_t len)
{
    if (!the_bus) return;
    if (the_bus->drop > 0) {
        the_bus->drop--;
        return;
    }
    fevent *e = event_new(run_bus_message, NULL, NULL);
    sr_buf_append(&e->data, envelope, len);
    sr_buf_append_str(&e->data2, f->name);
    queue(e);
}

/* ---------- store.h ---------- */

sr_store *fake_store_new(void)
{
    return sr_xcalloc(1, sizeof(sr_store));
}

void fake_store_free(sr_store *s)
{
    fake_run(s);
    for (size_t i = 0; i < s->nsessions; i++) {
        fsession *f = s->sessions[i];
        for (size_t k = 0; k < f->nfields; k++) {
            free(f->names[k]);
            free(f->values[k]);
        }
        for (size_t k = 0; k < f->nlog; k++)
            sr_buf_free(&f->log[k]);
        free(f);
    }
    free(s);
}

void fake_store_set_up(sr_store *s, bool up)
{
    s->down = !up;
}

int fake_history_calls(const sr_store *s)
{
    return s->history_calls;
}

const char *fake_field(sr_store *s, const char *kind, const char *id, const char *name)
{
    fsession *f = find(s, kind, id, false);
    return f ? hget(f, name) : NULL;
}

bool sr_store_up(const sr_store *s)
{
    return !s->down;
}

void sr_store_stats_get(const sr_store *s, sr_store_stats *out)
{
    memset(out, 0, sizeof *out);
    out->up = !s->down;
}

struct sr_store_keys {
    int unused;
};

sr_store_keys *sr_store_keys_new(const sr_store *s, const char *kind, const char *id)
{
    return sr_xcalloc(1, sizeof(sr_store_keys));
}

void sr_store_keys_free(sr_store_keys *k)
{
    free(k);
}

static void run_join(fevent *e)
{
    sr_store_join_result r = {.status = e->status, .fields = e->fields, .nfields = e->nfields};
    ((sr_store_join_cb *)e->cb)(&r, e->arg);
}

/* session_join.lua: create or find, the member limit, the holder, the
 * supersede notice, the joined fevent; every holder counts as online. */
void sr_store_join(sr_store *s, const sr_store_join_args *a, sr_store_join_cb *cb, void *arg)
{
    fevent *e = event_new(run_join, (void (*)(void))cb, arg);
    fsession *f = s->down ? NULL : find(s, a->kind, a->id, a->create);
    e->status = SR_STORE_UNAVAILABLE;
    if (s->down) {
        e->run(e); /* at once, as the real store does when Redis is away */
        free(e);
        return;
    }
    if (!f)
        e->status = SR_STORE_UNKNOWN;
    else if (a->create && hget(f, "kind"))
        e->status = SR_STORE_EXISTS;
    else
        e->status = SR_STORE_OK;
    if (e->status == SR_STORE_OK) {
        char field[160];
        snprintf(field, sizeof field, "m:%s", a->member);
        const char *prev = hget(f, field);
        char *previous = prev ? sr_xstrdup(prev) : NULL;
        size_t online = 0;
        for (size_t i = 0; i < f->nfields; i++)
            if (!strncmp(f->names[i], "m:", 2) && f->values[i][0]) online++;
        if (!hget(f, "kind")) {
            hset(f, "kind", a->kind);
            hset(f, "seq", "0");
            hset(f, "members", "0");
        }
        if (a->max_members && !(previous && *previous) && online >= a->max_members) {
            e->status = SR_STORE_FULL;
        } else {
            if (!previous) hincr(f, "members");
            uint64_t number = hincr(f, "joins");
            hset(f, field, a->owner);
            snprintf(field, sizeof field, "d:%s", a->member);
            if (!hget(f, field)) hset(f, field, hget(f, "seq"));
            if (previous && *previous && strcmp(previous, a->owner) != 0) {
                sr_buf x;
                sr_buf_init(&x);
                sr_envelope_write(&x, SR_ENVELOPE_SUPERSEDE, number, a->owner, a->member, "", 0);
                publish(f, x.data, x.len);
                sr_buf_free(&x);
            }
            if (a->event) publish(f, a->event, a->event_len);
            e->fields = sr_xcalloc(f->nfields, sizeof *e->fields);
            for (size_t i = 0; i < f->nfields; i++) {
                /* the answer's copy must outlive later changes: keep it in data */
                e->fields[i].name.len = strlen(f->names[i]);
                e->fields[i].value.len = strlen(f->values[i]);
            }
            e->nfields = f->nfields;
            for (size_t i = 0; i < f->nfields; i++) {
                sr_buf_append(&e->data, f->names[i], e->fields[i].name.len + 1);
                sr_buf_append(&e->data, f->values[i], e->fields[i].value.len + 1);
            }
            const char *p = e->data.data;
            for (size_t i = 0; i < f->nfields; i++) {
                e->fields[i].name.p = p;
                p += e->fields[i].name.len + 1;
                e->fields[i].value.p = p;
                p += e->fields[i].value.len + 1;
            }
        }
        free(previous);
    }
    queue(e);
}

void sr_store_session_active(sr_store *s, const char *kind, const char *id) {}

static void run_publish(fevent *e)
{
    sr_store_publish_result r = {.status = e->status, .seq = e->seq, .version = e->version};
    if (e->status == SR_STORE_CONFLICT) {
        r.current.p = e->data.data ? e->data.data : "";
        r.current.len = e->data.len;
        r.current_version = e->count;
    }
    ((sr_store_publish_cb *)e->cb)(&r, e->arg);
}

static int check_state(fsession *f, const sr_store_publish_args *a, fevent *e)
{
    char field[160], vfield[160];
    snprintf(field, sizeof field, "s:%s", a->state);
    snprintf(vfield, sizeof vfield, "v:%s", a->state);
    const char *current = hget(f, field) ? hget(f, field) : "";
    uint64_t version = hget(f, vfield) ? strtoull(hget(f, vfield), NULL, 10) : 0;
    size_t clen = strlen(current);
    bool equal =
        a->state_operand_len == clen && (!clen || !memcmp(a->state_operand, current, clen));
    if ((a->state_check == '=' && !equal) || (a->state_check == '!' && equal) ||
        (a->state_check == 'v' && version != a->state_version)) {
        sr_buf_append(&e->data, current, clen);
        e->count = version;
        return SR_STORE_CONFLICT;
    }
    e->version = hincr(f, vfield);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append(&b, a->state_value, a->state_value_len);
    sr_buf_append(&b, "", 1);
    hset(f, field, b.data);
    sr_buf_free(&b);
    return SR_STORE_OK;
}

/* session_publish.lua: the holder, the pairing, the target online, the state
 * check, the seq, the log and the channel. */
void sr_store_publish(sr_store *s, const sr_store_publish_args *a, sr_store_publish_cb *cb,
                      void *arg)
{
    fevent *e = event_new(run_publish, (void (*)(void))cb, arg);
    if (s->down) {
        e->status = SR_STORE_UNAVAILABLE;
        e->run(e);
        free(e);
        return;
    }
    fsession *f = find(s, a->kind, a->id, false);
    char field[160];
    snprintf(field, sizeof field, "m:%s", a->from);
    const char *holder = f ? hget(f, field) : NULL;
    if (!f || !hget(f, "kind")) {
        e->status = SR_STORE_GONE;
    } else if (!holder || strcmp(holder, a->owner) != 0) {
        e->status = SR_STORE_SUPERSEDED;
    } else if (a->min_members > 1 && strtoull(hget(f, "members"), NULL, 10) < a->min_members) {
        e->status = SR_STORE_UNPAIRED;
    } else {
        snprintf(field, sizeof field, "m:%s", a->to);
        const char *target = hget(f, field);
        if (a->to_online && !(target && *target))
            e->status = SR_STORE_OFFLINE;
        else if (a->state)
            e->status = check_state(f, a, e);
        else
            e->status = SR_STORE_OK;
    }
    if (e->status == SR_STORE_OK) {
        e->seq = hincr(f, "seq");
        sr_buf env, num;
        sr_buf_init(&env);
        sr_buf_init(&num);
        sr_buf_printf(&env, "m\n%llu\n%s\n%s\n", (unsigned long long)e->seq, a->from, a->to);
        for (int i = 0; i < a->nparts; i++) {
            sr_buf_append(&env, a->parts[i], a->lens[i]);
            if (i + 1 == a->seq_after) sr_buf_printf(&env, "%llu", (unsigned long long)e->seq);
            if (i + 1 == a->version_after)
                sr_buf_printf(&env, "%llu", (unsigned long long)e->version);
        }
        if (f->nlog == MAX_LOG) abort();
        sr_buf_init(&f->log[f->nlog]);
        sr_buf_append(&f->log[f->nlog++], env.data, env.len);
        queue(e); /* the reply, then the channel's message (separate connections) */
        publish(f, env.data, env.len);
        sr_buf_free(&env);
        sr_buf_free(&num);
        return;
    }
    queue(e);
}

/* session_leave.lua: gives the member back if owner still holds it. */
void sr_store_leave(sr_store *s, const char *kind, const char *id, const char *member,
                    const char *owner, uint64_t last_seq, const char *envelope, size_t event_len)
{
    fsession *f = s->down ? NULL : find(s, kind, id, false);
    char field[160], seq[24];
    snprintf(field, sizeof field, "m:%s", member);
    if (!f || !hget(f, field) || strcmp(hget(f, field), owner) != 0) return;
    hset(f, field, "");
    snprintf(field, sizeof field, "d:%s", member);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)last_seq);
    hset(f, field, seq);
    if (envelope) publish(f, envelope, event_len);
}

static void run_history(fevent *e)
{
    sr_store_history_result r = {
        .status = e->status, .envelopes = (sr_span *)e->fields, .n = e->nfields};
    ((sr_store_history_cb *)e->cb)(&r, e->arg);
}

/* session_history.lua, without the page limit: every envelope after since. */
void sr_store_history(sr_store *s, const char *kind, const char *id, uint64_t since,
                      sr_store_history_cb *cb, void *arg)
{
    fevent *e = event_new(run_history, (void (*)(void))cb, arg);
    s->history_calls++;
    if (s->down) {
        e->status = SR_STORE_UNAVAILABLE;
        e->run(e);
        free(e);
        return;
    }
    e->status = SR_STORE_OK;
    fsession *f = find(s, kind, id, false);
    size_t n = f ? f->nlog : 0;
    sr_span *v = sr_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) { /* copies: the log may change before the answer */
        sr_envelope env;
        if (sr_envelope_parse(&env, f->log[i].data, f->log[i].len) < 0 || env.seq <= since)
            continue;
        sr_buf_append(&e->data, f->log[i].data, f->log[i].len);
        v[e->nfields++].len = f->log[i].len;
    }
    size_t at = 0;
    for (size_t i = 0; i < e->nfields; i++) {
        v[i].p = e->data.data + at;
        at += v[i].len;
    }
    e->fields = (sr_field *)v;
    if (hold_history)
        append(&held_head, &held_tail, e);
    else
        queue(e);
}

void sr_store_touch(sr_store *s, const char *kind, const char *id, const sr_store_member_seq *m,
                    size_t n, sr_store_touch_cb *cb, void *arg)
{
    sr_store_touch_result r = {.status = SR_STORE_OK};
    cb(&r, arg);
}

static void run_state(fevent *e)
{
    sr_store_state_result r = {.status = e->status, .version = e->version};
    if (e->seq) {
        r.value.p = e->data.data ? e->data.data : "";
        r.value.len = e->data.len;
    }
    ((sr_store_state_cb *)e->cb)(&r, e->arg);
}

void sr_store_state(sr_store *s, const char *kind, const char *id, const char *name,
                    sr_store_state_cb *cb, void *arg)
{
    fevent *e = event_new(run_state, (void (*)(void))cb, arg);
    e->status = s->down ? SR_STORE_UNAVAILABLE : SR_STORE_OK;
    fsession *f = s->down ? NULL : find(s, kind, id, false);
    char field[160];
    snprintf(field, sizeof field, "s:%s", name);
    const char *v = f ? hget(f, field) : NULL;
    if (v) {
        e->seq = 1; /* set */
        sr_buf_append_str(&e->data, v);
        snprintf(field, sizeof field, "v:%s", name);
        e->version = strtoull(hget(f, field), NULL, 10);
    }
    queue(e);
}

void sr_store_node_session(sr_store *s, const char *boot_id, const char *kind, const char *id,
                           bool add)
{
}

void sr_store_node_sessions_sync(sr_store *s, const char *boot_id, const char *const *sessions,
                                 size_t n)
{
}

void sr_store_sessions(sr_store *s, const char *const *kinds, size_t n, const char *id,
                       unsigned limit, sr_store_sessions_cb *cb, void *arg)
{
    sr_store_sessions_result r = {.status = SR_STORE_UNAVAILABLE};
    cb(&r, arg);
}

void sr_store_session_delete(sr_store *s, const char *kind, const char *id, const char *envelope,
                             size_t envelope_len, sr_store_done_cb *cb, void *arg)
{
    cb(SR_STORE_UNAVAILABLE, false, arg);
}

void sr_store_join_failures(sr_store *s, const char *ip, sr_store_count_cb *cb, void *arg)
{
    cb(s->down ? SR_STORE_UNAVAILABLE : SR_STORE_OK, 0, arg);
}

void sr_store_join_failed(sr_store *s, const char *ip) {}

void sr_store_heartbeat(sr_store *s, const sr_store_heartbeat_args *a, sr_store_heartbeat_cb *cb,
                        void *arg)
{
    sr_store_heartbeat_result r = {.status = SR_STORE_UNAVAILABLE};
    cb(&r, arg);
}

void sr_store_post(sr_store *s, const sr_store_post_args *a, sr_store_post_cb *cb, void *arg)
{
    cb(SR_STORE_POST_UNAVAILABLE, 0, arg);
}

void sr_store_node_stats(sr_store *s, const char *boot_id, const char *json, size_t len) {}

void sr_store_cluster_nodes(sr_store *s, sr_store_nodes_cb *cb, void *arg)
{
    sr_store_nodes_result r = {.status = SR_STORE_UNAVAILABLE};
    cb(&r, arg);
}

void sr_store_eio_publish(sr_store *s, const char *boot, const char *msg, size_t len,
                          sr_store_eio_cb *cb, void *arg)
{
    cb(false, arg);
}

/* ---------- bus.h ---------- */

sr_bus *sr_bus_new(struct event_base *base, const sr_config *cfg, const sr_bus_hooks *hooks)
{
    sr_bus *b = sr_xcalloc(1, sizeof *b);
    b->hooks = *hooks;
    return the_bus = b;
}

void sr_bus_free(sr_bus *b)
{
    if (the_bus == b) the_bus = NULL;
    free(b);
}

bool sr_bus_up(const sr_bus *b)
{
    return true;
}

static void run_subscribed(fevent *e)
{
    the_bus->hooks.subscribed(the_bus->hooks.privdata, e->data2.data);
}

void sr_bus_subscribe(sr_bus *b, const char *session)
{
    fevent *e = event_new(run_subscribed, NULL, NULL);
    sr_buf_append(&e->data2, session, strlen(session) + 1);
    queue(e);
}

void sr_bus_unsubscribe(sr_bus *b, const char *session) {}

void fake_bus_drop(sr_bus *b, int n)
{
    b->drop = n;
}

sr_bus *fake_bus(sr_store *s)
{
    return the_bus;
}

/* ---------- the dialects' own records: not faked ---------- */

void sr_accounts_device_register(sr_conn *c, const sr_accounts_device_args *a,
                                 sr_accounts_device_cb *cb, void *arg)
{
    cb(c, SR_ERR_UNAVAILABLE, (sr_span){NULL, 0}, arg);
}

void sr_accounts_device_seen(sr_conn *c, const char *user, const char *device) {}

void sr_accounts_attempt(sr_http_req *r, sr_accounts_count_cb *cb, void *arg)
{
    cb(r, SR_ERR_UNAVAILABLE, 0, arg);
}

void sr_accounts_create(sr_http_req *r, const char *email, const char *user_id,
                        const char *password_record, sr_accounts_created_cb *cb, void *arg)
{
    cb(r, SR_ERR_UNAVAILABLE, false, arg);
}

void sr_accounts_get(sr_http_req *r, const char *email, sr_accounts_get_cb *cb, void *arg)
{
    sr_account a = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    cb(r, SR_ERR_UNAVAILABLE, &a, arg);
}

void sr_accounts_devices(sr_http_req *r, const char *kind, const char *user,
                         sr_accounts_devices_cb *cb, void *arg)
{
    cb(r, SR_ERR_UNAVAILABLE, NULL, 0, arg);
}

void sr_accounts_session_fields(sr_http_req *r, const char *kind, const char *id,
                                sr_accounts_fields_cb *cb, void *arg)
{
    cb(r, SR_ERR_UNAVAILABLE, NULL, 0, arg);
}

void sr_peersync_register(sr_conn *c, const sr_peersync_peer *p, sr_peersync_done_cb *cb, void *arg)
{
    cb(c, SR_ERR_UNAVAILABLE, arg);
}

void sr_peersync_discover(sr_conn *c, const char *user, const char *role, const char *ide,
                          sr_peersync_list_cb *cb, void *arg)
{
    cb(c, SR_ERR_UNAVAILABLE, NULL, 0, arg);
}

void sr_peersync_refresh(sr_conn *c, const char *user) {}

void sr_peersync_request(sr_conn *c, const char *from, const char *to, const char *request_id,
                         sr_peersync_answer_cb *cb, void *arg)
{
    sr_peersync_answer a = {.status = SR_ERR_UNAVAILABLE};
    cb(c, &a, arg);
}

void sr_peersync_respond(sr_conn *c, const char *request_id, const char *responder, bool accepted,
                         const char *session_id, sr_peersync_answer_cb *cb, void *arg)
{
    sr_peersync_answer a = {.status = SR_ERR_UNAVAILABLE};
    cb(c, &a, arg);
}

void sr_peersync_leave(sr_conn *c, const char *user, bool end_sessions, sr_peersync_ended_cb *cb,
                       void *arg)
{
    if (cb) cb(c, SR_ERR_UNAVAILABLE, NULL, 0, arg);
}
