/* core_op.c - sr_op (store_op.h): a call bound to a connection or an HTTP
 * request, holding a reference on it until its callback has run. */
#include "core_internal.h"

#include <stdlib.h>

/* Every publish takes one, and they come back in bursts of as many as are in
 * flight: more than malloc's per-thread cache keeps, so they are recycled
 * here (callgrind: 1 % of a relayed message's instructions). Not under
 * AddressSanitizer, which can then catch an op used after its callback. */
#if defined(__SANITIZE_ADDRESS__)
#define SR_SPARE_OPS_MAX 0u
#else
#define SR_SPARE_OPS_MAX 4096u
#endif

static sr_op *op_new(sr_core *core)
{
    sr_op *op = core->spare_ops;
    if (!op) return sr_xmalloc(sizeof *op);
    core->spare_ops = op->next;
    core->nspare_ops--;
    return op;
}

sr_op *sr_op_conn(sr_conn *c, sr_fn *cb, void *arg)
{
    sr_op *op = op_new(c->core);
    *op = (sr_op){.core = c->core, .c = c, .cb = cb, .arg = arg};
    sr_conn_ref(c);
    return op;
}

sr_op *sr_op_http(sr_http_req *r, sr_fn *cb, void *arg)
{
    sr_op *op = op_new(r->core);
    *op = (sr_op){.core = r->core, .r = r, .cb = cb, .arg = arg};
    sr_http_ref(r);
    return op;
}

void sr_op_done(sr_op *op)
{
    sr_core *core = op->core;
    if (op->c) sr_conn_unref(op->c);
    if (op->r) sr_http_unref(op->r);
    if (SR_SPARE_OPS_MAX == 0 || core->nspare_ops == SR_SPARE_OPS_MAX) {
        free(op);
        return;
    }
    op->next = core->spare_ops;
    core->spare_ops = op;
    core->nspare_ops++;
}
