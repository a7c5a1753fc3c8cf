/* redis_conn.h - one hiredis async connection on the node's event_base, with
 * a state, reconnect with exponential backoff, and a watchdog that drops a
 * connection whose commands stop being answered (a stuck or paused Redis), so
 * callers get an error instead of waiting forever. Store/bus layer only. */
#ifndef SR_REDIS_CONN_H
#define SR_REDIS_CONN_H

#include "config.h"
#include "sr_buf.h"
#include "store_script.h"

#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sr_redis sr_redis;
struct ssl_ctx_st;
struct ssl_st;
typedef void sr_redis_state_cb(sr_redis *r, bool up, void *privdata);

struct sr_redis {
    struct event_base *base;
    const sr_redis_target *target;
    const char *name; /* for logs: "store" or "bus" */
    redisAsyncContext *ac;
    bool up, closing;
    bool handshake; /* connected, waiting for PING's answer before counting as up */
    unsigned backoff_ms, timeout_ms;
    unsigned pending;     /* commands sent, not answered */
    uint64_t progress_ms; /* last reply, or when pending became non-zero */
    uint64_t commands, failures, rtt_us_sum;
    struct event *retry, *watchdog;
    struct event *flush; /* writes the commands of this loop turn at its end */
    bool flush_due;
    /* what one read of the socket brought, handed to hiredis' reader a few
     * KiB at a time (see chunked_read) */
    redisContextFuncs funcs;
    const redisContextFuncs *socket_funcs;
    char stash[16384];
    size_t stash_pos, stash_len;
    uint64_t connect_started_ms; /* non-zero while a connect is under way */
    sr_redis_state_cb *on_state;
    void *privdata;
    sr_buf command;             /* the command being sent, in RESP (reused) */
    struct ssl_ctx_st *ssl_ctx; /* rediss://: made once from the target's settings */
    struct ssl_st *ssl;         /* this connection's, owned by hiredis (for its errors) */
};

/* Starts connecting. A rediss:// target whose CA, certificate or key files
 * cannot be loaded is a configuration error: it is logged and the process
 * exits, as for any other bad setting found at start. */
void sr_redis_init(sr_redis *r, struct event_base *base, const sr_redis_target *target,
                   const char *name, sr_redis_state_cb *on_state, void *privdata);
void sr_redis_close(sr_redis *r);
/* redis_reply.c: gives ac's reader the recycling reply functions. */
void sr_redis_reply_functions(redisAsyncContext *ac);
/* Drops the connection now (pending callbacks get NULL) and reconnects. */
void sr_redis_reset(sr_redis *r);
/* Sends a command. lens may be NULL for at most 64 NUL-terminated arguments.
 * fn (may be NULL) gets the reply, or NULL for an error reply or a lost
 * connection. An error saying the script cache is empty (NOSCRIPT) calls
 * on_state(up) again, so the owner loads its scripts anew.
 * Returns -1 without calling fn when the connection is down. */
int sr_redis_command(sr_redis *r, sr_store_cb *fn, void *privdata, int argc, const char **argv,
                     const size_t *lens);
/* The same, with fn (sr_redis_call_fn, store_script.h) getting a typed
 * callback and its argument for the caller to call after decoding the reply:
 * carried in the command's own record, so the per-message path allocates
 * nothing more for them. */
int sr_redis_call(sr_redis *r, sr_redis_call_fn *fn, void (*cb)(void), void *arg, int argc,
                  const char **argv, const size_t *lens);

#endif
