/* fake_store.h - an in-memory store and bus for the core's unit tests
 * (test-only): store.h, store_post.h and bus.h implemented over a few hashes
 * and lists, with the Lua scripts' rules for join, publish, history and
 * leave, so that the core links and runs without Redis.
 *
 * Nothing answers by itself: calls queue their replies, and publishes queue
 * their pub/sub messages, in the order Redis would send them; fake_run
 * delivers what is queued (a test can drop pub/sub messages first, to make a
 * gap, or turn the store "down" so calls fail at once). The device-sync and
 * peersync record calls are stubs that answer SR_ERR_UNAVAILABLE. */
#ifndef SR_FAKE_STORE_H
#define SR_FAKE_STORE_H

#include "bus.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

sr_store *fake_store_new(void);
void fake_store_free(sr_store *s);
/* Down: every call fails at once (SR_STORE_UNAVAILABLE), as with Redis away. */
void fake_store_set_up(sr_store *s, bool up);
/* The pub/sub messages published from now on are lost, n of them. */
void fake_bus_drop(sr_bus *b, int n);
/* Delivers what is queued (replies, pub/sub messages, subscription
 * confirmations), also what that queues in turn; returns how many. */
int fake_run(sr_store *s);
/* While held, history answers wait (live messages overtake them). */
void fake_hold_history(sr_store *s, bool hold);
/* The session's keys expire (its hash is emptied). */
void fake_expire(sr_store *s, const char *kind, const char *id);
/* Calls of sr_store_history so far. */
int fake_history_calls(const sr_store *s);
/* A session's hash field, or NULL ("kind", "id", field name). */
const char *fake_field(sr_store *s, const char *kind, const char *id, const char *name);
/* The bus the store publishes into (created by sr_bus_new). */
sr_bus *fake_bus(sr_store *s);

#endif
