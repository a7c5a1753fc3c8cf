/* bus_redis.c - bus.h over one hiredis connection in subscribe mode.
 *
 * The bus keeps the set of channels the core wants and reconciles it with
 * the connection: after a reconnect everything is subscribed again. A
 * SUBSCRIBE for a channel whose UNSUBSCRIBE is still in flight waits for it:
 * hiredis 0.14 drops a channel's callback when the unsubscribe reply arrives,
 * which would otherwise leave the node deaf to that channel.
 *
 * The node's heartbeat publishes to the node's own channel every 2 s; when
 * those stop arriving while the store is up the subscriber connection is
 * considered stuck and is re-established. */
#include "bus.h"
#include "redis_conn.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_clock.h"
#include "sr_log.h"
#include "sr_map.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <stdlib.h>
#include <string.h>

#define SR_BUS_SELF_CHECK_MS 8000

typedef struct channel_state {
    bool wanted, subscribed_sent, unsubscribe_in_flight;
} channel_state;

struct sr_bus {
    sr_redis redis;
    const sr_config *cfg;
    sr_bus_hooks hooks;
    sr_map channels;  /* session name -> channel_state */
    char prefix[160]; /* "<prefix>chan:" */
    size_t prefix_len;
    char self[300];
    uint64_t self_seen_ms;
    struct event *self_check;
};

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *arg);

static void send_sub(sr_bus *b, const char *verb, const char *channel)
{
    const char *argv[2] = {verb, channel};
    size_t lens[2] = {strlen(verb), strlen(channel)};
    if (b->redis.up && b->redis.ac)
        redisAsyncCommandArgv(b->redis.ac, on_sub_reply, b, 2, argv, lens);
}

static void channel_of(const sr_bus *b, const char *session, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", b->prefix, session);
}

static void subscribe_now(sr_bus *b, const char *session, channel_state *st)
{
    char ch[400];
    channel_of(b, session, ch, sizeof ch);
    st->subscribed_sent = true;
    send_sub(b, "SUBSCRIBE", ch);
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    sr_bus *b = arg;
    const redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str, *ch = r->element[1]->str;
    size_t chlen = r->element[1]->len;
    if (!strcmp(ch, b->self)) {
        b->self_seen_ms = sr_monotonic_ms();
        const redisReply *data = r->element[r->elements - 1];
        if (data->type == REDIS_REPLY_STRING && data->len > 0 && data->str[0] == '+' &&
            b->hooks.node_joined)
            b->hooks.node_joined(b->hooks.privdata);
        return;
    }
    if (chlen <= b->prefix_len || memcmp(ch, b->prefix, b->prefix_len) != 0) return;
    const char *session = ch + b->prefix_len;
    size_t slen = chlen - b->prefix_len;

    if (!strcmp(kind, "message")) {
        if (r->element[2]->type == REDIS_REPLY_STRING)
            b->hooks.message(b->hooks.privdata, session, slen, r->element[2]->str,
                             r->element[2]->len);
        return;
    }
    channel_state *st = sr_map_get(&b->channels, session);
    if (!st) return;
    if (!strcmp(kind, "subscribe")) {
        /* a late reply to a subscription being undone does not count */
        if (st->wanted && !st->unsubscribe_in_flight)
            b->hooks.subscribed(b->hooks.privdata, session);
    } else if (!strcmp(kind, "unsubscribe")) {
        st->unsubscribe_in_flight = false;
        if (st->wanted) {
            subscribe_now(b, session, st);
        } else {
            sr_map_remove(&b->channels, session);
            free(st);
        }
    }
}

static void resubscribe(const char *session, void *value, void *arg)
{
    channel_state *st = value;
    if (st->wanted) subscribe_now(arg, session, st);
}

static void forget_unwanted(sr_bus *b)
{
    for (size_t i = 0; i < b->channels.nbuckets; i++) {
        sr_map_entry *e = b->channels.buckets[i];
        while (e) {
            sr_map_entry *next = e->next;
            channel_state *st = e->value;
            st->subscribed_sent = st->unsubscribe_in_flight = false;
            if (!st->wanted) {
                free(sr_map_remove(&b->channels, e->key));
            }
            e = next;
        }
    }
}

static void on_state(sr_redis *r, bool up, void *arg)
{
    sr_bus *b = arg;
    forget_unwanted(b);
    if (!up) return;
    b->self_seen_ms = sr_monotonic_ms();
    send_sub(b, "SUBSCRIBE", b->self);
    b->hooks.reset(b->hooks.privdata); /* everything parks until subscribed again */
    sr_map_each(&b->channels, resubscribe, b);
}

static void self_check(evutil_socket_t fd, short what, void *arg)
{
    sr_bus *b = arg;
    if (b->redis.up && sr_monotonic_ms() - b->self_seen_ms > SR_BUS_SELF_CHECK_MS) {
        sr_log_warn("bus: own heartbeat not heard for %d ms, reconnecting", SR_BUS_SELF_CHECK_MS);
        sr_redis_reset(&b->redis);
    }
}

sr_bus *sr_bus_new(struct event_base *base, const sr_config *cfg, const sr_bus_hooks *hooks)
{
    sr_bus *b = sr_xcalloc(1, sizeof *b);
    b->cfg = cfg;
    b->hooks = *hooks;
    sr_map_init(&b->channels);
    snprintf(b->prefix, sizeof b->prefix, "%schan:", cfg->key_prefix);
    b->prefix_len = strlen(b->prefix);
    snprintf(b->self, sizeof b->self, "%snode:%s", b->prefix, cfg->node_id);
    b->self_check = event_new(base, -1, EV_PERSIST, self_check, b);
    struct timeval tv = {2, 0};
    event_add(b->self_check, &tv);
    sr_redis_init(&b->redis, base, &cfg->redis, "bus", on_state, b);
    return b;
}

static void free_state(const char *key, void *value, void *arg)
{
    free(value);
}

void sr_bus_free(sr_bus *b)
{
    event_free(b->self_check);
    sr_redis_close(&b->redis);
    sr_map_each(&b->channels, free_state, NULL);
    sr_map_free(&b->channels);
    free(b);
}

bool sr_bus_up(const sr_bus *b)
{
    return b->redis.up;
}

void sr_bus_subscribe(sr_bus *b, const char *session)
{
    channel_state *st = sr_map_get(&b->channels, session);
    if (!st) {
        st = sr_xcalloc(1, sizeof *st);
        sr_map_set(&b->channels, session, st);
    }
    st->wanted = true;
    if (b->redis.up && !st->subscribed_sent && !st->unsubscribe_in_flight)
        subscribe_now(b, session, st);
}

void sr_bus_unsubscribe(sr_bus *b, const char *session)
{
    channel_state *st = sr_map_get(&b->channels, session);
    if (!st) return;
    st->wanted = false;
    if (b->redis.up && st->subscribed_sent && !st->unsubscribe_in_flight) {
        char ch[400];
        channel_of(b, session, ch, sizeof ch);
        st->subscribed_sent = false;
        st->unsubscribe_in_flight = true;
        send_sub(b, "UNSUBSCRIBE", ch);
    } else if (!st->unsubscribe_in_flight) {
        sr_map_remove(&b->channels, session);
        free(st);
    }
}
