/* store_eio.h - the Redis side of Engine.IO long-polling (core_poll.c): one
 * PUBLISH to a node's Engine.IO channel. No hiredis here. Core layer only. */
#ifndef SR_STORE_EIO_H
#define SR_STORE_EIO_H

#include "store.h"

/* delivered: at least one node got it (false: the node is gone, or Redis
 * did not answer). */
typedef void sr_store_eio_cb(bool delivered, void *arg);
/* PUBLISH msg on <prefix>chan:eio:<boot>; cb is called exactly once (at once
 * when Redis is down). */
void sr_store_eio_publish(sr_store *s, const char *boot, const char *msg, size_t len,
                          sr_store_eio_cb *cb, void *arg);

#endif
