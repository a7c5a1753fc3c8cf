/* embedded_redis.h - a private redis-server child for a node started without
 * REDIS_URL: unix socket in a private temp dir, no persistence, dies with us. */
#ifndef SR_EMBEDDED_REDIS_H
#define SR_EMBEDDED_REDIS_H

#include "config.h"

typedef struct sr_embedded_redis sr_embedded_redis;

/* Starts redis-server and points t at it. Returns NULL with a message in err. */
sr_embedded_redis *sr_embedded_redis_start(sr_redis_target *t, char *err, size_t errlen);
void sr_embedded_redis_stop(sr_embedded_redis *r);

#endif
