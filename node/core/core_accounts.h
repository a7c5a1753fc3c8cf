/* core_accounts.h - the device-sync dialect's accounts, device records and
 * REST reads, as calls bound to a connection or an HTTP request: each holds a
 * reference on it while Redis answers and calls back once with the store's
 * reply, also when the socket or client has gone meanwhile (check
 * sr_conn_alive; responding to a gone request does nothing). The reply is
 * NULL when Redis did not answer or answered in an unexpected shape; that is
 * counted as SR_ERROR_UNAVAILABLE here, so the dialect only has to say so.
 * The records and scripts are described in store_accounts.h. */
#ifndef SR_CORE_ACCOUNTS_H
#define SR_CORE_ACCOUNTS_H

#include "core.h"
#include "store_accounts.h"

typedef void sr_accounts_conn_cb(sr_conn *c, const sr_reply *reply, void *arg);
typedef void sr_accounts_http_cb(sr_http_req *r, const sr_reply *reply, void *arg);

/* Reply: {device id, 1 new / 0 known} (an array of exactly two). */
int sr_accounts_device_register(sr_conn *c, const sr_store_device_args *a, sr_accounts_conn_cb *cb,
                                void *arg);
/* Records that the device was last seen now (fire and forget: nothing answers,
 * so nothing is counted). Works from a connection's close hook. */
void sr_accounts_device_seen(sr_conn *c, const char *user, const char *device);

/* Counts one register/login attempt from r's IP. Reply: an integer, the
 * attempts this minute. */
int sr_accounts_attempt(sr_http_req *r, sr_accounts_http_cb *cb, void *arg);
/* Reply: an integer, 1 created, 0 the email has an account already. */
int sr_accounts_create(sr_http_req *r, const char *email, const char *user_id,
                       const char *password_record, sr_accounts_http_cb *cb, void *arg);
/* Reply: an array, the account's fields and values (empty when unknown). */
int sr_accounts_get(sr_http_req *r, const char *email, sr_accounts_http_cb *cb, void *arg);
/* Reply: an array, as sr_store_devices. kind: the session kind. */
int sr_accounts_devices(sr_http_req *r, const char *kind, const char *user, sr_accounts_http_cb *cb,
                        void *arg);
/* Reply: an array, the fields and values of session <kind>:{<id>} (empty when
 * there is none). */
int sr_accounts_session_fields(sr_http_req *r, const char *kind, const char *id,
                               sr_accounts_http_cb *cb, void *arg);

#endif
