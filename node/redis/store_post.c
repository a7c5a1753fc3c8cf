/* store_post.c - sr_store_post: one round trip that sequences, retains and
 * publishes a message in a session its poster is not a member of. */
#include "sr_buf.h"
#include "store_post.h"
#include "store_script.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

extern const char sr_lua_session_post[];
static sr_store_script post_script = {.source = sr_lua_session_post};

int sr_store_post(sr_store *s, const sr_store_post_args *a, sr_store_cb *cb, void *privdata)
{
    const sr_config *cfg = sr_store_config(s);
    char key[400], session_prefix[200], chan_prefix[200], ttl[16], now[24], hist[16], touch[16];
    char at[16];
    const char *argv[SR_STORE_EVAL_MAX_ARGS];
    size_t lens[SR_STORE_EVAL_MAX_ARGS];
    struct timespec ts;
    if (a->nparts > SR_STORE_EVAL_MAX_ARGS - 12) return -1;
    if (a->id)
        snprintf(key, sizeof key, "%ssession:%s:{%s}", cfg->key_prefix, a->kind, a->id);
    else
        snprintf(key, sizeof key, "%s%s", cfg->key_prefix, a->route);
    snprintf(session_prefix, sizeof session_prefix, "%ssession:%s:", cfg->key_prefix, a->kind);
    snprintf(chan_prefix, sizeof chan_prefix, "%schan:%s:", cfg->key_prefix, a->kind);
    snprintf(ttl, sizeof ttl, "%d", cfg->session_ttl);
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(now, sizeof now, "%llu", /* microseconds: the envelope's time */
             (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000);
    snprintf(hist, sizeof hist, "%d", cfg->history_size);
    snprintf(touch, sizeof touch, "%u", a->touch_ms);
    snprintf(at, sizeof at, "%d", a->seq_after);
    const char *fixed[] = {key,
                           session_prefix,
                           chan_prefix,
                           a->id ? "" : a->route_field,
                           a->id ? a->id : "",
                           a->from,
                           a->to,
                           ttl,
                           now,
                           hist,
                           touch,
                           at};
    int n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++) {
        argv[n] = fixed[i];
        lens[n] = strlen(fixed[i]);
    }
    for (int i = 0; i < a->nparts; i++, n++) {
        argv[n] = a->parts[i];
        lens[n] = a->lens[i];
    }
    return sr_store_eval(s, &post_script, 1, n, argv, lens, cb, privdata);
}
