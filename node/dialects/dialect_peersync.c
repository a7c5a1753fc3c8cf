/* dialect_peersync.c - the developer-collaboration protocol of seed 003
 * (SPEC 4.4) on "/ws": {"event":…,"data":…} envelopes, RS256 AUTH, presence,
 * connection requests, peer sessions and messages between peers on any nodes.
 *
 * Mapping onto the core (docs/design.md): an authenticated socket joins its
 * user's inbox session (kind "peersync", id = userId, one member "user").
 * That gives supersede of the same userId across nodes, and an ordered,
 * retained, resumable channel to the user on whatever node holds it. Whatever
 * another user sends this one (a request, an answer, a message, a session's
 * end) is posted INTO this inbox (sr_session_post). Presence, pending requests
 * and peer sessions are Redis records reached through peersync_store.h. */
#include "session.h"
#include "client_limits.h"
#include "dialect_peersync.h"
#include "peersync_store.h"
#include "sr_json.h"
#include "sr_jwt.h"
#include "sr_random.h"

#include <stdlib.h>
#include <string.h>

#define INBOX_MEMBER "user"
#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ID_RANDOM 16 /* characters after "req_" / "ses_": about 82 bits */
#define JOIN_RETRIES 3

#define STATE(c) SR_PEERSYNC_STATE(c)

/* ---------- frames ---------- */

void sr_peersync_send_event(sr_conn *c, const char *event, const char *data, size_t len)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "{\"event\":\"%s\",\"data\":", event);
    sr_buf_append(&b, data, len);
    sr_buf_append_str(&b, "}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

/* {"event":"<event>","data":{"code":"ERR_…","message":"…"}}: ERROR, AUTH_FAILED */
static void sr_peersync_send_coded(sr_conn *c, const char *event, const char *code,
                                   const char *message)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix,
             "{\"event\":\"%s\",\"data\":{\"code\":\"%s\",\"message\":", event, code);
    sr_conn_send_error(c, prefix, message, "}}");
}

void sr_peersync_send_error(sr_conn *c, const char *code, const char *message)
{
    sr_peersync_send_coded(c, "ERROR", code, message);
}

/* Codes outside the seed's table (documented in the README): ERR_5001 a
 * malformed message, ERR_5002 an unknown event, ERR_5003 Redis unreachable. */
/* ERR_5004 (outside the seed's table): a limit of the node refuses the socket. */
static void peersync_limit_error(sr_conn *c, const char *message)
{
    sr_peersync_send_error(c, "ERR_5004", message);
}

void sr_peersync_send_invalid(sr_conn *c, const char *message)
{
    sr_conn_error(c, SR_ERROR_BAD_REQUEST);
    sr_peersync_send_error(c, "ERR_5001", message);
}

void sr_peersync_send_unavailable(sr_conn *c)
{
    sr_peersync_send_error(c, "ERR_5003", "Service unavailable, try again");
}

void sr_peersync_append_string(sr_buf *b, const char *s)
{
    sr_buf_append_json_string(b, s, strlen(s));
}

/* {"id":"<user>","profile":<profile>} */
void sr_peersync_append_peer(sr_buf *b, const char *user, size_t user_len, const char *profile,
                             size_t profile_len)
{
    sr_buf_append_str(b, "{\"id\":");
    sr_buf_append_json_string(b, user, user_len);
    sr_buf_append_str(b, ",\"profile\":");
    if (profile_len)
        sr_buf_append(b, profile, profile_len);
    else
        sr_buf_append_str(b, "null");
    sr_buf_append_str(b, "}");
}

/* Posts {"event":"<event>","data":<data>,"seq":N} into user's inbox. */
void sr_peersync_post_event(sr_conn *c, const char *user, const char *event, const sr_buf *data,
                            sr_post_cb *cb, void *arg)
{
    char head[64];
    int hlen = snprintf(head, sizeof head, "{\"event\":\"%s\",\"data\":", event);
    static const char mid[] = ",\"seq\":", tail[] = "}";
    const char *parts[] = {head, data->data, mid, tail};
    size_t lens[] = {(size_t)hlen, data->len, sizeof mid - 1, sizeof tail - 1};
    sr_post_request req = {
        .kind = sr_conn_kind(c),
        .id = user,
        .from = STATE(c)->who.user,
        .to = "@",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
    };
    sr_session_post(c, &req, cb, arg);
}

/* ---------- reading data ---------- */

/* 1: a string, copied; 0: absent or null; -1: another type, or too long. */
int sr_peersync_get_string(const sr_json_doc *d, const char *name, char *out, size_t cap)
{
    const sr_json_span *v = sr_json_get(d, name);
    if (!v || v->type == SR_JSON_NULL) return 0;
    return sr_json_string(v, out, cap) < 0 ? -1 : 1;
}

bool sr_peersync_one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

/* A request or session id as this node makes them: prefix + ID_RANDOM chars. */
bool sr_peersync_valid_id(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(s, prefix, n) && strlen(s) == n + ID_RANDOM &&
           strspn(s + n, ID_CHARS) == ID_RANDOM;
}

int sr_peersync_make_id(char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    return sr_random_code(out + n, ID_RANDOM, ID_CHARS);
}

/* ---------- AUTH ---------- */

static uint64_t refresh_ms(sr_conn *c)
{
    return sr_conn_touch_interval_ms(c);
}

static void on_refresh(sr_conn *c)
{
    sr_peersync_refresh(c, STATE(c)->who.user);
    sr_conn_set_timer(c, refresh_ms(c), on_refresh);
}

static void on_auth_timeout(sr_conn *c)
{
    if (STATE(c)->authenticated) return;
    sr_peersync_send_error(c, "ERR_1001", "Authentication timeout: no AUTH in time");
    sr_conn_close(c, SR_CLOSE_POLICY, "authentication timeout");
}

static void start_inbox_join(sr_conn *c);

static void on_inbox_joined(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    peersync_state *st = STATE(c);
    if (!sr_conn_alive(c)) return;
    /* the inbox is made on the user's first connection: join it, else create it */
    if ((status == SR_ERR_UNKNOWN_SESSION || status == SR_ERR_EXISTS) &&
        ++st->join_tries < JOIN_RETRIES) {
        st->join_create = status == SR_ERR_UNKNOWN_SESSION;
        start_inbox_join(c);
        return;
    }
    st->authenticating = false;
    if (status != SR_OK) {
        sr_peersync_send_unavailable(c);
        return;
    }
    st->authenticated = true;
    sr_conn_authenticated(c);
    sr_conn_set_timer(c, refresh_ms(c), on_refresh); /* replaces the AUTH timeout */
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"userId\":");
    sr_peersync_append_string(&b, st->who.user);
    sr_buf_append_str(&b, ",\"displayName\":");
    if (st->who.has_display_name)
        sr_peersync_append_string(&b, st->who.display_name);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, ",\"email\":");
    if (st->who.has_email)
        sr_peersync_append_string(&b, st->who.email);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, "}");
    sr_peersync_send_event(c, "AUTH_SUCCESS", b.data, b.len);
    sr_buf_free(&b);
}

static void start_inbox_join(sr_conn *c)
{
    peersync_state *st = STATE(c);
    sr_join_request req = {
        .id = st->who.user,
        .member = INBOX_MEMBER,
        .create = st->join_create,
        .has_last_seq = st->has_last_seq,
        .last_seq = st->last_seq,
    };
    sr_session_join(c, &req, on_inbox_joined, NULL);
}

static void handle_auth(sr_conn *c, const sr_json_doc *d)
{
    peersync_state *st = STATE(c);
    if (st->authenticated || st->authenticating) {
        sr_peersync_send_invalid(c, st->authenticated ? "Already authenticated"
                                                      : "Authentication already in progress");
        return;
    }
    const sr_json_span *t = sr_json_get(d, "token"), *last = sr_json_get(d, "lastSeq");
    if (!t || t->type == SR_JSON_NULL || sr_json_string_is(t, "")) {
        sr_peersync_send_coded(c, "AUTH_FAILED", "ERR_1001", "Token missing");
        return;
    }
    long long last_seq = 0;
    if (last && last->type != SR_JSON_NULL && (sr_json_int(last, &last_seq) < 0 || last_seq < 0)) {
        sr_peersync_send_invalid(c, "Invalid lastSeq: expected a non-negative integer");
        return;
    }
    char *token = sr_xmalloc(SR_JWT_MAX_TOKEN + 1);
    int n = sr_json_string(t, token, SR_JWT_MAX_TOKEN + 1);
    const char *code = "ERR_1002", *message = "Token invalid: not a string of at most 16 KiB";
    peersync_identity who;
    int rc = n < 0 ? -1 : sr_peersync_verify(token, (size_t)n, &who, &code, &message);
    free(token);
    if (rc < 0) {
        sr_peersync_send_coded(c, "AUTH_FAILED", code, message);
        return;
    }
    st->who = who;
    st->has_last_seq = last && last->type != SR_JSON_NULL;
    st->last_seq = (uint64_t)last_seq;
    st->authenticating = true;
    st->join_create = false;
    st->join_tries = 0;
    start_inbox_join(c);
}

/* ---------- the socket ---------- */

static void peersync_open(sr_conn *c)
{
    sr_conn_set_timer(c, (uint64_t)sr_conn_config(c)->auth_timeout * 1000, on_auth_timeout);
}

static void peersync_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    peersync_state *st = STATE(c);
    sr_json_doc doc, body;
    char event[64];
    if (binary) {
        sr_peersync_send_invalid(c, "Binary messages are not supported");
        return;
    }
    int rc = sr_json_parse(&doc, data, len);
    if (rc == SR_JSON_TOO_MANY) {
        sr_conn_refuse(c, SR_LIMIT_JSON_MEMBERS, SR_CLOSE_TOO_BIG, "Too many JSON members");
        return;
    }
    if (rc < 0) {
        sr_conn_error(c, SR_ERROR_INVALID_JSON);
        sr_peersync_send_error(c, "ERR_5001", "Invalid JSON");
        return;
    }
    const sr_json_span *e = doc.root.type == SR_JSON_OBJECT ? sr_json_get(&doc, "event") : NULL;
    const sr_json_span *d = doc.root.type == SR_JSON_OBJECT ? sr_json_get(&doc, "data") : NULL;
    if (!e || sr_json_string(e, event, sizeof event) <= 0) {
        sr_peersync_send_invalid(c,
                                 "Invalid message: expected {\"event\": string, \"data\": object}");
        return;
    }
    if (d && d->type != SR_JSON_OBJECT && d->type != SR_JSON_NULL) {
        sr_peersync_send_invalid(c, "Invalid data: expected an object");
        return;
    }
    if (d && d->type == SR_JSON_OBJECT)
        sr_json_parse(&body, d->p, d->n);
    else
        sr_json_parse(&body, "{}", 2);

    if (!strcmp(event, "AUTH")) {
        handle_auth(c, &body);
        return;
    }
    if (!st->authenticated) {
        sr_peersync_send_error(c, "ERR_5005", "Socket not authenticated");
        return;
    }
    if (!strcmp(event, "PING")) {
        char pong[48];
        int n =
            snprintf(pong, sizeof pong, "{\"timestamp\":%llu}", (unsigned long long)sr_now_ms());
        sr_peersync_send_event(c, "PONG", pong, (size_t)n);
    } else if (!strcmp(event, "PEER_REGISTER")) {
        sr_peersync_handle_register(c, &body);
    } else if (!strcmp(event, "DISCOVER_PEERS")) {
        if (sr_peersync_check_registered(c)) sr_peersync_handle_discover(c, &body);
    } else if (!strcmp(event, "CONNECTION_REQUEST")) {
        sr_peersync_handle_request(c, &body);
    } else if (!strcmp(event, "CONNECTION_RESPONSE")) {
        sr_peersync_handle_response(c, &body);
    } else if (!strcmp(event, "SEND_MESSAGE")) {
        sr_peersync_handle_send(c, &body);
    } else {
        char msg[128];
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        snprintf(msg, sizeof msg, "Unknown event: %s", event);
        sr_peersync_send_error(c, "ERR_5002", msg);
    }
}

/* The partners of the sessions that ended learn it in their inbox. */
static void on_left(sr_conn *c, int status, const sr_peersync_ended *e, size_t n, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        size_t slen = e[i].session.len, plen = e[i].partner.len;
        const char *session = e[i].session.p, *partner = e[i].partner.p;
        char to[PEERSYNC_USER_MAX + 1];
        if (plen > PEERSYNC_USER_MAX) continue;
        memcpy(to, partner, plen);
        to[plen] = '\0';
        sr_buf data;
        sr_buf_init(&data);
        sr_buf_append_str(&data, "{\"sessionId\":");
        sr_buf_append_json_string(&data, session, slen);
        sr_buf_append_str(&data, ",\"peerId\":");
        sr_peersync_append_string(&data, STATE(c)->who.user);
        sr_buf_append_str(&data, ",\"reason\":\"peer_disconnected\"}");
        sr_peersync_post_event(c, to, "SESSION_ENDED", &data, NULL, NULL);
        sr_buf_free(&data);
    }
}

/* A client that went away ends its peer sessions; a socket the server closed
 * (superseded, restart/drain, slow reader) leaves them for its successor. */
static void peersync_close(sr_conn *c)
{
    peersync_state *st = STATE(c);
    if (!st->authenticated) return;
    sr_peersync_leave(c, st->who.user, !sr_conn_closing(c), on_left, NULL);
}

static void peersync_superseded(sr_conn *c)
{
    sr_peersync_send_error(c, "ERR_5005", "Socket superseded: the same user connected again");
}

static void peersync_ended(sr_conn *c)
{
    sr_peersync_send_error(c, "ERR_5005", "Connection ended by an administrator");
}

const sr_dialect sr_dialect_peersync = {
    .name = "peersync",
    .state_size = sizeof(peersync_state),
    .open = peersync_open,
    .message = peersync_message,
    .close = peersync_close,
    .superseded = peersync_superseded,
    .ended = peersync_ended,
    .http = sr_peersync_http,
    .error = peersync_limit_error,
};
