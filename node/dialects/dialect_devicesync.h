/* dialect_devicesync.h - what the parts of the device-sync dialect (seed 001)
 * share: dialect_devicesync.c serves the Socket.IO connections (Engine.IO,
 * connecting "/"), dialect_devicesync_events.c their events and the frames
 * they answer with, dialect_devicesync_rest.c the REST endpoints. */
#ifndef SR_DIALECT_DEVICESYNC_H
#define SR_DIALECT_DEVICESYNC_H

#include "config.h"
#include "sr_buf.h"
#include "sr_field.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sr_http_req;
struct sr_conn;
struct sr_sio_packet;

#define SR_DS_KIND "devicesync" /* session kind: one session per user */
#define SR_DS_MAX_DEVICES 100   /* device records kept per user */
#define SR_DS_ID_LEN 36         /* user and device ids: UUID v4 text */
#define SR_DS_MAX_USER 64       /* user ids of foreign tokens may be longer than a UUID */
#define SR_DS_TOKEN_TTL (7 * 86400)

#define SR_DS_MAX_KEY 128       /* bytes of a sessionKey */
#define SR_DS_MAX_INFLIGHT 4096 /* publishes awaiting Redis per connection */

enum sr_ds_phase { SR_DS_OPEN, SR_DS_CONNECTING, SR_DS_CONNECTED };
enum sr_ds_op_kind { SR_DS_OP_UPDATE, SR_DS_OP_REALTIME, SR_DS_OP_MESSAGE };

/* A publish awaiting its reply: the argument of its callback. */
typedef struct sr_ds_op {
    enum sr_ds_op_kind kind;
    long long ack;               /* the client's ack id, -1 for none */
    long long base_version;      /* session-update: the version named, -1 for none */
    char key[SR_DS_MAX_KEY + 1]; /* sessionKey, or the target device */
} sr_ds_op;

/* A connection's state (conn->state). */
typedef struct sr_ds_state {
    enum sr_ds_phase phase;
    char sid[24];
    char user[SR_DS_MAX_USER + 1];
    char device[SR_DS_ID_LEN + 1];
    bool registered; /* a device record exists: note last seen on close */
    bool has_last_seq;
    long long last_seq;
    int join_tries;
    sr_buf info; /* deviceInfo JSON */
    uint64_t next_ping_ms, pong_deadline_ms, connect_deadline_ms;
    bool binary_refused;         /* drop the attachments that follow a refused binary packet */
    unsigned inflight;           /* publishes awaiting Redis (at most SR_DS_MAX_INFLIGHT) */
    struct sr_poll_relay *relay; /* a WebSocket upgrading a polling session (core_poll.h) */
} sr_ds_state;

/* Frames (dialect_devicesync_events.c). */
void sr_ds_send_buf(struct sr_conn *c, sr_buf *b); /* sends b, then empties it */
/* 42["error",{"message":…[,"event":…]}] */
void sr_ds_send_error(struct sr_conn *c, const char *event, const char *message);
/* The error event, and the ack {"success":false,"error":…} when one was asked (ack >= 0). */
void sr_ds_fail(struct sr_conn *c, long long ack, const char *event, const char *message);
void sr_ds_send_ack(struct sr_conn *c, long long ack, const char *json, size_t len);
/* The client-facing words for a core status. */
const char *sr_ds_status_message(int status);
/* An EVENT packet on "/" of a connected socket. */
void sr_ds_handle_event(struct sr_conn *c, const struct sr_sio_packet *p);

/* Writes a random UUID v4 (lower case, 36 characters) to out (>= 37 bytes). */
int sr_ds_uuid(char *out);
/* Whether s can name a user or a device in Redis keys and envelopes: 1..max
 * printable ASCII characters without braces, slashes or white space. */
bool sr_ds_valid_id(const char *s, size_t max);
/* Verifies an HS256 token (JWT_SECRET) and copies its userId claim to user.
 * Returns 0 or an sr_jwt error (SR_JWT_BAD_SUBJECT for an unusable userId). */
int sr_ds_verify(const sr_config *cfg, const char *token, size_t len, char *user, size_t cap);
/* Signs {userId, email, iat, exp} (SR_DS_TOKEN_TTL). *token is freed by the caller. */
int sr_ds_sign(const sr_config *cfg, const char *user, const char *email, char **token);
/* The dialect's REST endpoints (the dialect's http hook). */
bool sr_ds_http(struct sr_http_req *r);
/* Appends "sessionData":{key:state},"versions":{key:n} from the session
 * hash's fields (session-restored and GET /api/session say the same). */
void sr_ds_append_state(sr_buf *b, const sr_field *fields, size_t n);

#endif
