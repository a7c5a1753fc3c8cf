/* sr_socketio.c - Engine.IO 4 / Socket.IO 5 codec (see sr_socketio.h). The
 * packet layout follows the socket.io-protocol v5 and engine.io-protocol v4
 * documents; JSON is validated with sr_json and never re-encoded. */
#include "sr_socketio.h"

#include <stdbool.h>
#include <string.h>

const char *sr_sio_strerror(int err)
{
    switch (err) {
    case SR_SIO_OK:
        return "ok";
    case SR_SIO_ERR_EMPTY:
        return "empty packet";
    case SR_SIO_ERR_TYPE:
        return "unknown packet type";
    case SR_SIO_ERR_BINARY:
        return "binary packets are not supported";
    case SR_SIO_ERR_NAMESPACE:
        return "namespace too long or not text";
    case SR_SIO_ERR_ACK_ID:
        return "bad acknowledgement id";
    case SR_SIO_ERR_JSON:
        return "payload is not valid JSON";
    case SR_SIO_ERR_TOO_MANY:
        return "too many JSON members";
    case SR_SIO_ERR_TRAILING:
        return "unexpected bytes after the packet";
    case SR_SIO_ERR_PAYLOAD:
        return "payload of the wrong kind for this packet type";
    case SR_SIO_ERR_EVENT_NAME:
        return "event name missing, not a string or too long";
    case SR_SIO_ERR_VERSION:
        return "unsupported Engine.IO version (EIO=4 is required)";
    case SR_SIO_ERR_TRANSPORT:
        return "only the websocket transport is supported (use transports: ['websocket'])";
    case SR_SIO_ERR_QUERY:
        return "malformed query string";
    default:
        return "unknown error";
    }
}

/* ---- Engine.IO ---- */

#define EIO_MAX_PROBE 16

int sr_eio_parse(sr_eio_packet *out, const char *s, size_t n)
{
    if (n == 0) return SR_SIO_ERR_EMPTY;
    if (s[0] < '1' || s[0] > '6') return SR_SIO_ERR_TYPE; /* '0' OPEN is server-only */
    out->type = (enum sr_eio_type)(s[0] - '0');
    out->data = s + 1;
    out->len = n - 1;
    switch (out->type) {
    case SR_EIO_PING:
    case SR_EIO_PONG:
        return out->len <= EIO_MAX_PROBE ? SR_SIO_OK : SR_SIO_ERR_TRAILING;
    case SR_EIO_MESSAGE:
        return SR_SIO_OK;
    default:
        return out->len == 0 ? SR_SIO_OK : SR_SIO_ERR_TRAILING;
    }
}

void sr_eio_build_open(sr_buf *b, const char *sid, unsigned ping_interval_ms,
                       unsigned ping_timeout_ms, size_t max_payload)
{
    sr_buf_append_str(b, "0{\"sid\":");
    sr_buf_append_json_string(b, sid, strlen(sid));
    sr_buf_printf(b, ",\"upgrades\":[],\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%zu}",
                  ping_interval_ms, ping_timeout_ms, max_payload);
}

int sr_eio_heartbeat_tick(sr_eio_heartbeat *h, int max_missed)
{
    if (h->unanswered >= max_missed) return 0;
    h->unanswered++;
    return 1;
}

void sr_eio_heartbeat_pong(sr_eio_heartbeat *h)
{
    h->unanswered = 0;
}

/* ---- handshake query ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sr_url_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return SR_SIO_ERR_QUERY;
            c = (char)(hi * 16 + lo);
            if (c == '\0') return SR_SIO_ERR_QUERY; /* would truncate the C string */
            i += 2;
        }
        if (len + 1 >= cap) return SR_SIO_ERR_QUERY;
        out[len++] = c;
    }
    if (cap == 0) return SR_SIO_ERR_QUERY;
    out[len] = '\0';
    return (int)len;
}

int sr_eio_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > klen && p[klen] == '=' && memcmp(p, key, klen) == 0)
            return sr_url_decode(p + klen + 1, plen - klen - 1, out, cap);
        if (plen == klen && memcmp(p, key, klen) == 0) /* "key" without '=' */
            return sr_url_decode("", 0, out, cap);
        p += plen;
        if (*p == '&') p++;
    }
    return -1;
}

int sr_eio_query_check(const char *query)
{
    char v[32];
    int rc = sr_eio_query_get(query, "EIO", v, sizeof v);
    if (rc == SR_SIO_ERR_QUERY) return rc;
    if (rc < 0 || strcmp(v, "4") != 0) return SR_SIO_ERR_VERSION;
    rc = sr_eio_query_get(query, "transport", v, sizeof v);
    if (rc == SR_SIO_ERR_QUERY) return rc;
    if (rc < 0 || strcmp(v, "websocket") != 0) return SR_SIO_ERR_TRANSPORT;
    if (sr_eio_query_get(query, "sid", v, sizeof v) != -1) return SR_SIO_ERR_TRANSPORT;
    return SR_SIO_OK;
}

const char *sr_eio_args_get(const char *const *args, int n, const char *key)
{
    size_t klen = strlen(key);
    for (int i = 0; i < n; i++)
        if (strncmp(args[i], key, klen) == 0 && args[i][klen] == '=') return args[i] + klen + 1;
    return NULL;
}

int sr_eio_args_check(const char *const *args, int n)
{
    const char *v = sr_eio_args_get(args, n, "EIO");
    if (!v || strcmp(v, "4") != 0) return SR_SIO_ERR_VERSION;
    v = sr_eio_args_get(args, n, "transport");
    if (!v || strcmp(v, "websocket") != 0) return SR_SIO_ERR_TRANSPORT;
    if (sr_eio_args_get(args, n, "sid")) return SR_SIO_ERR_TRANSPORT;
    return SR_SIO_OK;
}

/* ---- Socket.IO ---- */

/* Reads the decimal ack id at s[*i..n). Returns 0 (id -1 when there is none)
 * or SR_SIO_ERR_ACK_ID when it exceeds SR_SIO_MAX_ACK_ID. */
static int parse_ack_id(const char *s, size_t n, size_t *i, long long *id)
{
    *id = -1;
    if (*i >= n || s[*i] < '0' || s[*i] > '9') return SR_SIO_OK;
    long long v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        if (v > SR_SIO_MAX_ACK_ID) return SR_SIO_ERR_ACK_ID; /* checked each digit: no overflow */
        (*i)++;
    }
    *id = v;
    return SR_SIO_OK;
}

static int parse_event(sr_sio_packet *out)
{
    if (out->data.type != SR_JSON_ARRAY) return SR_SIO_ERR_PAYLOAD;
    sr_json_span items[2];
    int count = sr_json_array_items(&out->data, items, 2);
    if (count < 1 || items[0].type != SR_JSON_STRING) return SR_SIO_ERR_EVENT_NAME;
    int len = sr_json_string(&items[0], out->event, sizeof out->event);
    if (len < 0 || strlen(out->event) != (size_t)len) return SR_SIO_ERR_EVENT_NAME; /* "\u0000" */
    out->argc = count - 1;
    if (count > 1) out->arg = items[1];
    return SR_SIO_OK;
}

int sr_sio_parse(sr_sio_packet *out, const char *s, size_t n)
{
    out->type = SR_SIO_CONNECT;
    out->nsp[0] = '\0';
    out->ack_id = -1;
    out->data = (sr_json_span){NULL, 0, SR_JSON_NONE};
    out->event[0] = '\0';
    out->argc = 0;
    out->arg = out->data;
    if (n == 0) return SR_SIO_ERR_EMPTY;
    if (s[0] < '0' || s[0] > '6') return SR_SIO_ERR_TYPE;
    out->type = (enum sr_sio_type)(s[0] - '0');
    if (out->type == SR_SIO_BINARY_EVENT || out->type == SR_SIO_BINARY_ACK)
        return SR_SIO_ERR_BINARY;

    size_t i = 1;
    if (i < n && s[i] == '/') {
        const char *comma = memchr(s + i, ',', n - i);
        size_t end = comma ? (size_t)(comma - s) : n;
        if (end - i > SR_SIO_MAX_NSP || memchr(s + i, '\0', end - i)) return SR_SIO_ERR_NAMESPACE;
        memcpy(out->nsp, s + i, end - i);
        out->nsp[end - i] = '\0';
        i = comma ? end + 1 : end;
    } else {
        strcpy(out->nsp, "/");
    }

    int rc = parse_ack_id(s, n, &i, &out->ack_id);
    if (rc < 0) return rc;

    if (i < n) {
        long used = sr_json_scan(&out->data, s + i, n - i);
        if (used == SR_JSON_TOO_MANY) return SR_SIO_ERR_TOO_MANY;
        if (used < 0) return SR_SIO_ERR_JSON;
        if ((size_t)used != n - i) return SR_SIO_ERR_TRAILING;
    }

    bool has_ack = out->ack_id >= 0;
    enum sr_json_type t = out->data.type;
    switch (out->type) {
    case SR_SIO_CONNECT:
        if (has_ack) return SR_SIO_ERR_ACK_ID;
        return t == SR_JSON_NONE || t == SR_JSON_OBJECT ? SR_SIO_OK : SR_SIO_ERR_PAYLOAD;
    case SR_SIO_DISCONNECT:
        if (has_ack) return SR_SIO_ERR_ACK_ID;
        return t == SR_JSON_NONE ? SR_SIO_OK : SR_SIO_ERR_PAYLOAD;
    case SR_SIO_CONNECT_ERROR:
        if (has_ack) return SR_SIO_ERR_ACK_ID;
        return t == SR_JSON_OBJECT || t == SR_JSON_STRING ? SR_SIO_OK : SR_SIO_ERR_PAYLOAD;
    case SR_SIO_EVENT:
        return parse_event(out);
    case SR_SIO_ACK:
        if (!has_ack) return SR_SIO_ERR_ACK_ID;
        return t == SR_JSON_ARRAY ? SR_SIO_OK : SR_SIO_ERR_PAYLOAD;
    default:
        return SR_SIO_ERR_TYPE;
    }
}

static void append_header(sr_buf *b, enum sr_sio_type type, const char *nsp, long long ack_id)
{
    char head[2] = {'4', (char)('0' + type)};
    sr_buf_append(b, head, 2);
    if (nsp && strcmp(nsp, "/") != 0) {
        sr_buf_append_str(b, nsp);
        sr_buf_append(b, ",", 1);
    }
    if (ack_id >= 0) sr_buf_printf(b, "%lld", ack_id);
}

void sr_sio_build_connect(sr_buf *b, const char *nsp, const char *sid)
{
    append_header(b, SR_SIO_CONNECT, nsp, -1);
    sr_buf_append_str(b, "{\"sid\":");
    sr_buf_append_json_string(b, sid, strlen(sid));
    sr_buf_append(b, "}", 1);
}

void sr_sio_build_connect_error(sr_buf *b, const char *nsp, const char *message)
{
    append_header(b, SR_SIO_CONNECT_ERROR, nsp, -1);
    sr_buf_append_str(b, "{\"message\":");
    sr_buf_append_json_string(b, message, strlen(message));
    sr_buf_append(b, "}", 1);
}

void sr_sio_build_disconnect(sr_buf *b, const char *nsp)
{
    append_header(b, SR_SIO_DISCONNECT, nsp, -1);
}

void sr_sio_event_begin(sr_buf *b, const char *nsp, long long ack_id, const char *event)
{
    append_header(b, SR_SIO_EVENT, nsp, ack_id);
    sr_buf_append(b, "[", 1);
    sr_buf_append_json_string(b, event, strlen(event));
}

void sr_sio_event_end(sr_buf *b)
{
    sr_buf_append(b, "]", 1);
}

void sr_sio_build_event(sr_buf *b, const char *nsp, long long ack_id, const char *event,
                        const char *args, size_t args_len)
{
    sr_sio_event_begin(b, nsp, ack_id, event);
    if (args && args_len) {
        sr_buf_append(b, ",", 1);
        sr_buf_append(b, args, args_len);
    }
    sr_sio_event_end(b);
}

void sr_sio_build_ack(sr_buf *b, const char *nsp, long long ack_id, const char *args,
                      size_t args_len)
{
    append_header(b, SR_SIO_ACK, nsp, ack_id);
    sr_buf_append(b, "[", 1);
    if (args && args_len) sr_buf_append(b, args, args_len);
    sr_buf_append(b, "]", 1);
}
