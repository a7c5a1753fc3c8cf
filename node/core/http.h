/* http.h - an HTTP request as the transport hands it to the core and the core
 * to a dialect's REST endpoints (sr_dialect.http), and the answer.
 *
 * May be included by: node/transport, node/dialects, node/core, node/redis. */
#ifndef SR_HTTP_H
#define SR_HTTP_H

#include "conn.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct sr_http_req sr_http_req;
struct sr_http_req {
    sr_core *core;
    void *transport; /* NULL once the client went away: responding does nothing */
    unsigned refs;   /* the transport holds one; take one to answer later */
    char method[8];
    char path[256];   /* without the query string */
    char query[4096]; /* after '?', may be empty */
    char authorization[1024];
    char accept[256]; /* the Accept header (cut), empty on an Upgrade request */
    char ip[64];
    sr_buf body;
    bool answered;
    bool cors; /* answer with Access-Control-Allow-* (not for the admin API) */
    /* more answer headers: static {name, value, ..., NULL} (the web pages' policy) */
    const char *const *headers;
};
/* Transport -> core: a complete request. The core always answers it (404
 * included), at once or after a Redis round trip. */
void sr_http_dispatch(sr_http_req *r);
/* Answers with a body (JSON unless type says otherwise). Once per request. */
void sr_http_respond(sr_http_req *r, unsigned status, const char *type, const char *body,
                     size_t len);
void sr_http_respond_json(sr_http_req *r, unsigned status, const char *json);
void sr_http_ref(sr_http_req *r);
void sr_http_unref(sr_http_req *r);
/* Whether the request carries "Authorization: Bearer <token>"; the token's span. */
const char *sr_http_bearer(const sr_http_req *r, size_t *len);
const sr_config *sr_http_config(const sr_http_req *r);
/* Counts one error of kind in the metrics. */
void sr_http_error(sr_http_req *r, enum sr_error_kind kind);
/* The node's health, as GET /health answers it. */
void sr_http_health_json(sr_http_req *r, sr_buf *out);

#endif
