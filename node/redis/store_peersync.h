/* store_peersync.h - Redis records of the peersync dialect (seed 003):
 * presence entries and their index, pending connection requests, peer
 * sessions, pair records and each user's set of sessions. Every update is
 * one of the node/redis/scripts/peersync_*.lua scripts. No hiredis here.
 *
 *   <prefix>peersync:peer:{<user>}           hash  presence (holder, profile, role, ide, status)
 *   <prefix>peersync:peers                   zset  user -> last refresh (ms): the presence index
 *   <prefix>peersync:request:{<id>}          hash  pending request (from, to, profile, created)
 *   <prefix>peersync:session:{<id>}          hash  peer session (a, b, p:<user> = partner)
 *   <prefix>peersync:pair:{<lower>}:<higher> str   "request:<id>" or "session:<id>"
 *   <prefix>peersync:user-sessions:{<user>}  set   the user's session ids */
#ifndef SR_STORE_PEERSYNC_H
#define SR_STORE_PEERSYNC_H

#include "store.h"

#include <stdbool.h>

typedef struct sr_store_peer {
    const char *user, *holder, *profile, *role, *ide, *status;
} sr_store_peer;
/* Reply: 1. */
int sr_store_peer_register(sr_store *s, const sr_store_peer *p, sr_store_cb *cb, void *privdata);
/* Reply: flat {user, profile, status, ...} of live entries but caller's
 * matching the filters ("" = any). */
int sr_store_peer_discover(sr_store *s, const char *caller, const char *role, const char *ide,
                           sr_store_cb *cb, void *privdata);
/* Refreshes the presence entry (if holder holds it) and the user's sessions. */
int sr_store_peer_refresh(sr_store *s, const char *user, const char *holder, sr_store_cb *cb,
                          void *privdata);
/* Reply: {status, requester profile, target profile}; ok|unregistered|notfound|connected. */
int sr_store_peer_request(sr_store *s, const char *from, const char *to, const char *holder,
                          const char *request_id, sr_store_cb *cb, void *privdata);
/* Reply: {status, requester, requester profile}; accepted|rejected|unknown. */
int sr_store_peer_respond(sr_store *s, const char *request_id, const char *responder, bool accepted,
                          const char *session_id, sr_store_cb *cb, void *privdata);
/* Reply: flat {session id, partner, ...} of the sessions ended (end_sessions). */
int sr_store_peer_leave(sr_store *s, const char *user, const char *holder, bool end_sessions,
                        sr_store_cb *cb, void *privdata);

#endif
