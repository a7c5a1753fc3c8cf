/* store_script.h - for store files other than store_redis.c (store_post.c,
 * store_peersync.c): run a Lua script of node/redis/scripts over the store's
 * connection without a row in store_redis.c's table. A script is loaded once
 * per Redis connection (SCRIPT LOAD sent just before its first EVALSHA), so
 * a restarted or flushed Redis gets it again. Store layer only. */
#ifndef SR_STORE_SCRIPT_H
#define SR_STORE_SCRIPT_H

#include "store.h"

#include <stddef.h>

typedef struct sr_store_script {
    const char *source; /* the embedded text, sr_lua_<name> */
    char sha[41];       /* computed on first use */
    unsigned generation;
} sr_store_script;

#define SR_STORE_EVAL_MAX_ARGS 48

/* EVALSHA of script with nkeys keys among argv[0..argc) (lens may be NULL
 * for C strings). Returns 0, or -1 without calling cb when Redis is down. */
int sr_store_eval(sr_store *s, sr_store_script *script, int nkeys, int argc,
                  const char *const *argv, const size_t *lens, sr_store_cb *cb, void *privdata);
const sr_config *sr_store_config(const sr_store *s);
/* Sends a plain command (lens may be NULL for C strings). Returns 0, or -1
 * without calling cb when Redis is down. */
int sr_store_command(sr_store *s, int argc, const char *const *argv, const size_t *lens,
                     sr_store_cb *cb, void *privdata);

#endif
