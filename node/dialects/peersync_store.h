/* peersync_store.h - the peersync dialect's own Redis records (seed 003), as
 * the dialect sees them: presence entries and their index, pending connection
 * requests, peer sessions, pair records and each user's set of sessions.
 * Implemented in node/redis/store_peersync.c; every update is one of the
 * node/redis/scripts/peersync_*.lua scripts. Keys (after KEY_PREFIX):
 *
 *   peersync:peer:{<user>}           hash  presence (holder, profile, role, ide, status)
 *   peersync:peers                   zset  user -> last refresh (ms): the presence index
 *   peersync:request:{<id>}          hash  pending request (from, to, profile, created)
 *   peersync:session:{<id>}          hash  peer session (a, b, p:<user> = partner)
 *   peersync:pair:{<lower>}:<higher> str   "request:<id>" or "session:<id>"
 *   peersync:user-sessions:{<user>}  set   the user's session ids
 *
 * Each call is bound to its connection (a reference is held while Redis
 * answers) and calls back exactly once, also when the socket has gone
 * meanwhile (check sr_conn_alive). SR_ERR_UNAVAILABLE (no answer, or not in
 * the expected shape) is already counted in the metrics. Spans are valid only
 * during the callback. */
#ifndef SR_PEERSYNC_STORE_H
#define SR_PEERSYNC_STORE_H

#include "session.h"
#include "sr_field.h"

/* Outcomes of a request or a response, besides SR_OK and SR_ERR_UNAVAILABLE. */
enum sr_peersync_status {
    SR_PEERSYNC_UNREGISTERED = -201, /* request: the caller's presence is not its own */
    SR_PEERSYNC_NOT_FOUND = -202,    /* request: the target is not online */
    SR_PEERSYNC_CONNECTED = -203,    /* request: the two have a request or session already */
    SR_PEERSYNC_ACCEPTED = -204,     /* respond */
    SR_PEERSYNC_REJECTED = -205,     /* respond */
    SR_PEERSYNC_UNKNOWN = -206,      /* respond: no such request for this responder */
};

typedef void sr_peersync_done_cb(sr_conn *c, int status, void *arg);

typedef struct sr_peersync_peer {
    const char *user, *holder, *profile, *role, *ide, *status;
} sr_peersync_peer;
/* Records the caller's presence entry (status SR_OK or SR_ERR_UNAVAILABLE). */
void sr_peersync_register(sr_conn *c, const sr_peersync_peer *p, sr_peersync_done_cb *cb,
                          void *arg);

typedef struct sr_peersync_entry {
    sr_span user, profile, status; /* profile and status: p NULL when absent */
} sr_peersync_entry;
typedef void sr_peersync_list_cb(sr_conn *c, int status, const sr_peersync_entry *e, size_t n,
                                 void *arg);
/* The live entries but user's matching the filters ("" = any). */
void sr_peersync_discover(sr_conn *c, const char *user, const char *role, const char *ide,
                          sr_peersync_list_cb *cb, void *arg);

/* Refreshes the presence entry (if c holds it) and the user's sessions; fire
 * and forget (a failure is counted). */
void sr_peersync_refresh(sr_conn *c, const char *user);

/* request: SR_OK (profile: the requester's), SR_PEERSYNC_UNREGISTERED,
 * _NOT_FOUND or _CONNECTED. respond: SR_PEERSYNC_ACCEPTED or _REJECTED
 * (requester and its profile) or _UNKNOWN. Or SR_ERR_UNAVAILABLE. */
typedef struct sr_peersync_answer {
    int status;
    sr_span requester, profile;
} sr_peersync_answer;
typedef void sr_peersync_answer_cb(sr_conn *c, const sr_peersync_answer *a, void *arg);
void sr_peersync_request(sr_conn *c, const char *from, const char *to, const char *request_id,
                         sr_peersync_answer_cb *cb, void *arg);
void sr_peersync_respond(sr_conn *c, const char *request_id, const char *responder, bool accepted,
                         const char *session_id, sr_peersync_answer_cb *cb, void *arg);

typedef struct sr_peersync_ended {
    sr_span session, partner;
} sr_peersync_ended;
typedef void sr_peersync_ended_cb(sr_conn *c, int status, const sr_peersync_ended *e, size_t n,
                                  void *arg);
/* Removes the user's presence (if c holds it); with end_sessions also ends
 * its peer sessions, listed to the callback. */
void sr_peersync_leave(sr_conn *c, const char *user, bool end_sessions, sr_peersync_ended_cb *cb,
                       void *arg);

#endif
