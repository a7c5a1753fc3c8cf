/* store_accounts.c - Redis records of the device-sync dialect (accounts,
 * devices, the register/login rate limit) behind store_accounts.h. Multi-step
 * updates are the Lua scripts account_create, device_register, device_seen and
 * devices_read (node/redis/scripts), run through store_script.h. */
#include "store_accounts.h"
#include "store_script.h"
#include "sr_clock.h"

#include <stdio.h>
#include <string.h>

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

int sr_store_account_create(sr_store *s, const char *email, const char *user_id,
                            const char *password_record, sr_store_cb *cb, void *privdata)
{
    char key[400], now[24];
    account_key(s, key, sizeof key, email);
    now_ms(now, sizeof now);
    const char *args[] = {key, user_id, email, password_record, now};
    return sr_store_eval(s, SR_SCRIPT_ACCOUNT_CREATE, 1, 5, args, NULL, cb, privdata);
}

int sr_store_account_get(sr_store *s, const char *email, sr_store_cb *cb, void *privdata)
{
    char key[400];
    account_key(s, key, sizeof key, email);
    const char *argv[] = {"HGETALL", key};
    return sr_store_command(s, 2, argv, NULL, cb, privdata);
}

int sr_store_auth_attempt(sr_store *s, const char *ip, sr_store_cb *cb, void *privdata)
{
    char key[256];
    snprintf(key, sizeof key, "%sratelimit:auth:%s", prefix(s), ip);
    const char *args[] = {key, "60"};
    return sr_store_eval(s, SR_SCRIPT_RATELIMIT, 1, 2, args, NULL, cb, privdata);
}

int sr_store_device_register(sr_store *s, const sr_store_device_args *a, sr_store_cb *cb,
                             void *privdata)
{
    char key[256], session[320], now[24], max[16], node_prefix[200], claim[24];
    devices_key(s, key, sizeof key, a->user);
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(s), a->kind, a->user);
    now_ms(now, sizeof now);
    snprintf(max, sizeof max, "%u", a->max_devices);
    snprintf(node_prefix, sizeof node_prefix, "%snode:", prefix(s));
    snprintf(claim, sizeof claim, "%u", a->claim_ms);
    const char *args[] = {key,       session,     a->requested ? a->requested : "",
                          a->new_id, a->info,     now,
                          max,       node_prefix, claim};
    size_t lens[9];
    for (int i = 0; i < 9; i++)
        lens[i] = strlen(args[i]);
    lens[4] = a->info_len;
    return sr_store_eval(s, SR_SCRIPT_DEVICE_REGISTER, 2, 9, args, lens, cb, privdata);
}

void sr_store_device_seen(sr_store *s, const char *user, const char *device)
{
    char key[256], now[24];
    devices_key(s, key, sizeof key, user);
    now_ms(now, sizeof now);
    const char *args[] = {key, device, now};
    sr_store_eval(s, SR_SCRIPT_DEVICE_SEEN, 1, 3, args, NULL, NULL, NULL);
}

int sr_store_devices(sr_store *s, const char *kind, const char *user, sr_store_cb *cb,
                     void *privdata)
{
    char key[256], session[320], node_prefix[200];
    devices_key(s, key, sizeof key, user);
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(s), kind, user);
    snprintf(node_prefix, sizeof node_prefix, "%snode:", prefix(s));
    const char *args[] = {key, session, node_prefix};
    return sr_store_eval(s, SR_SCRIPT_DEVICES_READ, 2, 3, args, NULL, cb, privdata);
}

int sr_store_session_fields(sr_store *s, const char *kind, const char *id, sr_store_cb *cb,
                            void *privdata)
{
    char session[320];
    snprintf(session, sizeof session, "%ssession:%s:{%s}", prefix(s), kind, id);
    const char *argv[] = {"HGETALL", session};
    return sr_store_command(s, 2, argv, NULL, cb, privdata);
}
