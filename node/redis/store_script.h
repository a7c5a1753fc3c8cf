/* store_script.h - for the store files (store_redis.c, store_post.c,
 * store_peersync.c, store_devicesync.c): run a Lua script of the registry
 * (sr_scripts.h, generated from the .lua files of node/redis/scripts) over
 * the store's connection. Every script of the registry is loaded on each
 * (re)connect, so a restarted or flushed Redis gets them again. Store layer
 * only. */
#ifndef SR_STORE_SCRIPT_H
#define SR_STORE_SCRIPT_H

#include "sr_scripts.h"
#include "store.h"

#include <stddef.h>

/* The flat field/value list of r from element first, decoded (NULL when
 * empty; free() it); fields that are not strings are left out. */
sr_field *sr_reply_fields(const sr_reply *r, size_t first, size_t *n);
/* The string elements of r from element first (NULL when none; free() it). */
sr_span *sr_reply_spans(const sr_reply *r, size_t first, size_t *n);

#define SR_STORE_EVAL_MAX_ARGS 48

/* EVALSHA of script with nkeys keys among argv[0..argc) (lens may be NULL
 * for C strings). Returns 0, or -1 without calling cb when Redis is down. */
int sr_store_eval(sr_store *s, enum sr_script script, int nkeys, int argc, const char *const *argv,
                  const size_t *lens, sr_store_cb *cb, void *privdata);
/* The same, decode(reply, cb, arg) decoding the reply and calling cb (a typed
 * callback, cast back) exactly once: at once with a NULL reply when Redis is
 * down. */
typedef void sr_redis_call_fn(const sr_reply *reply, void (*cb)(void), void *arg);
void sr_store_eval_call(sr_store *s, enum sr_script script, int nkeys, int argc,
                        const char *const *argv, const size_t *lens, sr_redis_call_fn *decode,
                        void (*cb)(void), void *arg);
/* sr_store_command with decode as in sr_store_eval_call. */
void sr_store_command_call(sr_store *s, int argc, const char *const *argv, const size_t *lens,
                           sr_redis_call_fn *decode, void (*cb)(void), void *arg);
const sr_config *sr_store_config(const sr_store *s);
/* The node registry's hash tag: every node-level key (liveness records, the
 * nodes and sessions indexes, the sets of held sessions) is
 * "<prefix>" SR_NODES_TAG "...", one slot written per heartbeat and per
 * session a node starts or stops holding, never per message. */
#define SR_NODES_TAG "{nodes}:"
/* "|<node id>/<boot>|...|": the node processes alive at the last heartbeat
 * (this process at least). Scripts count a holder "<node>/<boot>/<conn>"
 * online when "|<node>/<boot>|" is in it, instead of reading the registry's
 * slot from a session's slot. */
const char *sr_store_live(const sr_store *s);
/* Sends a plain command (lens may be NULL for C strings). Returns 0, or -1
 * without calling cb when Redis is down. */
int sr_store_command(sr_store *s, int argc, const char *const *argv, const size_t *lens,
                     sr_store_cb *cb, void *privdata);

#endif
