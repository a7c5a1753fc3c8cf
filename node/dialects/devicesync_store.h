/* devicesync_store.h - the device-sync dialect's own Redis records, as the
 * dialect sees them: accounts and device records (neither expires), the
 * register/login rate limit, and reads of a user's devices and session for the
 * REST endpoints. Implemented in node/redis/store_devicesync.c (scripts
 * account_create, device_register, device_seen, devices_read, ratelimit).
 * Keys (after KEY_PREFIX):
 *   account:{<email>}         hash  id, email, password (scrypt record), created
 *   devices:{<user id>}       hash  f:<device> first seen, l:<device> last seen,
 *                                   i:<device> deviceInfo JSON
 *   ratelimit:auth:<ip>       string, 60 s: register/login attempts this minute
 *
 * Each call is bound to a connection or an HTTP request (a reference is held
 * while Redis answers) and calls back exactly once: status SR_OK with the
 * decoded result, or SR_ERR_UNAVAILABLE (Redis did not answer, or answered in
 * an unexpected shape: already counted in the metrics). It also calls back
 * when the socket or client has gone meanwhile (check sr_conn_alive;
 * responding to a gone request does nothing). Spans are valid only during the
 * callback. */
#ifndef SR_DEVICESYNC_STORE_H
#define SR_DEVICESYNC_STORE_H

#include "http.h"
#include "session.h"
#include "sr_field.h"

typedef struct sr_accounts_device_args {
    const char *user;
    const char *requested; /* the id the device asks for, or NULL */
    const char *new_id;    /* used when requested is not one of the user's devices and,
                              with none requested, no offline one has this info */
    const char *info;      /* deviceInfo JSON */
    size_t info_len;
    unsigned max_devices;
    const char *kind;  /* the session kind: an offline device's record is reused */
    unsigned claim_ms; /* how long a handed-out id is not reused before it is online */
} sr_accounts_device_args;
/* id: the device's id (new or known). */
typedef void sr_accounts_device_cb(sr_conn *c, int status, sr_span id, void *arg);
void sr_accounts_device_register(sr_conn *c, const sr_accounts_device_args *a,
                                 sr_accounts_device_cb *cb, void *arg);
/* Records that the device was last seen now (fire and forget: nothing answers,
 * so nothing is counted). Works from a connection's close hook. */
void sr_accounts_device_seen(sr_conn *c, const char *user, const char *device);

/* Counts one register/login attempt from r's IP; count: the attempts this minute. */
typedef void sr_accounts_count_cb(sr_http_req *r, int status, long long count, void *arg);
void sr_accounts_attempt(sr_http_req *r, sr_accounts_count_cb *cb, void *arg);
/* created: false when the email has an account already. */
typedef void sr_accounts_created_cb(sr_http_req *r, int status, bool created, void *arg);
void sr_accounts_create(sr_http_req *r, const char *email, const char *user_id,
                        const char *password_record, sr_accounts_created_cb *cb, void *arg);

/* An account's fields (p NULL when absent; all absent: no such account). */
typedef struct sr_account {
    sr_span id, password, created;
} sr_account;
typedef void sr_accounts_get_cb(sr_http_req *r, int status, const sr_account *a, void *arg);
void sr_accounts_get(sr_http_req *r, const char *email, sr_accounts_get_cb *cb, void *arg);

/* A user's device: online ones first, then most recently seen. */
typedef struct sr_device {
    sr_span id, info, first_seen, last_seen; /* times in ms, decimal */
    bool online;
} sr_device;
typedef void sr_accounts_devices_cb(sr_http_req *r, int status, const sr_device *d, size_t n,
                                    void *arg);
/* kind: the session kind. */
void sr_accounts_devices(sr_http_req *r, const char *kind, const char *user,
                         sr_accounts_devices_cb *cb, void *arg);

/* The fields of session <kind>:{<id>} (none when there is no such session). */
typedef void sr_accounts_fields_cb(sr_http_req *r, int status, const sr_field *f, size_t n,
                                   void *arg);
void sr_accounts_session_fields(sr_http_req *r, const char *kind, const char *id,
                                sr_accounts_fields_cb *cb, void *arg);

#endif
