/* sr_eio_polling.c - Engine.IO 4 long-polling payloads and errors (see the header). */
#include "sr_eio_polling.h"
#include "sr_socketio.h"

#include <string.h>

const char *sr_eio_error_body(enum sr_eio_http_error code)
{
    switch (code) {
    case SR_EIO_UNKNOWN_TRANSPORT:
        return "{\"code\":0,\"message\":\"Transport unknown\"}";
    case SR_EIO_UNKNOWN_SID:
        return "{\"code\":1,\"message\":\"Session ID unknown\"}";
    case SR_EIO_BAD_HANDSHAKE_METHOD:
        return "{\"code\":2,\"message\":\"Bad handshake method\"}";
    case SR_EIO_FORBIDDEN:
        return "{\"code\":4,\"message\":\"Forbidden\"}";
    case SR_EIO_UNSUPPORTED_PROTOCOL_VERSION:
        return "{\"code\":5,\"message\":\"Unsupported protocol version\"}";
    case SR_EIO_BAD_REQUEST:
    default:
        return "{\"code\":3,\"message\":\"Bad request\"}";
    }
}

static int fail(enum sr_eio_http_error *err, enum sr_eio_http_error code)
{
    *err = code;
    return -1;
}

int sr_eio_request_parse(const char *query, sr_eio_request *out, enum sr_eio_http_error *err)
{
    char v[32];
    memset(out, 0, sizeof *out);
    int rc = sr_eio_query_get(query, "EIO", v, sizeof v);
    if (rc == SR_SIO_ERR_QUERY) return fail(err, SR_EIO_BAD_REQUEST);
    if (rc < 0 || strcmp(v, "4") != 0) return fail(err, SR_EIO_UNSUPPORTED_PROTOCOL_VERSION);
    rc = sr_eio_query_get(query, "transport", v, sizeof v);
    if (rc == SR_SIO_ERR_QUERY) return fail(err, SR_EIO_BAD_REQUEST);
    if (rc < 0 || (strcmp(v, "polling") != 0 && strcmp(v, "websocket") != 0))
        return fail(err, SR_EIO_UNKNOWN_TRANSPORT);
    out->polling = !strcmp(v, "polling");
    rc = sr_eio_query_get(query, "sid", out->sid, sizeof out->sid);
    if (rc == SR_SIO_ERR_QUERY) return fail(err, SR_EIO_UNKNOWN_SID); /* too long, bad encoding */
    if (rc < 0) out->sid[0] = '\0';
    return 0;
}

int sr_eio_query_args(const char *query, sr_buf *out)
{
    char arg[4096];
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n) {
            size_t klen = eq ? (size_t)(eq - p) : n;
            int k = sr_url_decode(p, klen, arg, sizeof arg);
            if (k < 0) return -1;
            int v = sr_url_decode(eq ? eq + 1 : "", eq ? n - klen - 1 : 0, arg + k + 1,
                                  sizeof arg - (size_t)k - 1);
            if (v < 0) return -1;
            arg[k] = '=';
            sr_buf_append(out, arg, (size_t)k + 1 + (size_t)v);
            sr_buf_append(out, "", 1);
        }
        p += n;
        if (*p == '&') p++;
    }
    return 0;
}

int sr_eio_payload_next(const char *p, size_t n, size_t *at, const char **pkt, size_t *len)
{
    if (*at > n) return 0;
    const char *start = p + *at;
    const char *sep = memchr(start, SR_EIO_SEPARATOR, n - *at);
    size_t l = sep ? (size_t)(sep - start) : n - *at;
    if (l == 0) return -1;
    *pkt = start;
    *len = l;
    *at += l + 1; /* past the separator; past n + 1 after the last packet */
    return 1;
}

void sr_eio_payload_append(sr_buf *b, const char *pkt, size_t len)
{
    if (b->len) sr_buf_append(b, "\x1e", 1);
    sr_buf_append(b, pkt, len);
}

void sr_eio_build_open_polling(sr_buf *b, const char *sid, unsigned ping_interval_ms,
                               unsigned ping_timeout_ms, size_t max_payload)
{
    sr_buf_append_str(b, "0{\"sid\":");
    sr_buf_append_json_string(b, sid, strlen(sid));
    sr_buf_printf(b,
                  ",\"upgrades\":[\"websocket\"],\"pingInterval\":%u,\"pingTimeout\":%u,"
                  "\"maxPayload\":%zu}",
                  ping_interval_ms, ping_timeout_ms, max_payload);
}
