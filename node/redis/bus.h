/* bus.h - the subscriber side of Redis pub/sub: one channel per session that
 * has members on this node. Implemented over hiredis in bus_redis.c.
 *
 * Pub/sub is at-most-once: after the subscriber connection is re-established
 * the bus calls reset so the core can fetch what it may have missed.
 *
 * May be included by: node/core, node/redis, main.c. */
#ifndef SR_BUS_H
#define SR_BUS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
typedef struct sr_bus sr_bus;

typedef struct sr_bus_hooks {
    /* session is "<kind>:{<id>}", not NUL-terminated */
    void (*message)(void *privdata, const char *session, size_t session_len, const char *data,
                    size_t len);
    /* the subscription to session (NUL-terminated) is active */
    void (*subscribed)(void *privdata, const char *session);
    /* the connection came back and every channel was subscribed again */
    void (*reset)(void *privdata);
    void *privdata;
    /* another node process just joined the cluster (its first heartbeat told
     * this node's own channel): beat now, so the live list holds it at once */
    void (*node_joined)(void *privdata);
} sr_bus_hooks;

sr_bus *sr_bus_new(struct event_base *base, const sr_config *cfg, const sr_bus_hooks *hooks);
void sr_bus_free(sr_bus *b);
bool sr_bus_up(const sr_bus *b);
/* session is "<kind>:{<id>}". Subscribing twice is the caller's bug. */
void sr_bus_subscribe(sr_bus *b, const char *session);
void sr_bus_unsubscribe(sr_bus *b, const char *session);

#endif
