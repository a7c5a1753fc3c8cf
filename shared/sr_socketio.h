/* sr_socketio.h - Engine.IO 4 / Socket.IO 5 packet codec for the WebSocket
 * transport only. No I/O, no allocation when parsing: a parsed packet points
 * into the frame it came from. Builders append one whole WebSocket text frame
 * (Engine.IO prefix included) to a caller-owned sr_buf, so a dialect reuses one
 * buffer and splices already-valid JSON spans instead of re-encoding them.
 *
 * Wire shape (one Engine.IO packet per WebSocket text frame):
 *   <eio type digit><data>                     e.g. "2" ping, "3" pong, "4..." message
 *   4<sio type>[<namespace>,][<ack id>][json]  e.g. 42["ev",{..}], 42/admin,7["ev"]
 * Binary frames and BINARY_EVENT / BINARY_ACK are not supported: they are
 * recognized so the caller can refuse them with a clear error. */
#ifndef SR_SOCKETIO_H
#define SR_SOCKETIO_H

#include <stddef.h>

#include "sr_buf.h"
#include "sr_json.h"

/* Every parse error of this module; 0 is success. sr_sio_strerror names them. */
enum sr_sio_error {
    SR_SIO_OK = 0,
    SR_SIO_ERR_EMPTY = -1,  /* no packet type at all */
    SR_SIO_ERR_TYPE = -2,   /* unknown Engine.IO or Socket.IO type, or one a client never sends */
    SR_SIO_ERR_BINARY = -3, /* BINARY_EVENT / BINARY_ACK: not supported */
    SR_SIO_ERR_NAMESPACE = -4,  /* namespace too long or holding a NUL byte */
    SR_SIO_ERR_ACK_ID = -5,     /* ack id too large, missing on an ACK, or on a type without one */
    SR_SIO_ERR_JSON = -6,       /* payload is not valid JSON */
    SR_SIO_ERR_TRAILING = -7,   /* valid packet followed by extra bytes */
    SR_SIO_ERR_PAYLOAD = -8,    /* JSON of the wrong kind: EVENT/ACK not an array, CONNECT not an
                                   object, DISCONNECT with a payload, EVENT without one */
    SR_SIO_ERR_EVENT_NAME = -9, /* EVENT array empty, first element not a string, too long, or
                                   not text (lone surrogate, NUL) */
    SR_SIO_ERR_VERSION = -10,   /* handshake query without EIO=4 */
    SR_SIO_ERR_TRANSPORT = -11, /* handshake query not transport=websocket, or with a sid */
    SR_SIO_ERR_QUERY = -12,     /* malformed query string or percent-encoding */
    SR_SIO_ERR_TOO_MANY = -13,  /* payload over the JSON member limit (SR_JSON_TOO_MANY) */
};

/* A short English description of err ("ack id out of range"), for logs and for
 * the text of an error event. */
const char *sr_sio_strerror(int err);

/* ---- Engine.IO 4 ---- */

enum sr_eio_type {
    SR_EIO_OPEN = 0,
    SR_EIO_CLOSE = 1,
    SR_EIO_PING = 2,
    SR_EIO_PONG = 3,
    SR_EIO_MESSAGE = 4,
    SR_EIO_UPGRADE = 5,
    SR_EIO_NOOP = 6,
};

typedef struct sr_eio_packet {
    enum sr_eio_type type;
    const char *data; /* the bytes after the type digit (into the frame) */
    size_t len;
} sr_eio_packet;

/* Parses one text frame from a client. OPEN is refused (SR_SIO_ERR_TYPE): only
 * servers send it. CLOSE, UPGRADE and NOOP carry no data (SR_SIO_ERR_TRAILING);
 * PING/PONG may carry a short probe string ("3probe"), MESSAGE anything. In EIO 4
 * the server pings ("2") and the client answers "3"; a client PING is legal only
 * as "2probe" during an upgrade, which a websocket-only server never starts. */
int sr_eio_parse(sr_eio_packet *out, const char *s, size_t n);

/* The frames the server sends as they are. */
#define SR_EIO_FRAME_PING "2"
#define SR_EIO_FRAME_CLOSE "1"

/* Appends the OPEN frame:
 * 0{"sid":"..","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
 * sid must be URL- and JSON-safe (the caller makes it from [A-Za-z0-9_-]). */
void sr_eio_build_open(sr_buf *b, const char *sid, unsigned ping_interval_ms,
                       unsigned ping_timeout_ms, size_t max_payload);

/* EIO 4 heartbeat, server side: every pingInterval the server sends "2"; the
 * client answers "3". The client itself gives up when no ping arrives within
 * pingInterval + pingTimeout, so the server must keep pinging even when the
 * socket is busy. This counter is the server's half: call tick from the
 * connection's pingInterval timer (send SR_EIO_FRAME_PING when it returns 1,
 * close the socket when it returns 0) and pong for every PONG packet. */
typedef struct sr_eio_heartbeat {
    int unanswered; /* pings sent since the last pong */
} sr_eio_heartbeat;

/* Returns 1 (send a ping now) or 0 (max_missed pings went unanswered: close). */
int sr_eio_heartbeat_tick(sr_eio_heartbeat *h, int max_missed);
void sr_eio_heartbeat_pong(sr_eio_heartbeat *h);

/* ---- Handshake query (the part after '?' of GET /socket.io/?EIO=4&...) ---- */

/* Checks EIO=4 (else SR_SIO_ERR_VERSION), transport=websocket (polling or a
 * missing transport -> SR_SIO_ERR_TRANSPORT) and no sid (an upgrade of a polling
 * session, which this server never creates -> SR_SIO_ERR_TRANSPORT). query is
 * raw (percent-encoded), NUL-terminated, without the '?'. */
int sr_eio_query_check(const char *query);
/* Finds key in the raw query and percent-decodes its value ('+' is a space, as
 * python's urlencode writes it) into out, NUL-terminated. Returns the decoded
 * length; -1 when the key is absent; SR_SIO_ERR_QUERY when the value is badly
 * encoded, decodes to a NUL byte, or does not fit in cap-1 bytes. */
int sr_eio_query_get(const char *query, const char *key, char *out, size_t cap);
/* Percent-decodes s[0..n) into out (same rules). Returns the length or SR_SIO_ERR_QUERY. */
int sr_url_decode(const char *s, size_t n, char *out, size_t cap);

/* The same checks on a query the HTTP layer has already split and decoded, one
 * "key=value" string per argument. This is the form libwebsockets hands over
 * (lws_hdr_copy_fragment on WSI_TOKEN_HTTP_URI_ARGS: split on '&', %xx and '+'
 * decoded), and the one to use there: decoding such text again would corrupt
 * values that contain '%' or '+'. */
int sr_eio_args_check(const char *const *args, int n);
/* The value of key among decoded args ("deviceInfo" -> "{...}"), or NULL. */
const char *sr_eio_args_get(const char *const *args, int n, const char *key);

/* ---- Socket.IO 5 (inside Engine.IO MESSAGE packets) ---- */

enum sr_sio_type {
    SR_SIO_CONNECT = 0,
    SR_SIO_DISCONNECT = 1,
    SR_SIO_EVENT = 2,
    SR_SIO_ACK = 3,
    SR_SIO_CONNECT_ERROR = 4,
    SR_SIO_BINARY_EVENT = 5,
    SR_SIO_BINARY_ACK = 6,
};

#define SR_SIO_MAX_NSP 128   /* bytes of a namespace, '/' included */
#define SR_SIO_MAX_EVENT 128 /* bytes of a decoded event name */
/* Ack ids are JavaScript numbers: anything above 2^53-1 could not be echoed exactly. */
#define SR_SIO_MAX_ACK_ID 9007199254740991LL

typedef struct sr_sio_packet {
    enum sr_sio_type type;
    char nsp[SR_SIO_MAX_NSP + 1]; /* "/" when the packet names none */
    long long ack_id;             /* -1 when absent; 0..SR_SIO_MAX_ACK_ID otherwise */
    sr_json_span data;            /* the whole JSON payload; type SR_JSON_NONE when absent */
    /* EVENT only: */
    char event[SR_SIO_MAX_EVENT + 1]; /* the name (first array element), unescaped */
    int argc;                         /* arguments after the name */
    sr_json_span arg;                 /* the first of them; SR_JSON_NONE when argc == 0 */
} sr_sio_packet;

/* Parses the data of an Engine.IO MESSAGE packet (the bytes after the '4').
 * Strict, as the reference parser's validity rules:
 *   CONNECT       payload absent or an object (the auth object), no ack id
 *   DISCONNECT    no payload, no ack id
 *   EVENT         a non-empty array whose first element is a string; ack id optional
 *   ACK           an array (possibly empty); ack id required
 *   CONNECT_ERROR an object or a string (accepted for symmetry; clients never send it)
 *   BINARY_*      SR_SIO_ERR_BINARY
 * A namespace starts with '/' and ends at ',' (or at the end of the packet). */
int sr_sio_parse(sr_sio_packet *out, const char *s, size_t n);

/* Builders. Each appends one complete frame: "4" + Socket.IO packet. nsp NULL
 * or "/" is the main namespace (omitted on the wire); a namespace must not
 * contain ',' (parsed ones never do). ack_id < 0 means none. */

/* 40{"sid":"..."} : the answer to CONNECT. */
void sr_sio_build_connect(sr_buf *b, const char *nsp, const char *sid);
/* 44{"message":"..."} : connection refused (message is JSON-escaped here). */
void sr_sio_build_connect_error(sr_buf *b, const char *nsp, const char *message);
/* 41 : the server ends the namespace connection. */
void sr_sio_build_disconnect(sr_buf *b, const char *nsp);
/* 42["event",<args>] or 42/nsp,<ack_id>["event",<args>]. args is JSON text of
 * the arguments after the name, comma-separated without brackets (`{"a":1}` or
 * `{"a":1},2`), spliced as is; NULL/0 for none. */
void sr_sio_build_event(sr_buf *b, const char *nsp, long long ack_id, const char *event,
                        const char *args, size_t args_len);
/* 43<ack_id>[<args>] : the answer to an EVENT that carried ack_id (>= 0). */
void sr_sio_build_ack(sr_buf *b, const char *nsp, long long ack_id, const char *args,
                      size_t args_len);

/* Piecewise EVENT building for splicing: begin writes `42[nsp,][id]["event"`,
 * the caller appends `,` + each argument's JSON, end writes `]`. */
void sr_sio_event_begin(sr_buf *b, const char *nsp, long long ack_id, const char *event);
void sr_sio_event_end(sr_buf *b);

#endif
