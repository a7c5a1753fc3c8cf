/* store_post.c - sr_store_post: one round trip that sequences, retains and
 * publishes a message in a session its poster is not a member of. */
#include "sr_buf.h"
#include "sr_clock.h"
#include "store_post.h"
#include "store_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {status, seq, target id}; status ok|gone|noroute|norecipient */
static void on_posted(const sr_reply *reply, void (*cb)(void), void *arg)
{
    enum sr_store_post_status status = SR_STORE_POST_UNAVAILABLE;
    const char *s = sr_reply_count(reply) >= 2 ? sr_reply_str(sr_reply_at(reply, 0), NULL) : NULL;
    if (s)
        status = !strcmp(s, "ok")            ? SR_STORE_POSTED
                 : !strcmp(s, "gone")        ? SR_STORE_POST_GONE
                 : !strcmp(s, "noroute")     ? SR_STORE_POST_NO_ROUTE
                 : !strcmp(s, "norecipient") ? SR_STORE_POST_NO_RECIPIENT
                                             : SR_STORE_POST_UNAVAILABLE;
    ((sr_store_post_cb *)cb)(status, s ? (uint64_t)sr_reply_int(sr_reply_at(reply, 1)) : 0, arg);
}

void sr_store_post(sr_store *s, const sr_store_post_args *a, sr_store_post_cb *cb, void *arg)
{
    const sr_config *cfg = sr_store_config(s);
    char key[400], session_prefix[200], chan_prefix[200], ttl[16], now[24], hist[16], touch[16];
    char at[16];
    const char *argv[SR_STORE_EVAL_MAX_ARGS];
    size_t lens[SR_STORE_EVAL_MAX_ARGS];
    if (a->nparts > SR_STORE_EVAL_MAX_ARGS - 12) {
        on_posted(NULL, (void (*)(void))cb, arg);
        return;
    }
    if (a->id)
        snprintf(key, sizeof key, "%ssession:%s:{%s}", cfg->key_prefix, a->kind, a->id);
    else
        snprintf(key, sizeof key, "%s%s", cfg->key_prefix, a->route);
    snprintf(session_prefix, sizeof session_prefix, "%ssession:%s:", cfg->key_prefix, a->kind);
    snprintf(chan_prefix, sizeof chan_prefix, "%schan:%s:", cfg->key_prefix, a->kind);
    snprintf(ttl, sizeof ttl, "%d", cfg->session_ttl);
    snprintf(now, sizeof now, "%llu", /* microseconds: the envelope's time */
             (unsigned long long)sr_now_us());
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
    sr_store_eval_call(s, SR_SCRIPT_SESSION_POST, 1, n, argv, lens, on_posted, (void (*)(void))cb,
                       arg);
}
