/* dialect_peersync.h - the peersync dialect (seed 003) is three files:
 * dialect_peersync.c (the /ws socket, AUTH, the user's inbox session),
 * dialect_peersync_peers.c (presence, connection requests, messages) and
 * dialect_peersync_auth.c (RS256 keys, token checks and the /api/v1/auth REST
 * endpoints). main.c loads the keys once at start with sr_peersync_setup.
 * Dialect layer only (and main.c for setup/teardown). */
#ifndef SR_DIALECT_PEERSYNC_H
#define SR_DIALECT_PEERSYNC_H

#include "config.h"
#include "sr_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sr_http_req;

/* Loads the RS256 pair from JWT_PUBLIC_KEY / JWT_PRIVATE_KEY, or makes an
 * ephemeral one (with a warning) when neither is set. Returns 0 or -1 with a
 * message in err. */
int sr_peersync_setup(const sr_config *cfg, char *err, size_t errlen);
void sr_peersync_teardown(void);

#define PEERSYNC_USER_MAX 100 /* bytes of a userId */

/* Who a valid token names (claims userId, else sub; displayName, email). */
typedef struct peersync_identity {
    char user[PEERSYNC_USER_MAX + 1];
    char display_name[256], email[256];
    bool has_display_name, has_email;
} peersync_identity;

/* Verifies a token. Returns 0, or -1 with the seed's error code (ERR_1001
 * missing, ERR_1002 invalid, ERR_1003 expired) and a message. */
int sr_peersync_verify(const char *token, size_t len, peersync_identity *who, const char **code,
                       const char **message);
/* A userId that can name Redis keys and envelopes: 1..100 bytes, no control
 * characters, no braces. */
bool sr_peersync_valid_user(const char *user);
/* GET /api/v1/auth/public-key, GET /api/v1/auth/verify, POST /api/v1/auth/dev-token. */
bool sr_peersync_http(struct sr_http_req *r);

/* ---------- shared by dialect_peersync.c and dialect_peersync_peers.c ---------- */

struct sr_conn;
struct sr_json_doc;
struct sr_post_result;

/* A connection's state (sr_conn_state). */
typedef struct peersync_state {
    bool authenticating, authenticated, registered;
    bool join_create; /* the inbox join under way creates the inbox */
    int join_tries;
    bool has_last_seq;
    uint64_t last_seq;
    peersync_identity who;
    char profile[1024]; /* {"displayName":…,"role":…,"ide":…} */
    char status[16];
} peersync_state;

#define SR_PEERSYNC_STATE(c) ((peersync_state *)sr_conn_state(c))

/* {"event":<event>,"data":<data>} */
void sr_peersync_send_event(struct sr_conn *c, const char *event, const char *data, size_t len);
/* {"event":"ERROR","data":{"code":…,"message":…}} */
void sr_peersync_send_error(struct sr_conn *c, const char *code, const char *message);
void sr_peersync_send_invalid(struct sr_conn *c, const char *message);
void sr_peersync_send_unavailable(struct sr_conn *c);
/* s as a JSON string */
void sr_peersync_append_string(sr_buf *b, const char *s);
/* {"id":<user>,"profile":<profile or null>} */
void sr_peersync_append_peer(sr_buf *b, const char *user, size_t user_len, const char *profile,
                             size_t profile_len);
/* Posts {"event":<event>,"data":<data>,"seq":N} into user's inbox. */
void sr_peersync_post_event(
    struct sr_conn *c, const char *user, const char *event, const sr_buf *data,
    void (*cb)(struct sr_conn *c, const struct sr_post_result *r, void *arg), void *arg);
/* A string member of d into out: 1 copied, 0 absent or null, -1 not a
 * string (or too long). */
int sr_peersync_get_string(const struct sr_json_doc *d, const char *name, char *out, size_t cap);
bool sr_peersync_one_of(const char *s, const char *const *list);
/* <prefix> and 16 of [a-z0-9] */
bool sr_peersync_valid_id(const char *s, const char *prefix);
int sr_peersync_make_id(char *out, const char *prefix);
/* The events of dialect_peersync_peers.c (an authenticated socket). */
bool sr_peersync_check_registered(struct sr_conn *c);
void sr_peersync_handle_register(struct sr_conn *c, const struct sr_json_doc *d);
void sr_peersync_handle_discover(struct sr_conn *c, const struct sr_json_doc *d);
void sr_peersync_handle_request(struct sr_conn *c, const struct sr_json_doc *d);
void sr_peersync_handle_response(struct sr_conn *c, const struct sr_json_doc *d);
void sr_peersync_handle_send(struct sr_conn *c, const struct sr_json_doc *d);

#endif
