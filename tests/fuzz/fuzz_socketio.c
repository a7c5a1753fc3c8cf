/* fuzz_socketio.c - the Engine.IO / Socket.IO codec (shared/sr_socketio.c) on
 * arbitrary bytes: a text frame through sr_eio_parse and, for a MESSAGE,
 * sr_sio_parse; the same bytes as a raw handshake query, as decoded query
 * arguments and as percent-encoded text. A parsed EVENT is built again and
 * must parse back to the same namespace, ack id, name and argument count. */
#include "sr_socketio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static void event_round_trip(const sr_sio_packet *p)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_json_span items[1];
    int n = sr_json_array_items(&p->data, items, 1);
    CHECK(n == p->argc + 1);
    /* the arguments: the array's text after its first element */
    const char *args = NULL;
    size_t args_len = 0;
    if (p->argc > 0) {
        args = p->arg.p;
        args_len = (size_t)(p->data.p + p->data.n - 1 - args);
        while (args_len && strchr(" \t\r\n", args[args_len - 1]))
            args_len--;
    }
    sr_sio_build_event(&b, p->nsp, p->ack_id, p->event, args, args_len);
    sr_eio_packet e;
    CHECK(sr_eio_parse(&e, b.data, b.len) == SR_SIO_OK && e.type == SR_EIO_MESSAGE);
    sr_sio_packet q;
    CHECK(sr_sio_parse(&q, e.data, e.len) == SR_SIO_OK);
    CHECK(q.type == SR_SIO_EVENT && q.ack_id == p->ack_id && q.argc == p->argc);
    CHECK(!strcmp(q.nsp, p->nsp) && !strcmp(q.event, p->event));
    sr_buf_free(&b);
}

static void frame(const char *s, size_t n)
{
    sr_eio_packet e;
    int rc = sr_eio_parse(&e, s, n);
    CHECK(rc <= 0 && sr_sio_strerror(rc) != NULL);
    if (rc != SR_SIO_OK || e.type != SR_EIO_MESSAGE) return;
    CHECK(e.data >= s && e.data + e.len <= s + n);
    sr_sio_packet p;
    rc = sr_sio_parse(&p, e.data, e.len);
    CHECK(rc <= 0 && sr_sio_strerror(rc) != NULL);
    if (rc != SR_SIO_OK) return;
    CHECK(p.nsp[0] == '/' && strlen(p.nsp) <= SR_SIO_MAX_NSP);
    CHECK(p.ack_id >= -1 && p.ack_id <= SR_SIO_MAX_ACK_ID);
    if (p.type == SR_SIO_EVENT) event_round_trip(&p);
}

static void query(const char *q, size_t n)
{
    char out[256];
    sr_eio_query_check(q);
    static const char *const keys[] = {"EIO", "transport", "sid", "deviceInfo", "token", ""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int rc = sr_eio_query_get(q, keys[i], out, sizeof out);
        if (rc >= 0) CHECK((size_t)rc < sizeof out && out[rc] == '\0' && strlen(out) == (size_t)rc);
    }
    int rc = sr_url_decode(q, n, out, sizeof out);
    if (rc >= 0) CHECK((size_t)rc <= n && out[rc] == '\0');
    sr_url_decode(q, n, out, 1);

    /* the same text as lws hands it over: split on '&' */
    char copy[1024];
    const char *args[16];
    int nargs = 0;
    if (n >= sizeof copy) return;
    memcpy(copy, q, n + 1);
    for (char *save = NULL, *a = strtok_r(copy, "&", &save); a && nargs < 16;
         a = strtok_r(NULL, "&", &save))
        args[nargs++] = a;
    sr_eio_args_check(args, nargs);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        sr_eio_args_get(args, nargs, keys[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    frame((const char *)data, size);
    char *q = malloc(size + 1);
    memcpy(q, data, size);
    q[size] = '\0';
    query(q, strlen(q));
    free(q);
    return 0;
}
