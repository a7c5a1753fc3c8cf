/* fuzz_node.h - a node without sockets for the dialect and REST targets: the
 * real core, dialects and store, with Redis unreachable (every store call
 * fails at once, as when Redis is down) and a transport that drops frames. */
#ifndef SR_FUZZ_NODE_H
#define SR_FUZZ_NODE_H

#include "core.h"

/* The node, made on first use and kept for the whole run. */
sr_core *fuzz_node(void);
/* Runs what the event loop has ready (timers due, deferred callbacks). */
void fuzz_node_settle(void);
/* The last HTTP status the fake transport was given (0: none). */
unsigned fuzz_node_http_status(void);

#endif
