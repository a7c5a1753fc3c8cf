/* dialect.h - a dialect adapts one seed system's wire protocol to the core.
 * It parses and builds frames and calls core functions; it never talks to
 * Redis and never sees the transport. A new dialect is one file plus one row
 * in dialects.c. */
#ifndef SR_DIALECT_H
#define SR_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

struct sr_conn;

typedef struct sr_dialect {
    const char *name;  /* also the session kind in Redis keys */
    size_t state_size; /* per-connection state, zeroed, at conn->state */
    void (*open)(struct sr_conn *c);
    void (*message)(struct sr_conn *c, const char *data, size_t len, bool binary);
    /* The socket is gone (the core then leaves the session). May be NULL. */
    void (*close)(struct sr_conn *c);
    /* Another connection took this connection's member: send the error frame
     * (the core closes the socket afterwards). */
    void (*superseded)(struct sr_conn *c);
} sr_dialect;

/* The dialect serving a WebSocket upgrade to path (query string excluded). */
const sr_dialect *sr_dialect_for_path(const char *path);

extern const sr_dialect sr_dialect_tokensync;

#endif
