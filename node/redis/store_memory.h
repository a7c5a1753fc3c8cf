/* store_memory.h - what the node needs Redis to keep: accounts, device
 * records and device-sync state have no TTL, so an eviction policy that may
 * drop keys without one would lose them. No hiredis here. */
#ifndef SR_STORE_MEMORY_H
#define SR_STORE_MEMORY_H

#include "store.h"

/* Reads Redis' maxmemory-policy (CONFIG GET) and logs a warning when it could
 * evict keys that must last. Asynchronous; a Redis that refuses CONFIG (a
 * managed service) gets a note in the log instead. */
void sr_store_check_eviction(sr_store *s);

#endif
