/* dialects.c - which dialect serves which WebSocket path. Adding a dialect is
 * one file and one row in each table here. */
#include "http.h"
#include "client_limits.h"
#include "session.h"
#include "dialect.h"
#include "sr_json.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *path;
    const sr_dialect *dialect;
} routes[] = {
    {"/", &sr_dialect_root},
    {"/mirror", &sr_dialect_mirror},
    {"/sync", &sr_dialect_recording},
    {"/ws", &sr_dialect_peersync},
    {"/socket.io/", &sr_dialect_devicesync},
    {"/socket.io", &sr_dialect_devicesync},
};

const sr_dialect *const sr_dialects[] = {
    &sr_dialect_tokensync,  /* seed 000 */
    &sr_dialect_mirror,     /* seed 002 */
    &sr_dialect_recording,  /* seed 004 */
    &sr_dialect_peersync,   /* seed 003 */
    &sr_dialect_devicesync, /* seed 001 */
};
const size_t sr_dialect_count = sizeof sr_dialects / sizeof sr_dialects[0];

const sr_dialect *sr_dialect_for_path(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(path, routes[i].path)) return routes[i].dialect;
    return NULL;
}

const char *sr_dialect_parse_typed(sr_conn *c, const char *data, size_t len, bool binary,
                                   sr_json_doc *doc, char *type, size_t cap, const char *no_type)
{
    if (binary) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        return "Binary messages are not supported";
    }
    int rc = sr_json_parse(doc, data, len);
    if (rc == SR_JSON_TOO_MANY) {
        sr_conn_refuse(c, SR_LIMIT_JSON_MEMBERS, SR_CLOSE_TOO_BIG, "Too many JSON members");
        return "Too many JSON members"; /* already sent */
    }
    if (rc < 0) {
        sr_conn_error(c, SR_ERROR_INVALID_JSON);
        return "Invalid JSON";
    }
    const sr_json_span *t = doc->root.type == SR_JSON_OBJECT ? sr_json_get(doc, "type") : NULL;
    if (!t || sr_json_string(t, type, cap) <= 0) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        return no_type;
    }
    return NULL;
}

const char *sr_status_words(int status)
{
    switch (status) {
    case SR_ERR_FULL:
        return "Session full";
    case SR_ERR_RATE_LIMITED:
        return "Too many attempts";
    case SR_ERR_UNAVAILABLE:
        return "Service unavailable";
    case SR_ERR_BUSY:
        return "Join already in progress";
    default:
        return NULL;
    }
}

const char *sr_dialect_unknown_type(sr_conn *c, const char *type, char *buf, size_t cap)
{
    sr_conn_error(c, SR_ERROR_BAD_REQUEST);
    snprintf(buf, cap, "Unknown message type: %s", type);
    return buf;
}
