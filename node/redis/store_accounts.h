/* store_accounts.h - the device-sync dialect's own Redis records: accounts
 * and device records (neither expires), the register/login rate limit, and
 * reads of a user's devices and session for the REST endpoints. Implemented
 * in store_accounts.c over store_script.h; callbacks get a NULL reply when Redis
 * is unreachable or did not answer in time. Keys (after KEY_PREFIX):
 *   account:{<email>}         hash  id, email, password (scrypt record), created
 *   devices:{<user id>}       hash  f:<device> first seen, l:<device> last seen,
 *                                   i:<device> deviceInfo JSON
 *   ratelimit:auth:<ip>       string, 60 s: register/login attempts this minute */
#ifndef SR_STORE_ACCOUNTS_H
#define SR_STORE_ACCOUNTS_H

#include "store.h"

#include <stddef.h>

/* Reply: 1 created, 0 the email (lower case) has an account already. */
int sr_store_account_create(sr_store *s, const char *email, const char *user_id,
                            const char *password_record, sr_store_cb *cb, void *privdata);
/* Reply: HGETALL of the account (empty when unknown). */
int sr_store_account_get(sr_store *s, const char *email, sr_store_cb *cb, void *privdata);
/* Counts one register/login attempt of ip. Reply: attempts this minute. */
int sr_store_auth_attempt(sr_store *s, const char *ip, sr_store_cb *cb, void *privdata);

typedef struct sr_store_device_args {
    const char *user;
    const char *requested; /* the id the device asks for, or NULL */
    const char *new_id;    /* used when requested is not one of the user's devices and,
                              with none requested, no offline one has this info */
    const char *info;      /* deviceInfo JSON */
    size_t info_len;
    unsigned max_devices;
    const char *kind;  /* the session kind: an offline device's record is reused */
    unsigned claim_ms; /* how long a handed-out id is not reused before it is online */
} sr_store_device_args;
/* Reply: {device id, 1 new / 0 known}. */
int sr_store_device_register(sr_store *s, const sr_store_device_args *a, sr_store_cb *cb,
                             void *privdata);
/* Records that the device was last seen now (fire and forget). */
void sr_store_device_seen(sr_store *s, const char *user, const char *device);
/* Reply: flat {id, deviceInfo, first seen ms, last seen ms, online 1/0, ...},
 * online ones first, then most recently seen. kind: the session kind. */
int sr_store_devices(sr_store *s, const char *kind, const char *user, sr_store_cb *cb,
                     void *privdata);
/* Reply: HGETALL of session <kind>:{<id>} (empty when there is none). */
int sr_store_session_fields(sr_store *s, const char *kind, const char *id, sr_store_cb *cb,
                            void *privdata);

#endif
