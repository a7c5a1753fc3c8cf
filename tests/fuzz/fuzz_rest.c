/* fuzz_rest.c - the REST endpoints of the node and of every dialect (bodies,
 * query strings, Authorization headers), through sr_http_dispatch of the real
 * core (tests/fuzz/support/fuzz_node.c). Records separated by 0xFF: method,
 * path, query, Authorization, then the body (the rest). The core must answer
 * every request, at once here since Redis is unreachable. */
#include "fuzz_input.h"
#include "fuzz_node.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sr_core *core = fuzz_node();
    fuzz_input in = fuzz_input_make(data, size);
    int handle;
    sr_http_req *r = sr_xcalloc(1, sizeof *r);
    r->core = core;
    r->transport = &handle;
    r->refs = 1;
    sr_buf_init(&r->body);
    fuzz_cstr(&in, 0xFF, r->method, sizeof r->method);
    fuzz_cstr(&in, 0xFF, r->path, sizeof r->path);
    fuzz_cstr(&in, 0xFF, r->query, sizeof r->query);
    fuzz_cstr(&in, 0xFF, r->authorization, sizeof r->authorization);
    snprintf(r->ip, sizeof r->ip, "192.0.2.3");
    if (in.p < in.end) sr_buf_append(&r->body, in.p, (size_t)(in.end - in.p));
    sr_http_dispatch(r);
    fuzz_node_settle();
    if (!r->answered) abort(); /* every request gets an answer */
    fuzz_node_http_status();
    r->transport = NULL;
    sr_http_unref(r);
    return 0;
}
