/* dialect.h - a dialect adapts one seed system's wire protocol to the core.
 * It parses and builds frames and calls core functions; it never talks to
 * Redis and never sees the transport. A new dialect is its file(s) in
 * node/dialects plus one row in dialects.c (and, with Redis records of its
 * own, node/dialects/<dialect>_store.h implemented by
 * node/redis/store_<dialect>.c: see the README, "Adding a dialect").
 *
 * node/dialects: compiled with node/dialects, the core's public headers
 * (conn.h, session.h, http.h, this one) and config.h on the path, nothing
 * else, so a dialect cannot name the store, a reply or a core-internal field.
 * Its headers may be included by: node/dialects, node/redis (the
 * <dialect>_store.h it implements), main.c (dialect_peersync.h's setup). */
#ifndef SR_DIALECT_H
#define SR_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

struct sr_conn;
struct sr_http_req;
struct sr_json_doc;

typedef struct sr_dialect {
    const char *name;  /* also the session kind in Redis keys */
    size_t state_size; /* per-connection state, zeroed, at conn->state */
    void (*open)(struct sr_conn *c);
    void (*message)(struct sr_conn *c, const char *data, size_t len, bool binary);
    /* A text message already parsed as a JSON object with a string "type"
     * (the first message on "/", parsed once to pick the dialect). May be
     * NULL for a dialect that is never picked that way. */
    void (*typed)(struct sr_conn *c, const struct sr_json_doc *doc, const char *type);
    /* The socket is gone (the core then leaves the session). May be NULL. */
    void (*close)(struct sr_conn *c);
    /* Another connection took this connection's member: send the error frame
     * (the core closes the socket afterwards). */
    void (*superseded)(struct sr_conn *c);
    /* The session was ended (DELETE /api/sessions/:id): send the notice
     * frame (the core then closes the socket with 1000). May be NULL. */
    void (*ended)(struct sr_conn *c);
    /* The dialect's REST endpoints: returns true when it took the request
     * (and answers it, now or later). May be NULL. */
    bool (*http)(struct sr_http_req *r);
    /* Sends message in the dialect's error format: a limit the core enforces
     * (client_limits.h) refuses the socket with it before closing. */
    void (*error)(struct sr_conn *c, const char *message);
} sr_dialect;

/* Every dialect, for the HTTP endpoints and the admin API (session kinds). */
extern const sr_dialect *const sr_dialects[];
extern const size_t sr_dialect_count;

/* Parses a text message as a JSON object with a string "type" (copied to
 * type). Returns NULL, or the error to send (counted in the metrics);
 * no_type is the dialect's words for a message without a usable type. Over
 * MAX_JSON_MEMBERS the socket is refused here (the returned error goes
 * nowhere: the socket is closing). */
const char *sr_dialect_parse_typed(struct sr_conn *c, const char *data, size_t len, bool binary,
                                   struct sr_json_doc *doc, char *type, size_t cap,
                                   const char *no_type);

/* "Unknown message type: <type>" in buf, counted as a bad request. */
const char *sr_dialect_unknown_type(struct sr_conn *c, const char *type, char *buf, size_t cap);

/* Words for a failed join or publish that mean the same in every room
 * dialect (full, rate limited, unavailable, busy); NULL for the others
 * (unknown session, not joined...), which each dialect words itself. */
const char *sr_status_words(int status);

/* The dialect serving a WebSocket upgrade to path (query string excluded). */
const sr_dialect *sr_dialect_for_path(const char *path);

extern const sr_dialect sr_dialect_tokensync;
extern const sr_dialect sr_dialect_mirror;
extern const sr_dialect sr_dialect_recording;
extern const sr_dialect sr_dialect_peersync;
extern const sr_dialect sr_dialect_devicesync;
/* "/": the first message tells token sync from mirror (upper-case type). */
extern const sr_dialect sr_dialect_root;

#endif
