/* store_op.h - calls bound to a connection or an HTTP request, for the store
 * files that answer a dialect (store_peersync.c, store_devicesync.c) and for
 * the core. Implemented in node/core/core_conn.c.
 *
 * May be included by: node/redis, node/core. */
#ifndef SR_STORE_OP_H
#define SR_STORE_OP_H

#include "http.h"
#include "store.h"

/* A call whose answer comes later holds a reference on the connection or
 * HTTP request it serves until it calls back, so the answer finds a valid
 * (maybe dead) object. This is the one place that pattern is written: take
 * an sr_op, pass it as the store call's argument, call the caller's callback
 * from the decoded reply, then sr_op_done. cb is the caller's typed callback
 * kept as a generic function pointer; the code that calls it casts it back. */
typedef void sr_fn(void);
#define SR_FN(f) ((sr_fn *)(f))
typedef struct sr_op {
    struct sr_op *next; /* in core->spare_ops */
    sr_core *core;
    sr_conn *c;     /* bound to a connection ... */
    sr_http_req *r; /* ... or to an HTTP request */
    sr_fn *cb;      /* may be NULL */
    void *arg;
} sr_op;
sr_op *sr_op_conn(sr_conn *c, sr_fn *cb, void *arg);
sr_op *sr_op_http(sr_http_req *r, sr_fn *cb, void *arg);
/* Drops the reference and frees op (once its callback has run). */
void sr_op_done(sr_op *op);

/* The node's store. */
sr_store *sr_core_store(const sr_core *core);
sr_store *sr_conn_store(const sr_conn *c);

#endif
