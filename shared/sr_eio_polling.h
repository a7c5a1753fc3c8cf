/* sr_eio_polling.h - the Engine.IO 4 HTTP long-polling transport's wire
 * format, without I/O: payloads (packets joined by the record separator
 * 0x1e), the handshake query of a polling request, and the HTTP error bodies
 * Engine.IO servers answer bad requests with.
 *
 *   GET  /socket.io/?EIO=4&transport=polling            handshake: "0{...}"
 *   GET  /socket.io/?EIO=4&transport=polling&sid=S      long poll: a payload
 *   POST /socket.io/?EIO=4&transport=polling&sid=S      a payload -> "ok"
 *   GET  /socket.io/?EIO=4&transport=websocket&sid=S    upgrade ("2probe",
 *                                                       "3probe", "5") */
#ifndef SR_EIO_POLLING_H
#define SR_EIO_POLLING_H

#include "sr_buf.h"

#include <stdbool.h>
#include <stddef.h>

#define SR_EIO_SEPARATOR '\x1e'

/* Engine.IO's error codes (the JSON body of its HTTP 400s). */
enum sr_eio_http_error {
    SR_EIO_UNKNOWN_TRANSPORT = 0,
    SR_EIO_UNKNOWN_SID = 1,
    SR_EIO_BAD_HANDSHAKE_METHOD = 2,
    SR_EIO_BAD_REQUEST = 3,
    SR_EIO_FORBIDDEN = 4,
    SR_EIO_UNSUPPORTED_PROTOCOL_VERSION = 5,
};

/* {"code":N,"message":"..."}, as Engine.IO words it. */
const char *sr_eio_error_body(enum sr_eio_http_error code);

/* What a request to /socket.io/ asks for (from its raw query). */
typedef struct sr_eio_request {
    bool polling; /* transport=polling (else websocket) */
    char sid[32]; /* empty: a handshake */
} sr_eio_request;

/* Reads EIO, transport and sid. Returns 0, or -1 with *err the error to
 * answer with: a version other than 4, an unknown transport, a malformed query. */
int sr_eio_request_parse(const char *query, sr_eio_request *out, enum sr_eio_http_error *err);

/* Splits a raw query into "name=value\0" pairs, decoded (as the WebSocket side
 * gets them from libwebsockets). Returns 0, or -1 when an argument is badly
 * encoded. */
int sr_eio_query_args(const char *query, sr_buf *out);

/* Iterates the packets of a payload: *at starts at 0; each call stores the
 * next packet's span and returns 1, then 0 at the end. An empty packet (two
 * separators in a row, a leading or trailing one, an empty payload) returns -1. */
int sr_eio_payload_next(const char *p, size_t n, size_t *at, const char **pkt, size_t *len);

/* Appends the OPEN packet of a session that may upgrade to WebSocket:
 * 0{"sid":..,"upgrades":["websocket"],"pingInterval":..,"pingTimeout":..,"maxPayload":..} */
void sr_eio_build_open_polling(sr_buf *b, const char *sid, unsigned ping_interval_ms,
                               unsigned ping_timeout_ms, size_t max_payload);

/* Appends pkt to payload b, with a separator when b holds a packet already. */
void sr_eio_payload_append(sr_buf *b, const char *pkt, size_t len);

#endif
