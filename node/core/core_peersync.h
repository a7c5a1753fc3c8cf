/* core_peersync.h - the peersync dialect's presence, requests and peer
 * sessions, as calls bound to a connection: each holds a reference on it and
 * calls back with the store's reply (NULL when Redis is unreachable), also
 * when the socket has gone meanwhile (check sr_conn_alive). The records and
 * scripts are described in store_peersync.h. */
#ifndef SR_CORE_PEERSYNC_H
#define SR_CORE_PEERSYNC_H

#include "core.h"
#include "store_peersync.h"

typedef void sr_peersync_cb(sr_conn *c, const sr_reply *reply, void *arg);

int sr_peersync_register(sr_conn *c, const sr_store_peer *p, sr_peersync_cb *cb, void *arg);
int sr_peersync_discover(sr_conn *c, const char *user, const char *role, const char *ide,
                         sr_peersync_cb *cb, void *arg);
int sr_peersync_refresh(sr_conn *c, const char *user);
int sr_peersync_request(sr_conn *c, const char *from, const char *to, const char *request_id,
                        sr_peersync_cb *cb, void *arg);
int sr_peersync_respond(sr_conn *c, const char *request_id, const char *responder, bool accepted,
                        const char *session_id, sr_peersync_cb *cb, void *arg);
int sr_peersync_leave(sr_conn *c, const char *user, bool end_sessions, sr_peersync_cb *cb,
                      void *arg);

#endif
