/* store_devicesync.c - Redis records of the device-sync dialect (accounts,
 * devices, the register/login rate limit) behind devicesync_store.h: each
 * call bound to its connection or request (sr_op), its reply decoded here.
 * Multi-step updates are the Lua scripts account_create, device_register,
 * device_seen, devices_read and ratelimit, run through store_script.h. */
#include "devicesync_store.h"
#include "core.h"
#include "sr_clock.h"
#include "store_op.h"
#include "store_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sr_store *store_of(const sr_op *op)
{
    return sr_core_store(op->core);
}

static const char *prefix(const sr_store *s)
{
    return sr_store_config(s)->key_prefix;
}

static void now_ms(char *out, size_t cap)
{
    snprintf(out, cap, "%llu", (unsigned long long)sr_now_ms());
}

static void account_key(const sr_store *s, char *out, size_t cap, const char *email)
{
    snprintf(out, cap, "%saccount:{%s}", prefix(s), email);
}

static void devices_key(const sr_store *s, char *out, size_t cap, const char *user)
{
    snprintf(out, cap, "%sdevices:{%s}", prefix(s), user);
}

/* Redis did not answer, or not in the expected shape: counted once, here. */
static int checked(const sr_op *op, bool ok)
{
    if (ok) return SR_OK;
    sr_core_error(op->core, SR_ERROR_UNAVAILABLE);
    return SR_ERR_UNAVAILABLE;
}

/* Sends the script; when Redis is down its decoder runs at once. */
static void eval(sr_op *op, enum sr_script script, int nkeys, int argc, const char *const *argv,
                 const size_t *lens, sr_store_cb *decode)
{
    if (sr_store_eval(store_of(op), script, nkeys, argc, argv, lens, decode, op) < 0)
        decode(NULL, op);
}

static void command(sr_op *op, int argc, const char *const *argv, sr_store_cb *decode)
{
    if (sr_store_command(store_of(op), argc, argv, NULL, decode, op) < 0) decode(NULL, op);
}

/* ---------- accounts (REST) ---------- */

/* 1 created, 0 the email has an account already */
static void on_created(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply && sr_reply_type(reply) == SR_REPLY_INT);
    ((sr_accounts_created_cb *)op->cb)(op->r, status, sr_reply_int(reply) != 0, op->arg);
    sr_op_done(op);
}

void sr_accounts_create(sr_http_req *r, const char *email, const char *user_id,
                        const char *password_record, sr_accounts_created_cb *cb, void *arg)
{
    sr_op *op = sr_op_http(r, SR_FN(cb), arg);
    char key[400], now[24];
    account_key(store_of(op), key, sizeof key, email);
    now_ms(now, sizeof now);
    const char *args[] = {key, user_id, email, password_record, now};
    eval(op, SR_SCRIPT_ACCOUNT_CREATE, 1, 5, args, NULL, on_created);
}

/* HGETALL of the account (empty when unknown) */
static void on_account(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply && sr_reply_type(reply) == SR_REPLY_ARR);
    sr_account a = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    a.id.p = sr_reply_field(reply, 0, "id", &a.id.len);
    a.password.p = sr_reply_field(reply, 0, "password", &a.password.len);
    a.created.p = sr_reply_field(reply, 0, "created", &a.created.len);
    ((sr_accounts_get_cb *)op->cb)(op->r, status, &a, op->arg);
    sr_op_done(op);
}

void sr_accounts_get(sr_http_req *r, const char *email, sr_accounts_get_cb *cb, void *arg)
{
    sr_op *op = sr_op_http(r, SR_FN(cb), arg);
    char key[400];
    account_key(store_of(op), key, sizeof key, email);
    const char *argv[] = {"HGETALL", key};
    command(op, 2, argv, on_account);
}

/* the attempts this minute */
static void on_attempt(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply && sr_reply_type(reply) == SR_REPLY_INT);
    ((sr_accounts_count_cb *)op->cb)(op->r, status, sr_reply_int(reply), op->arg);
    sr_op_done(op);
}

void sr_accounts_attempt(sr_http_req *r, sr_accounts_count_cb *cb, void *arg)
{
    sr_op *op = sr_op_http(r, SR_FN(cb), arg);
    char key[256];
    snprintf(key, sizeof key, "%sratelimit:auth:%s", prefix(store_of(op)), r->ip);
    const char *args[] = {key, "60"};
    eval(op, SR_SCRIPT_RATELIMIT, 1, 2, args, NULL, on_attempt);
}

/* ---------- devices ---------- */

/* {device id, 1 new / 0 known} */
static void on_device(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    bool ok = reply && sr_reply_type(reply) == SR_REPLY_ARR && sr_reply_count(reply) == 2;
    int status = checked(op, ok);
    sr_span id = {NULL, 0};
    if (ok) id.p = sr_reply_str(sr_reply_at(reply, 0), &id.len);
    ((sr_accounts_device_cb *)op->cb)(op->c, status, id, op->arg);
    sr_op_done(op);
}

void sr_accounts_device_register(sr_conn *c, const sr_accounts_device_args *a,
                                 sr_accounts_device_cb *cb, void *arg)
{
    sr_op *op = sr_op_conn(c, SR_FN(cb), arg);
    sr_store *s = store_of(op);
    char key[256], session[320], now[24], max[16], claim[24];
    devices_key(s, key, sizeof key, a->user);
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(s), a->kind, a->user);
    now_ms(now, sizeof now);
    snprintf(max, sizeof max, "%u", a->max_devices);
    snprintf(claim, sizeof claim, "%u", a->claim_ms);
    const char *args[] = {key,       session,          a->requested ? a->requested : "",
                          a->new_id, a->info,          now,
                          max,       sr_store_live(s), claim};
    size_t lens[9];
    for (int i = 0; i < 9; i++)
        lens[i] = strlen(args[i]);
    lens[4] = a->info_len;
    eval(op, SR_SCRIPT_DEVICE_REGISTER, 2, 9, args, lens, on_device);
}

void sr_accounts_device_seen(sr_conn *c, const char *user, const char *device)
{
    sr_store *s = sr_conn_store(c);
    char key[256], now[24];
    devices_key(s, key, sizeof key, user);
    now_ms(now, sizeof now);
    const char *args[] = {key, device, now};
    sr_store_eval(s, SR_SCRIPT_DEVICE_SEEN, 1, 3, args, NULL, NULL, NULL);
}

/* flat {id, deviceInfo, first seen ms, last seen ms, online 1/0, ...} */
static void on_devices(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply && sr_reply_type(reply) == SR_REPLY_ARR);
    size_t count = sr_reply_count(reply), n = 0;
    sr_device *d = count >= 5 ? sr_xcalloc(count / 5, sizeof *d) : NULL;
    for (size_t i = 0; i + 4 < count; i += 5) {
        sr_device *e = &d[n];
        if (!(e->id.p = sr_reply_str(sr_reply_at(reply, i), &e->id.len))) continue;
        e->info.p = sr_reply_str(sr_reply_at(reply, i + 1), &e->info.len);
        e->first_seen.p = sr_reply_str(sr_reply_at(reply, i + 2), &e->first_seen.len);
        e->last_seen.p = sr_reply_str(sr_reply_at(reply, i + 3), &e->last_seen.len);
        e->online = sr_reply_int(sr_reply_at(reply, i + 4)) == 1;
        n++;
    }
    ((sr_accounts_devices_cb *)op->cb)(op->r, status, d, n, op->arg);
    free(d);
    sr_op_done(op);
}

void sr_accounts_devices(sr_http_req *r, const char *kind, const char *user,
                         sr_accounts_devices_cb *cb, void *arg)
{
    sr_op *op = sr_op_http(r, SR_FN(cb), arg);
    sr_store *s = store_of(op);
    char key[256], session[320];
    devices_key(s, key, sizeof key, user);
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(s), kind, user);
    const char *args[] = {key, session, sr_store_live(s)};
    eval(op, SR_SCRIPT_DEVICES_READ, 2, 3, args, NULL, on_devices);
}

/* HGETALL of the session (empty when there is none) */
static void on_fields(const sr_reply *reply, void *privdata)
{
    sr_op *op = privdata;
    int status = checked(op, reply && sr_reply_type(reply) == SR_REPLY_ARR);
    size_t n = 0;
    sr_field *f = sr_reply_fields(reply, 0, &n);
    ((sr_accounts_fields_cb *)op->cb)(op->r, status, f, n, op->arg);
    free(f);
    sr_op_done(op);
}

void sr_accounts_session_fields(sr_http_req *r, const char *kind, const char *id,
                                sr_accounts_fields_cb *cb, void *arg)
{
    sr_op *op = sr_op_http(r, SR_FN(cb), arg);
    char session[320];
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(store_of(op)), kind, id);
    const char *argv[] = {"HGETALL", session};
    command(op, 2, argv, on_fields);
}
