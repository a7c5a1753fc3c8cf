/* fuzz_dialect.c - every dialect's message handling, through the real core
 * (tests/fuzz/support/fuzz_node.c: Redis unreachable, frames dropped). The
 * first byte picks the WebSocket path (the dialect); the first record is the
 * upgrade's query ("k=v" arguments split at '&'); every further record
 * (separated by 0xFF) is one message, binary when it starts with 0xFE. A
 * second connection on the same path gets the same messages, so two sockets
 * that share state (a pairing, a session) meet. */
#include "fuzz_input.h"
#include "fuzz_node.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const paths[] = {"/", "/mirror", "/sync", "/ws", "/socket.io/"};

static void query_args(const char *s, size_t n, sr_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i] == '&' ? '\0' : s[i];
        sr_buf_append(out, &c, 1);
    }
    if (n) sr_buf_append(out, "", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sr_core *core = fuzz_node();
    fuzz_input in = fuzz_input_make(data, size);
    const sr_dialect *d = sr_dialect_for_path(paths[fuzz_byte(&in) % 5]);
    const char *s;
    size_t n;
    sr_buf args;
    sr_buf_init(&args);
    if (fuzz_record(&in, 0xFF, &s, &n)) query_args(s, n, &args);
    int t1, t2; /* transport handles: any non-NULL pointer */
    sr_conn *a = sr_conn_open(core, &t1, d, "192.0.2.1", args.data, args.len);
    sr_conn *b = sr_conn_open(core, &t2, d, "192.0.2.2", args.data, args.len);
    sr_buf_free(&args);
    while (fuzz_record(&in, 0xFF, &s, &n)) {
        bool binary = n && (uint8_t)s[0] == 0xFE;
        sr_conn_receive(a, s + binary, n - binary, binary);
        sr_conn_receive(b, s + binary, n - binary, binary);
        fuzz_node_settle();
    }
    sr_conn_closed(a);
    sr_conn_closed(b);
    fuzz_node_settle();
    return 0;
}
