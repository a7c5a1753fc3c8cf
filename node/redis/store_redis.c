/* store_redis.c - store.h over one hiredis command connection. Multi-step
 * updates are the Lua scripts of node/redis/scripts (the registry sr_scripts.h,
 * embedded at build time), loaded on every (re)connect and called with EVALSHA. */
#include "redis_conn.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_clock.h"
#include "sr_log.h"
#include "store.h"
#include "store_script.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct sr_store {
    sr_redis redis;
    const sr_config *cfg;
    char sha[SR_SCRIPT_COUNT][41]; /* of every script of the registry, computed once */
    unsigned generation;           /* counts (re)connections */
    char ttl[24], history[24];     /* settings as command arguments, formatted once */
    char lasting_ttl[24];          /* DEVICE_STATE_TTL, for SR_STORE_LASTING_KIND */
    char node_prefix[200];         /* "<prefix>{nodes}:node:" */
    char *live;                    /* "|<node>/<boot>|...|": live node processes (heartbeat) */
};

#define FN(f) ((void (*)(void))(f))

/* Sends a command whose reply decode(reply, cb, arg) turns into a call of
 * cb; when Redis is down decode runs at once with a NULL reply. */
static void send_call(sr_store *s, int argc, const char **argv, const size_t *lens,
                      sr_redis_call_fn *decode, void (*cb)(void), void *arg)
{
    if (sr_redis_call(&s->redis, decode, cb, arg, argc, argv, lens) < 0) decode(NULL, cb, arg);
}

/* ---------- plumbing ---------- */

/* Every script, on each (re)connect: sent ahead of any EVALSHA on the same
 * connection, so each is there in time. */
static void load_scripts(sr_store *s)
{
    for (int i = 0; i < SR_SCRIPT_COUNT; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", sr_scripts[i].text};
        sr_redis_command(&s->redis, NULL, NULL, 3, argv, NULL);
    }
}

/* Accounts, password hashes and device records have no TTL: under an
 * allkeys-* policy a full Redis would drop them to make room. Managed Redis
 * services often refuse CONFIG: then the operator is told to check. */
static void on_eviction_policy(const sr_reply *reply, void *privdata)
{
    const sr_store *s = privdata;
    size_t len = 0;
    const char *policy = sr_reply_str(sr_reply_at(reply, 1), &len);
    /* volatile-* evicts keys with a TTL only: device-sync state has one when
     * DEVICE_STATE_TTL bounds it */
    bool bounded_state =
        s->cfg->device_state_ttl > 0 && len > 9 && policy && !memcmp(policy, "volatile-", 9);
    if (!policy)
        sr_log_warn("redis: could not read maxmemory-policy (CONFIG GET refused?): it must be "
                    "noeviction, or keys without a TTL (accounts, device-sync state) can be "
                    "evicted");
    else if ((len > 8 && !memcmp(policy, "allkeys-", 8)) || bounded_state)
        sr_log_warn("redis: maxmemory-policy is %.*s: a full Redis evicts keys that must last "
                    "(accounts, password hashes, device records, device-sync state); set it to "
                    "noeviction",
                    (int)len, policy);
}

static void on_state(sr_redis *r, bool up, void *privdata)
{
    if (!up) return;
    sr_store *s = privdata;
    if (s->generation++ == 0) { /* once: on_state(up) also follows a NOSCRIPT */
        const char *argv[3] = {"CONFIG", "GET", "maxmemory-policy"};
        sr_redis_command(&s->redis, on_eviction_policy, s, 3, argv, NULL);
    }
    load_scripts(privdata);
}

sr_store *sr_store_new(struct event_base *base, const sr_config *cfg)
{
    sr_store *s = sr_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    for (int i = 0; i < SR_SCRIPT_COUNT; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)sr_scripts[i].text, strlen(sr_scripts[i].text), md);
        for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
            snprintf(&s->sha[i][k * 2], 3, "%02x", md[k]);
    }
    snprintf(s->ttl, sizeof s->ttl, "%d", cfg->session_ttl);
    snprintf(s->lasting_ttl, sizeof s->lasting_ttl, "%d", cfg->device_state_ttl);
    snprintf(s->history, sizeof s->history, "%d", cfg->history_size);
    snprintf(s->node_prefix, sizeof s->node_prefix, "%s" SR_NODES_TAG "node:", cfg->key_prefix);
    s->live = sr_xstrdup("|");
    sr_redis_init(&s->redis, base, &cfg->redis, "store", on_state, s);
    return s;
}

void sr_store_free(sr_store *s)
{
    sr_redis_close(&s->redis);
    free(s->live);
    free(s);
}

bool sr_store_up(const sr_store *s)
{
    return s->redis.up;
}

unsigned sr_store_pending(const sr_store *s)
{
    return s->redis.pending;
}

void sr_store_stats_get(const sr_store *s, sr_store_stats *out)
{
    out->commands = s->redis.commands;
    out->failures = s->redis.failures;
    out->rtt_us_sum = s->redis.rtt_us_sum;
    out->up = s->redis.up;
}

/* ---------- keys ---------- */

typedef struct keys {
    char session[320], log[330], channel[320], member[256];
} keys;

static void session_keys(const sr_store *s, keys *k, const char *kind, const char *id)
{
    const char *p = s->cfg->key_prefix;
    snprintf(k->session, sizeof k->session, "%ssession:%s:{%s}", p, kind, id);
    snprintf(k->log, sizeof k->log, "%s:log", k->session);
    snprintf(k->channel, sizeof k->channel, "%schan:%s:{%s}", p, kind, id);
    snprintf(k->member, sizeof k->member, "%s:%s", kind, id);
}

/* The names packed into one allocation of their own size: a node holds one
 * per local session, tens of thousands of them. */
struct sr_store_keys {
    const char *session, *log, *channel, *member;
    char text[];
};

sr_store_keys *sr_store_keys_new(const sr_store *s, const char *kind, const char *id)
{
    keys k;
    session_keys(s, &k, kind, id);
    size_t ls = strlen(k.session) + 1, ll = strlen(k.log) + 1, lc = strlen(k.channel) + 1,
           lm = strlen(k.member) + 1;
    sr_store_keys *sk = sr_xmalloc(sizeof *sk + ls + ll + lc + lm);
    char *p = sk->text;
    sk->session = memcpy(p, k.session, ls);
    sk->log = memcpy(p += ls, k.log, ll);
    sk->channel = memcpy(p += ll, k.channel, lc);
    sk->member = memcpy(p += lc, k.member, lm);
    return sk;
}

void sr_store_keys_free(sr_store_keys *k)
{
    free(k);
}

static void index_active(sr_store *s, const char *member, const char *now)
{
    char zset[200];
    snprintf(zset, sizeof zset, "%s" SR_NODES_TAG "sessions", s->cfg->key_prefix);
    const char *argv[4] = {"ZADD", zset, now, member};
    sr_redis_command(&s->redis, NULL, NULL, 4, argv, NULL);
}

/* v in decimal, NUL-terminated (out holds 24 bytes). On the per-message path
 * snprintf cost ten times as much. */
static const char *decimal(char *out, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *p = out;
    if (v < 0) *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    *p = '\0';
    return out;
}

/* The time a message is handed to Redis, in microseconds: its envelope carries
 * it, so the node writing it to a socket measures the relay latency. */
static void now_us_str(char *out)
{
    decimal(out, (long long)sr_now_us());
}

static void now_str(char *out, size_t cap)
{
    (void)cap;
    decimal(out, (long long)sr_now_ms());
}

/* ---------- operations ---------- */

/* A session's TTL argument: SESSION_TTL, but a device-sync user's state
 * lasts like the account (DEVICE_STATE_TTL, 0: no expiry). */
static const char *ttl_of(const sr_store *s, const char *kind)
{
    return kind && !strcmp(kind, SR_STORE_LASTING_KIND) ? s->lasting_ttl : s->ttl;
}

/* {status, previous owner, hash fields...}; status ok|exists|unknown|full */
static void on_join(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_join_result r = {.status = SR_STORE_UNAVAILABLE};
    size_t len;
    const char *st = sr_reply_count(reply) >= 2 ? sr_reply_str(sr_reply_at(reply, 0), &len) : NULL;
    sr_field *f = NULL;
    if (!st) {
        if (reply) sr_log_error("join: unexpected reply from Redis");
    } else if (!strcmp(st, "ok")) {
        r.status = SR_STORE_OK;
        r.fields = f = sr_reply_fields(reply, 2, &r.nfields);
    } else {
        r.status = !strcmp(st, "unknown")  ? SR_STORE_UNKNOWN
                   : !strcmp(st, "exists") ? SR_STORE_EXISTS
                                           : SR_STORE_FULL;
    }
    ((sr_store_join_cb *)cb)(&r, arg);
    free(f);
}

void sr_store_join(sr_store *s, const sr_store_join_args *a, sr_store_join_cb *cb, void *arg)
{
    keys k;
    char now[24], max[16];
    const char *ttl = ttl_of(s, a->kind);
    session_keys(s, &k, a->kind, a->id);
    now_str(now, sizeof now);
    snprintf(max, sizeof max, "%u", a->max_members);
    const char *argv[] = {"EVALSHA",
                          s->sha[SR_SCRIPT_SESSION_JOIN],
                          "2",
                          k.session,
                          k.log,
                          a->kind,
                          a->member,
                          a->owner,
                          now,
                          ttl,
                          a->create ? "1" : "0",
                          k.channel,
                          max,
                          a->event ? a->event : "",
                          s->live,
                          a->info ? a->info : ""};
    size_t lens[16];
    for (int i = 0; i < 16; i++)
        lens[i] = strlen(argv[i]);
    lens[13] = a->event ? a->event_len : 0;
    lens[15] = a->info ? a->info_len : 0;
    send_call(s, 16, argv, lens, on_join, FN(cb), arg);
}

void sr_store_session_active(sr_store *s, const char *kind, const char *id)
{
    keys k;
    char now[24];
    session_keys(s, &k, kind, id);
    now_str(now, sizeof now);
    index_active(s, k.member, now);
}

/* {status, seq, version[, current value, current version]} */
static void on_publish(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_publish_result r = {.status = SR_STORE_UNAVAILABLE};
    size_t n = sr_reply_count(reply);
    const char *st = n >= 2 ? sr_reply_str(sr_reply_at(reply, 0), NULL) : NULL;
    if (st) {
        r.seq = (uint64_t)sr_reply_int(sr_reply_at(reply, 1));
        r.version = n >= 3 ? (uint64_t)sr_reply_int(sr_reply_at(reply, 2)) : 0;
        r.status = !strcmp(st, "ok")         ? SR_STORE_OK
                   : !strcmp(st, "unpaired") ? SR_STORE_UNPAIRED
                   : !strcmp(st, "gone")     ? SR_STORE_GONE
                   : !strcmp(st, "conflict") ? SR_STORE_CONFLICT
                   : !strcmp(st, "offline")  ? SR_STORE_OFFLINE
                                             : SR_STORE_SUPERSEDED;
        if (r.status == SR_STORE_CONFLICT && n >= 5) {
            r.current.p = sr_reply_str(sr_reply_at(reply, 3), &r.current.len);
            r.current_version = (uint64_t)sr_reply_int(sr_reply_at(reply, 4));
        }
    }
    ((sr_store_publish_cb *)cb)(&r, arg);
}

void sr_store_publish(sr_store *s, const sr_store_publish_args *a, sr_store_publish_cb *cb,
                      void *arg)
{
    keys k;
    char now[24], min[24], at[24], vat[24], check[2] = {a->state_check, 0};
    char version[24];
    const char *argv[40];
    size_t lens[40];
    int n = 0;
    if (a->nparts > 16) {
        on_publish(NULL, FN(cb), arg);
        return;
    }
    const char *session = k.session, *log = k.log, *channel = k.channel, *member = k.member;
    if (a->keys) {
        session = a->keys->session;
        log = a->keys->log;
        channel = a->keys->channel;
        member = a->keys->member;
    } else {
        session_keys(s, &k, a->kind, a->id);
    }
    char now_us[24];
    now_us_str(now_us);
    size_t ms_len = strlen(now_us) - 3; /* ms: the same time, no snprintf per message */
    memcpy(now, now_us, ms_len);
    now[ms_len] = '\0';
    decimal(min, a->min_members);
    decimal(at, a->seq_after);
    decimal(vat, a->version_after);
    const char *fixed[] = {"EVALSHA",
                           s->sha[SR_SCRIPT_SESSION_PUBLISH],
                           "2",
                           session,
                           log,
                           channel,
                           a->from,
                           a->owner,
                           a->to,
                           ttl_of(s, a->kind),
                           now_us,
                           s->history,
                           a->touch ? "1" : "0",
                           min,
                           at};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++) {
        argv[n] = fixed[i];
        lens[n] = strlen(fixed[i]);
    }
    /* ARGV[11..15]: the state update and its check; ARGV[16..17]: the target
     * must be online */
    const char *operand = a->state_operand ? a->state_operand : "";
    size_t operand_len = a->state_operand ? a->state_operand_len : 0;
    if (a->state_check == 'v') {
        decimal(version, (long long)a->state_version);
        operand = version;
        operand_len = strlen(version);
    }
    /* the live list only when the script reads it: per message it stays one empty ARGV */
    const char *live = a->to_online ? s->live : "";
    const char *state[] = {a->state ? a->state : "",
                           a->state_value ? a->state_value : "",
                           check,
                           operand,
                           vat,
                           a->to_online ? "1" : "0",
                           live};
    size_t state_lens[] = {strlen(state[0]), a->state_value ? a->state_value_len : 0,
                           strlen(check),    operand_len,
                           strlen(vat),      1,
                           strlen(live)};
    for (size_t i = 0; i < 7; i++, n++) {
        argv[n] = state[i];
        lens[n] = state_lens[i];
    }
    for (int i = 0; i < a->nparts; i++, n++) {
        argv[n] = a->parts[i];
        lens[n] = a->lens[i];
    }
    if (sr_redis_call(&s->redis, on_publish, FN(cb), arg, n, argv, lens) < 0) {
        on_publish(NULL, FN(cb), arg);
        return;
    }
    if (a->touch) index_active(s, member, now);
}

void sr_store_leave(sr_store *s, const char *kind, const char *id, const char *member,
                    const char *owner, uint64_t last_seq, const char *event, size_t event_len)
{
    keys k;
    char seq[24];
    session_keys(s, &k, kind, id);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)last_seq);
    const char *argv[] = {"EVALSHA",
                          s->sha[SR_SCRIPT_SESSION_LEAVE],
                          "1",
                          k.session,
                          member,
                          owner,
                          seq,
                          k.channel,
                          event ? event : ""};
    size_t lens[9];
    for (int i = 0; i < 8; i++)
        lens[i] = strlen(argv[i]);
    lens[8] = event ? event_len : 0;
    sr_redis_command(&s->redis, NULL, NULL, 9, argv, lens);
}

/* {more, envelopes...} */
static void on_history(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_history_result r = {.status = SR_STORE_UNAVAILABLE};
    sr_span *v = NULL;
    if (reply && sr_reply_type(reply) == SR_REPLY_ARR && sr_reply_count(reply) >= 1) {
        r.status = SR_STORE_OK;
        r.more = sr_reply_int(sr_reply_at(reply, 0)) != 0;
        r.envelopes = v = sr_reply_spans(reply, 1, &r.n);
    }
    ((sr_store_history_cb *)cb)(&r, arg);
    free(v);
}

void sr_store_history(sr_store *s, const char *kind, const char *id, uint64_t since,
                      sr_store_history_cb *cb, void *arg)
{
    keys k;
    char seq[24], page[16];
    session_keys(s, &k, kind, id);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)since);
    snprintf(page, sizeof page, "%u", SR_STORE_PAGE_BYTES);
    const char *argv[] = {"EVALSHA", s->sha[SR_SCRIPT_SESSION_HISTORY], "1", k.log, seq, page};
    send_call(s, 6, argv, NULL, on_history, FN(cb), arg);
}

/* {stale owner...} */
static void on_touch(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_touch_result r = {.status = SR_STORE_UNAVAILABLE};
    sr_span *v = NULL;
    if (reply && sr_reply_type(reply) == SR_REPLY_ARR) {
        r.status = SR_STORE_OK;
        r.stale_owners = v = sr_reply_spans(reply, 0, &r.n);
    }
    ((sr_store_touch_cb *)cb)(&r, arg);
    free(v);
}

void sr_store_touch(sr_store *s, const char *kind, const char *id, const sr_store_member_seq *m,
                    size_t n, sr_store_touch_cb *cb, void *arg)
{
    keys k;
    char now[24], seqs[SR_STORE_TOUCH_MAX][24];
    const char *ttl = ttl_of(s, kind);
    const char *argv[7 + 3 * SR_STORE_TOUCH_MAX];
    size_t lens[7 + 3 * SR_STORE_TOUCH_MAX];
    size_t argc = 0;
    if (n > SR_STORE_TOUCH_MAX) n = SR_STORE_TOUCH_MAX;
    session_keys(s, &k, kind, id);
    now_str(now, sizeof now);
    const char *fixed[] = {"EVALSHA", s->sha[SR_SCRIPT_SESSION_TOUCH], "2", k.session, k.log, ttl,
                           now};
    for (size_t i = 0; i < 7; i++)
        argv[argc++] = fixed[i];
    for (size_t i = 0; i < n; i++) {
        snprintf(seqs[i], sizeof seqs[i], "%llu", (unsigned long long)m[i].seq);
        argv[argc++] = m[i].member;
        argv[argc++] = m[i].owner;
        argv[argc++] = seqs[i];
    }
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (sr_redis_call(&s->redis, on_touch, FN(cb), arg, (int)argc, argv, lens) < 0) {
        on_touch(NULL, FN(cb), arg);
        return;
    }
    index_active(s, k.member, now);
}

static void ratelimit_key(const sr_store *s, char *out, size_t cap, const char *ip)
{
    snprintf(out, cap, "%sratelimit:join:%s", s->cfg->key_prefix, ip);
}

/* an integer or nil */
static void on_count(const sr_reply *reply, void (*cb)(void), void *arg)
{
    ((sr_store_count_cb *)cb)(reply ? SR_STORE_OK : SR_STORE_UNAVAILABLE, sr_reply_int(reply), arg);
}

void sr_store_join_failures(sr_store *s, const char *ip, sr_store_count_cb *cb, void *arg)
{
    char key[256];
    ratelimit_key(s, key, sizeof key, ip);
    const char *argv[] = {"GET", key};
    send_call(s, 2, argv, NULL, on_count, FN(cb), arg);
}

void sr_store_join_failed(sr_store *s, const char *ip)
{
    char key[256];
    ratelimit_key(s, key, sizeof key, ip);
    const char *argv[] = {"EVALSHA", s->sha[SR_SCRIPT_RATELIMIT], "1", key, "60"};
    sr_redis_command(&s->redis, NULL, NULL, 5, argv, NULL);
}

/* A heartbeat in flight: its reply also renews the store's live list. */
typedef struct beat {
    sr_store *s;
    sr_store_heartbeat_cb *cb;
    void *arg;
} beat;

/* {active sessions, connections on live nodes, live nodes, fresh, live list} */
static void on_heartbeat(const sr_reply *reply, void (*unused)(void), void *arg)
{
    (void)unused;
    beat *b = arg;
    sr_store_heartbeat_result r = {.status = SR_STORE_UNAVAILABLE};
    if (reply && sr_reply_type(reply) == SR_REPLY_ARR && sr_reply_count(reply) == 5) {
        r.status = SR_STORE_OK;
        r.sessions = sr_reply_int(sr_reply_at(reply, 0));
        r.connections = sr_reply_int(sr_reply_at(reply, 1));
        r.nodes = sr_reply_int(sr_reply_at(reply, 2));
        r.resync = sr_reply_int(sr_reply_at(reply, 3)) != 0;
        size_t len;
        const char *live = sr_reply_str(sr_reply_at(reply, 4), &len);
        if (live) {
            free(b->s->live);
            b->s->live = sr_xmalloc(len + 1);
            memcpy(b->s->live, live, len);
            b->s->live[len] = 0;
        }
    }
    b->cb(&r, b->arg);
    free(b);
}

void sr_store_heartbeat(sr_store *s, const sr_store_heartbeat_args *a, sr_store_heartbeat_cb *cb,
                        void *arg)
{
    const char *p = s->cfg->key_prefix, *id = s->cfg->node_id;
    char node[256], nodes[200], sessions[200], online[200], chan[300];
    char set_prefix[200];
    char now[24], node_ttl[16], ttl[16], conns[24], sess[24], started[24];
    snprintf(node, sizeof node, "%s%s", s->node_prefix, id);
    snprintf(nodes, sizeof nodes, "%s" SR_NODES_TAG "nodes", p);
    snprintf(sessions, sizeof sessions, "%s" SR_NODES_TAG "sessions", p);
    snprintf(online, sizeof online, "%s" SR_NODES_TAG "sessions:online", p);
    snprintf(chan, sizeof chan, "%schan:node:%s", p, id);
    snprintf(set_prefix, sizeof set_prefix, "%s" SR_NODES_TAG "node-sessions:", p);
    if (!strcmp(s->live, "|")) { /* before the first answer: at least this process */
        free(s->live);
        s->live = sr_xmalloc(strlen(id) + strlen(a->boot_id) + 4);
        sprintf(s->live, "|%s/%s|", id, a->boot_id);
    }
    now_str(now, sizeof now);
    snprintf(node_ttl, sizeof node_ttl, "%d", SR_NODE_TTL_SECONDS);
    snprintf(ttl, sizeof ttl, "%d", s->cfg->session_ttl);
    snprintf(conns, sizeof conns, "%lld", a->connections);
    snprintf(sess, sizeof sess, "%lld", a->sessions);
    snprintf(started, sizeof started, "%lld", a->started_ms);
    const char *argv[] = {"EVALSHA",  s->sha[SR_SCRIPT_NODE_HEARTBEAT],
                          "4",        node,
                          nodes,      sessions,
                          online,     id,
                          now,        node_ttl,
                          ttl,        conns,
                          sess,       started,
                          chan,       s->node_prefix,
                          a->boot_id, set_prefix};
    beat *b = sr_xmalloc(sizeof *b);
    *b = (beat){s, cb, arg};
    send_call(s, 18, argv, NULL, on_heartbeat, NULL, b);
}

/* {value or nil, version or nil} */
static void on_state_read(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_state_result r = {.status = SR_STORE_UNAVAILABLE};
    if (sr_reply_count(reply) == 2) {
        r.status = SR_STORE_OK;
        r.value.p = sr_reply_str(sr_reply_at(reply, 0), &r.value.len);
        if (!r.value.p) r.value.len = 0;
        r.version = (uint64_t)sr_reply_int(sr_reply_at(reply, 1));
    }
    ((sr_store_state_cb *)cb)(&r, arg);
}

void sr_store_state(sr_store *s, const char *kind, const char *id, const char *name,
                    sr_store_state_cb *cb, void *arg)
{
    keys k;
    char field[140], vfield[140];
    session_keys(s, &k, kind, id);
    snprintf(field, sizeof field, "s:%s", name);
    snprintf(vfield, sizeof vfield, "v:%s", name);
    const char *argv[] = {"HMGET", k.session, field, vfield};
    send_call(s, 4, argv, NULL, on_state_read, FN(cb), arg);
}

void sr_store_node_session(sr_store *s, const char *boot_id, const char *kind, const char *id,
                           bool add)
{
    keys k;
    char set[400], online[200], ttl[16];
    session_keys(s, &k, kind, id);
    snprintf(ttl, sizeof ttl, "%d", s->cfg->session_ttl);
    snprintf(set, sizeof set, "%s" SR_NODES_TAG "node-sessions:%s/%s", s->cfg->key_prefix,
             s->cfg->node_id, boot_id);
    snprintf(online, sizeof online, "%s" SR_NODES_TAG "sessions:online", s->cfg->key_prefix);
    const char *argv[] = {
        "EVALSHA", s->sha[SR_SCRIPT_NODE_SESSION], "2", set, online, k.member, add ? "1" : "0",
        ttl};
    sr_redis_command(&s->redis, NULL, NULL, 8, argv, NULL);
}

/* 1 deleted, 0 unknown */
static void on_deleted(const sr_reply *reply, void (*cb)(void), void *arg)
{
    bool ok = reply && sr_reply_type(reply) == SR_REPLY_INT;
    ((sr_store_done_cb *)cb)(ok ? SR_STORE_OK : SR_STORE_UNAVAILABLE,
                             ok && sr_reply_int(reply) != 0, arg);
}

void sr_store_session_delete(sr_store *s, const char *kind, const char *id, const char *envelope,
                             size_t envelope_len, sr_store_done_cb *cb, void *arg)
{
    keys k;
    char index[200];
    session_keys(s, &k, kind, id);
    snprintf(index, sizeof index, "%s" SR_NODES_TAG "sessions", s->cfg->key_prefix);
    const char *argv[] = {
        "EVALSHA", s->sha[SR_SCRIPT_SESSION_DELETE], "2", k.session, k.log, k.channel, envelope};
    size_t lens[7];
    for (int i = 0; i < 7; i++)
        lens[i] = strlen(argv[i]);
    lens[6] = envelope_len;
    send_call(s, 7, argv, lens, on_deleted, FN(cb), arg);
    /* the index is the registry's slot: its own command, pipelined behind */
    const char *zrem[] = {"ZREM", index, k.member};
    sr_redis_command(&s->redis, NULL, NULL, 3, zrem, NULL);
}

/* ---------- for the other store files (store_script.h) ---------- */

const char *sr_store_live(const sr_store *s)
{
    return s->live;
}

const sr_config *sr_store_config(const sr_store *s)
{
    return s->cfg;
}

int sr_store_command(sr_store *s, int argc, const char *const *argv, const size_t *lens,
                     sr_store_cb *cb, void *privdata)
{
    return sr_redis_command(&s->redis, cb, privdata, argc, (const char **)argv, lens);
}

void sr_store_command_call(sr_store *s, int argc, const char *const *argv, const size_t *lens,
                           sr_redis_call_fn *decode, void (*cb)(void), void *arg)
{
    if (sr_redis_call(&s->redis, decode, cb, arg, argc, (const char **)argv, lens) < 0)
        decode(NULL, cb, arg);
}

/* EVALSHA "script" nkeys argv..., formatted into all/all_lens; returns argc + 3, or -1. */
static int eval_args(sr_store *s, enum sr_script script, int nkeys, int argc,
                     const char *const *argv, const size_t *lens, const char **all,
                     size_t *all_lens, char numkeys[16])
{
    if (argc > SR_STORE_EVAL_MAX_ARGS) return -1;
    snprintf(numkeys, 16, "%d", nkeys);
    all[0] = "EVALSHA";
    all[1] = s->sha[script];
    all[2] = numkeys;
    for (int i = 0; i < 3; i++)
        all_lens[i] = strlen(all[i]);
    for (int i = 0; i < argc; i++) {
        all[i + 3] = argv[i];
        all_lens[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    return argc + 3;
}

int sr_store_eval(sr_store *s, enum sr_script script, int nkeys, int argc, const char *const *argv,
                  const size_t *lens, sr_store_cb *cb, void *privdata)
{
    const char *all[SR_STORE_EVAL_MAX_ARGS + 3];
    size_t all_lens[SR_STORE_EVAL_MAX_ARGS + 3];
    char numkeys[16];
    int n = eval_args(s, script, nkeys, argc, argv, lens, all, all_lens, numkeys);
    return n < 0 ? -1 : sr_redis_command(&s->redis, cb, privdata, n, all, all_lens);
}

void sr_store_eval_call(sr_store *s, enum sr_script script, int nkeys, int argc,
                        const char *const *argv, const size_t *lens, sr_redis_call_fn *decode,
                        void (*cb)(void), void *arg)
{
    const char *all[SR_STORE_EVAL_MAX_ARGS + 3];
    size_t all_lens[SR_STORE_EVAL_MAX_ARGS + 3];
    char numkeys[16];
    int n = eval_args(s, script, nkeys, argc, argv, lens, all, all_lens, numkeys);
    if (n < 0 || sr_redis_call(&s->redis, decode, cb, arg, n, all, all_lens) < 0)
        decode(NULL, cb, arg);
}

void sr_store_node_sessions_sync(sr_store *s, const char *boot_id, const char *const *sessions,
                                 size_t n)
{
    char set[400], online[200], ttl[16];
    snprintf(set, sizeof set, "%s" SR_NODES_TAG "node-sessions:%s/%s", s->cfg->key_prefix,
             s->cfg->node_id, boot_id);
    snprintf(online, sizeof online, "%s" SR_NODES_TAG "sessions:online", s->cfg->key_prefix);
    snprintf(ttl, sizeof ttl, "%d", s->cfg->session_ttl);
    const char **argv = sr_xmalloc((n + 6) * sizeof *argv);
    const char *fixed[] = {"EVALSHA", s->sha[SR_SCRIPT_NODE_SESSIONS_SYNC], "2", set, online, ttl};
    for (size_t i = 0; i < 6; i++)
        argv[i] = fixed[i];
    for (size_t i = 0; i < n; i++)
        argv[6 + i] = sessions[i];
    sr_redis_command(&s->redis, NULL, NULL, (int)(n + 6), argv, NULL);
    free(argv);
}
