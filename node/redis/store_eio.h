/* store_eio.h - the Redis side of Engine.IO long-polling (core_poll.c): one
 * PUBLISH to a node's Engine.IO channel. No hiredis here. */
#ifndef SR_STORE_EIO_H
#define SR_STORE_EIO_H

#include "store.h"

/* PUBLISH msg on <prefix>chan:eio:<boot>. Reply: the number of nodes that
 * got it (0: the node is gone), or NULL when Redis is unreachable. Returns 0,
 * or -1 without calling cb when Redis is down. */
int sr_store_eio_publish(sr_store *s, const char *boot, const char *msg, size_t len,
                         sr_store_cb *cb, void *privdata);

#endif
