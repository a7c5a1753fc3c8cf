/* core_limits.h - the core's side of the client limits (client_limits.h): per-IP
 * counts, the per-connection bucket, the refusal counters. */
#ifndef SR_CORE_LIMITS_H
#define SR_CORE_LIMITS_H

#include "client_limits.h"
#include "sr_buf.h"
#include "sr_map.h"

#include <stdbool.h>
#include <stdint.h>

/* Per connection. */
typedef struct sr_conn_budget {
    uint64_t millitokens; /* the bucket, in thousandths of a message */
    uint64_t refill_ms;   /* when it was last filled (monotonic) */
    bool pending;         /* counted as unauthenticated against its IP */
    bool counted;         /* counted against its IP at all */
    bool refused;         /* over a limit: closing, and what it still sends is dropped */
} sr_conn_budget;

/* Per node. */
typedef struct sr_core_limits {
    sr_map ips; /* client IP -> its counts (sr_ip_use, core_limits.c) */
    uint64_t hits[SR_LIMIT_KINDS];
} sr_core_limits;

void sr_limits_init(sr_core_limits *l);
void sr_limits_free(sr_core_limits *l);
void sr_limits_metrics_text(const struct sr_core *core, sr_buf *out);
/* A new socket: counted against its IP, refused when the IP is over a limit. */
void sr_limits_conn_open(struct sr_conn *c);
void sr_limits_conn_closed(struct sr_conn *c);
/* One message from c: false when it must be dropped (its bucket is empty, and
 * c is then refused, or it was refused before: a flood that goes on until the
 * client answers the close frame is not relayed). */
bool sr_limits_message(struct sr_conn *c);

#endif
