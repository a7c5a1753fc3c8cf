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
 * and peer sessions are Redis records (store_peersync.h) reached through
 * core_peersync.h. */
#include "core.h"
#include "core_peersync.h"
#include "core_post.h"
#include "dialect_peersync.h"
#include "sr_json.h"
#include "sr_jwt.h"
#include "sr_random.h"

#include <stdlib.h>
#include <string.h>

#define INBOX_MEMBER "user"
#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ID_RANDOM 16 /* characters after "req_" / "ses_": about 82 bits */
#define NAME_MAX_BYTES 128
#define JOIN_RETRIES 3

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

#define STATE(c) ((peersync_state *)(c)->state)

static const char *const ides[] = {"vscode", "cursor",  "jetbrains", "vim", "neovim",
                                   "emacs",  "sublime", "other",     NULL};
static const char *const roles[] = {"host", "guest", "observer", NULL};
/* the seed's four statuses: a peer may register as "offline" (appear
 * offline) as well as read as it once gone */
static const char *const statuses[] = {"online", "away", "busy", "offline", NULL};

/* ---------- frames ---------- */

static void send_event(sr_conn *c, const char *event, const char *data, size_t len)
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
static void send_coded(sr_conn *c, const char *event, const char *code, const char *message)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix,
             "{\"event\":\"%s\",\"data\":{\"code\":\"%s\",\"message\":", event, code);
    sr_conn_send_error(c, prefix, message, "}}");
}

static void send_error(sr_conn *c, const char *code, const char *message)
{
    send_coded(c, "ERROR", code, message);
}

/* Codes outside the seed's table (documented in the README): ERR_5001 a
 * malformed message, ERR_5002 an unknown event, ERR_5003 Redis unreachable. */
/* ERR_5004 (outside the seed's table): a limit of the node refuses the socket. */
static void peersync_limit_error(sr_conn *c, const char *message)
{
    send_error(c, "ERR_5004", message);
}

static void send_invalid(sr_conn *c, const char *message)
{
    sr_core_error(c->core, SR_ERROR_BAD_REQUEST);
    send_error(c, "ERR_5001", message);
}

static void send_unavailable(sr_conn *c)
{
    send_error(c, "ERR_5003", "Service unavailable, try again");
}

static void append_string(sr_buf *b, const char *s)
{
    sr_buf_append_json_string(b, s, strlen(s));
}

/* {"id":"<user>","profile":<profile>} */
static void append_peer(sr_buf *b, const char *user, size_t user_len, const char *profile,
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
static int post_event(sr_conn *c, const char *user, const char *event, const sr_buf *data,
                      sr_post_cb *cb, void *arg)
{
    char head[64];
    int hlen = snprintf(head, sizeof head, "{\"event\":\"%s\",\"data\":", event);
    static const char mid[] = ",\"seq\":", tail[] = "}";
    const char *parts[] = {head, data->data, mid, tail};
    size_t lens[] = {(size_t)hlen, data->len, sizeof mid - 1, sizeof tail - 1};
    sr_post_request req = {
        .kind = c->dialect->name,
        .id = user,
        .from = STATE(c)->who.user,
        .to = "@",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
    };
    return sr_session_post(c, &req, cb, arg);
}

/* ---------- reading data ---------- */

/* 1: a string, copied; 0: absent or null; -1: another type, or too long. */
static int get_string(const sr_json_doc *d, const char *name, char *out, size_t cap)
{
    const sr_json_span *v = sr_json_get(d, name);
    if (!v || v->type == SR_JSON_NULL) return 0;
    return sr_json_string(v, out, cap) < 0 ? -1 : 1;
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

/* A request or session id as this node makes them: prefix + ID_RANDOM chars. */
static bool valid_id(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(s, prefix, n) && strlen(s) == n + ID_RANDOM &&
           strspn(s + n, ID_CHARS) == ID_RANDOM;
}

static int make_id(char *out, const char *prefix)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    return sr_random_code(out + n, ID_RANDOM, ID_CHARS);
}

/* ---------- AUTH ---------- */

static uint64_t refresh_ms(sr_conn *c)
{
    return sr_core_touch_interval_ms(c->core);
}

static void on_refresh(sr_conn *c)
{
    sr_peersync_refresh(c, STATE(c)->who.user);
    sr_conn_set_timer(c, refresh_ms(c), on_refresh);
}

static void on_auth_timeout(sr_conn *c)
{
    if (STATE(c)->authenticated) return;
    send_error(c, "ERR_1001", "Authentication timeout: no AUTH in time");
    sr_conn_close(c, SR_CLOSE_POLICY, "authentication timeout");
}

static void start_inbox_join(sr_conn *c);

static void on_inbox_joined(sr_conn *c, int status, const sr_join_result *r)
{
    peersync_state *st = STATE(c);
    /* the inbox is made on the user's first connection: join it, else create it */
    if ((status == SR_ERR_UNKNOWN_SESSION || status == SR_ERR_EXISTS) &&
        ++st->join_tries < JOIN_RETRIES) {
        st->join_create = status == SR_ERR_UNKNOWN_SESSION;
        start_inbox_join(c);
        return;
    }
    st->authenticating = false;
    if (status != SR_OK) {
        send_unavailable(c);
        return;
    }
    st->authenticated = true;
    sr_conn_authenticated(c);
    sr_conn_set_timer(c, refresh_ms(c), on_refresh); /* replaces the AUTH timeout */
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"userId\":");
    append_string(&b, st->who.user);
    sr_buf_append_str(&b, ",\"displayName\":");
    if (st->who.has_display_name)
        append_string(&b, st->who.display_name);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, ",\"email\":");
    if (st->who.has_email)
        append_string(&b, st->who.email);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, "}");
    send_event(c, "AUTH_SUCCESS", b.data, b.len);
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
    int rc = sr_session_join(c, &req, on_inbox_joined);
    if (rc != SR_OK) {
        st->authenticating = false;
        send_unavailable(c);
    }
}

static void handle_auth(sr_conn *c, const sr_json_doc *d)
{
    peersync_state *st = STATE(c);
    if (st->authenticated || st->authenticating) {
        send_invalid(c, st->authenticated ? "Already authenticated"
                                          : "Authentication already in progress");
        return;
    }
    const sr_json_span *t = sr_json_get(d, "token"), *last = sr_json_get(d, "lastSeq");
    if (!t || t->type == SR_JSON_NULL || sr_json_string_is(t, "")) {
        send_coded(c, "AUTH_FAILED", "ERR_1001", "Token missing");
        return;
    }
    long long last_seq = 0;
    if (last && last->type != SR_JSON_NULL && (sr_json_int(last, &last_seq) < 0 || last_seq < 0)) {
        send_invalid(c, "Invalid lastSeq: expected a non-negative integer");
        return;
    }
    char *token = sr_xmalloc(SR_JWT_MAX_TOKEN + 1);
    int n = sr_json_string(t, token, SR_JWT_MAX_TOKEN + 1);
    const char *code = "ERR_1002", *message = "Token invalid: not a string of at most 16 KiB";
    peersync_identity who;
    int rc = n < 0 ? -1 : peersync_verify(token, (size_t)n, &who, &code, &message);
    free(token);
    if (rc < 0) {
        send_coded(c, "AUTH_FAILED", code, message);
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

/* ---------- presence ---------- */

static void on_registered(sr_conn *c, const sr_reply *reply, void *arg)
{
    if (!sr_conn_alive(c)) return;
    if (!reply) {
        send_unavailable(c);
        return;
    }
    peersync_state *st = STATE(c);
    st->registered = true;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"id\":");
    append_string(&b, st->who.user);
    sr_buf_printf(&b, ",\"profile\":%s,\"status\":\"%s\"}", st->profile, st->status);
    send_event(c, "PEER_REGISTERED", b.data, b.len);
    sr_buf_free(&b);
}

static void handle_register(sr_conn *c, const sr_json_doc *d)
{
    peersync_state *st = STATE(c);
    char name[sizeof st->who.display_name], ide[16] = "other", role[16] = "guest";
    char status[16] = "online";
    int has_name = get_string(d, "displayName", name, NAME_MAX_BYTES + 1);
    if (has_name < 0 || (has_name && !name[0])) {
        send_invalid(c, "Invalid displayName: expected a string of 1 to 128 bytes");
        return;
    }
    if (get_string(d, "ide", ide, sizeof ide) < 0 || !one_of(ide, ides)) {
        send_invalid(c, "Invalid ide: expected vscode, cursor, jetbrains, vim, neovim, emacs, "
                        "sublime or other");
        return;
    }
    if (get_string(d, "role", role, sizeof role) < 0 || !one_of(role, roles)) {
        send_invalid(c, "Invalid role: expected host, guest or observer");
        return;
    }
    if (get_string(d, "status", status, sizeof status) < 0 || !one_of(status, statuses)) {
        send_invalid(c, "Invalid status: expected online, away, busy or offline");
        return;
    }
    if (!has_name) { /* the token's displayName (up to 255 bytes), else the userId */
        const char *from = st->who.has_display_name ? st->who.display_name : st->who.user;
        size_t len = strlen(from);
        if (len > NAME_MAX_BYTES) { /* the first 128 bytes, ending on a UTF-8 boundary */
            len = NAME_MAX_BYTES;
            while (len > 0 && ((unsigned char)from[len] & 0xC0) == 0x80)
                len--;
        }
        memcpy(name, from, len);
        name[len] = '\0';
    }
    sr_buf p;
    sr_buf_init(&p);
    sr_buf_append_str(&p, "{\"displayName\":");
    append_string(&p, name);
    sr_buf_printf(&p, ",\"role\":\"%s\",\"ide\":\"%s\"}", role, ide);
    if (p.len >= sizeof st->profile) { /* cannot happen with 128 bytes; never store a cut one */
        sr_buf_free(&p);
        send_invalid(c, "Invalid displayName: the profile is too long");
        return;
    }
    memcpy(st->profile, p.data, p.len);
    st->profile[p.len] = '\0';
    sr_buf_free(&p);
    snprintf(st->status, sizeof st->status, "%s", status);
    sr_store_peer peer = {st->who.user, c->owner, st->profile, role, ide, status};
    sr_peersync_register(c, &peer, on_registered, NULL);
}

static void on_discovered(sr_conn *c, const sr_reply *reply, void *arg)
{
    if (!sr_conn_alive(c)) return;
    if (!reply) {
        send_unavailable(c);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"peers\":[");
    size_t n = sr_reply_count(reply), listed = 0;
    for (size_t i = 0; i + 2 < n; i += 3) {
        size_t ulen = 0, plen = 0, slen = 0;
        const char *user = sr_reply_str(sr_reply_at(reply, i), &ulen);
        const char *profile = sr_reply_str(sr_reply_at(reply, i + 1), &plen);
        const char *status = sr_reply_str(sr_reply_at(reply, i + 2), &slen);
        if (!user) continue;
        if (listed++) sr_buf_append_str(&b, ",");
        append_peer(&b, user, ulen, profile, profile ? plen : 0);
        b.len--; /* reopen the object for the status */
        sr_buf_append_str(&b, ",\"status\":");
        sr_buf_append_json_string(&b, status ? status : "online", status ? slen : 6);
        sr_buf_append_str(&b, "}");
    }
    sr_buf_append_str(&b, "]}");
    send_event(c, "PEERS_LIST", b.data, b.len);
    sr_buf_free(&b);
}

static void handle_discover(sr_conn *c, const sr_json_doc *d)
{
    char role[32] = "", ide[32] = "";
    if (get_string(d, "role", role, sizeof role) < 0 || get_string(d, "ide", ide, sizeof ide) < 0) {
        send_invalid(c, "Invalid filter: role and ide are strings");
        return;
    }
    sr_peersync_discover(c, STATE(c)->who.user, role, ide, on_discovered, NULL);
}

/* ---------- connection requests ---------- */

typedef struct request_op {
    char request[32], target[PEERSYNC_USER_MAX + 1], session[32];
} request_op;

static void on_request_delivered(sr_conn *c, const sr_post_result *r, void *arg)
{
    request_op *op = arg;
    if (sr_conn_alive(c)) {
        if (r->status == SR_POST_OK) {
            sr_buf b;
            sr_buf_init(&b);
            sr_buf_printf(&b, "{\"requestId\":\"%s\",\"targetId\":", op->request);
            append_string(&b, op->target);
            sr_buf_append_str(&b, "}");
            send_event(c, "CONNECTION_REQUEST_SENT", b.data, b.len);
            sr_buf_free(&b);
        } else if (r->status == SR_POST_UNAVAILABLE) {
            send_unavailable(c);
        } else {
            send_error(c, "ERR_2001", "Peer not found");
        }
    }
    free(op);
}

static void on_requested(sr_conn *c, const sr_reply *reply, void *arg)
{
    request_op *op = arg;
    size_t slen = 0, plen = 0;
    const char *status = sr_reply_str(sr_reply_at(reply, 0), &slen);
    const char *profile = sr_reply_str(sr_reply_at(reply, 1), &plen);
    if (!status || !sr_conn_alive(c)) {
        if (sr_conn_alive(c)) send_unavailable(c);
        free(op);
        return;
    }
    if (strcmp(status, "ok") != 0) {
        if (!strcmp(status, "unregistered"))
            send_error(c, "ERR_2006", "Peer must register first");
        else if (!strcmp(status, "connected"))
            send_error(c, "ERR_2005", "Peer already connected");
        else
            send_error(c, "ERR_2001", "Peer not found");
        free(op);
        return;
    }
    sr_buf data;
    sr_buf_init(&data);
    sr_buf_printf(&data, "{\"requestId\":\"%s\",\"from\":", op->request);
    append_peer(&data, STATE(c)->who.user, strlen(STATE(c)->who.user), profile, profile ? plen : 0);
    sr_buf_append_str(&data, "}");
    if (post_event(c, op->target, "CONNECTION_REQUEST_RECEIVED", &data, on_request_delivered, op) !=
        SR_OK) {
        send_unavailable(c);
        free(op);
    }
    sr_buf_free(&data);
}

static bool check_registered(sr_conn *c)
{
    if (STATE(c)->registered) return true;
    send_error(c, "ERR_2006", "Peer must register first");
    return false;
}

static void handle_request(sr_conn *c, const sr_json_doc *d)
{
    if (!check_registered(c)) return;
    request_op *op = sr_xcalloc(1, sizeof *op);
    if (get_string(d, "targetId", op->target, sizeof op->target) != 1 ||
        !peersync_valid_user(op->target) || !strcmp(op->target, STATE(c)->who.user)) {
        send_error(c, "ERR_2001", "Peer not found");
        free(op);
        return;
    }
    if (make_id(op->request, "req_") < 0) {
        send_unavailable(c);
        free(op);
        return;
    }
    sr_peersync_request(c, STATE(c)->who.user, op->target, op->request, on_requested, op);
}

static void on_answer_delivered(sr_conn *c, const sr_post_result *r, void *arg)
{
    free(arg); /* the requester gets it when it is back, if it is away now */
}

static void on_responded(sr_conn *c, const sr_reply *reply, void *arg)
{
    request_op *op = arg;
    size_t slen = 0, ulen = 0, plen = 0;
    const char *status = sr_reply_str(sr_reply_at(reply, 0), &slen);
    const char *requester = sr_reply_str(sr_reply_at(reply, 1), &ulen);
    const char *profile = sr_reply_str(sr_reply_at(reply, 2), &plen);
    if (!sr_conn_alive(c) || !status || !requester || ulen > PEERSYNC_USER_MAX) {
        if (sr_conn_alive(c)) send_unavailable(c);
        free(op);
        return;
    }
    if (!strcmp(status, "unknown")) {
        send_error(c, "ERR_6001", "Connection request not found");
        free(op);
        return;
    }
    peersync_state *st = STATE(c);
    memcpy(op->target, requester, ulen);
    op->target[ulen] = '\0';
    bool accepted = !strcmp(status, "accepted");
    sr_buf data;
    sr_buf_init(&data);
    if (accepted) {
        sr_buf_printf(&data, "{\"sessionId\":\"%s\",\"peer\":", op->session);
        append_peer(&data, requester, ulen, profile, profile ? plen : 0);
        sr_buf_append_str(&data, "}");
        send_event(c, "SESSION_CREATED", data.data, data.len);
        sr_buf_reset(&data);
        sr_buf_printf(&data, "{\"requestId\":\"%s\",\"sessionId\":\"%s\",\"peer\":", op->request,
                      op->session);
        append_peer(&data, st->who.user, strlen(st->who.user), st->profile, strlen(st->profile));
        sr_buf_append_str(&data, "}");
    } else {
        sr_buf_printf(&data, "{\"requestId\":\"%s\",\"targetId\":", op->request);
        append_string(&data, st->who.user);
        sr_buf_append_str(&data, "}");
    }
    if (post_event(c, op->target, accepted ? "CONNECTION_ACCEPTED" : "CONNECTION_REJECTED", &data,
                   on_answer_delivered, op) != SR_OK)
        free(op);
    sr_buf_free(&data);
}

static void handle_response(sr_conn *c, const sr_json_doc *d)
{
    if (!check_registered(c)) return;
    const sr_json_span *accepted = sr_json_get(d, "accepted");
    request_op *op = sr_xcalloc(1, sizeof *op);
    if (get_string(d, "requestId", op->request, sizeof op->request) != 1 ||
        !valid_id(op->request, "req_")) {
        send_error(c, "ERR_6001", "Connection request not found");
        free(op);
        return;
    }
    if (!accepted || (accepted->type != SR_JSON_TRUE && accepted->type != SR_JSON_FALSE)) {
        send_invalid(c, "Invalid accepted: expected a boolean");
        free(op);
        return;
    }
    if (make_id(op->session, "ses_") < 0) {
        send_unavailable(c);
        free(op);
        return;
    }
    sr_peersync_respond(c, op->request, STATE(c)->who.user, accepted->type == SR_JSON_TRUE,
                        op->session, on_responded, op);
}

/* ---------- messages ---------- */

static void on_sent(sr_conn *c, const sr_post_result *r, void *arg)
{
    if (!sr_conn_alive(c)) return;
    switch (r->status) {
    case SR_POST_OK:
        break;
    case SR_POST_NO_ROUTE:
        send_error(c, "ERR_3001", "Session not found");
        break;
    case SR_POST_NO_RECIPIENT:
        send_error(c, "ERR_3008", "Not a session participant");
        break;
    case SR_POST_GONE:
        send_error(c, "ERR_2001", "Peer not found");
        break;
    default:
        send_unavailable(c);
        break;
    }
}

static void append_raw_or_null(sr_buf *b, const sr_json_span *v)
{
    if (v)
        sr_buf_append(b, v->p, v->n);
    else
        sr_buf_append_str(b, "null");
}

/* MESSAGE_RECEIVED goes into the partner's inbox, the partner read from the
 * session record in the same step (ERR_3001 / ERR_3008 when it is not there). */
static void handle_send(sr_conn *c, const sr_json_doc *d)
{
    if (!check_registered(c)) return;
    peersync_state *st = STATE(c);
    char session[64];
    if (get_string(d, "sessionId", session, sizeof session) != 1 || !valid_id(session, "ses_")) {
        send_error(c, "ERR_3001", "Session not found");
        return;
    }
    const sr_json_span *content = sr_json_get(d, "content"), *type = sr_json_get(d, "type");
    const sr_json_span *correlation = sr_json_get(d, "correlationId");
    if ((type && type->type != SR_JSON_STRING && type->type != SR_JSON_NULL) ||
        (correlation && correlation->type != SR_JSON_STRING && correlation->type != SR_JSON_NULL)) {
        send_invalid(c, "Invalid message: type and correlationId are strings");
        return;
    }
    char stamp[40], route[96], field[PEERSYNC_USER_MAX + 3];
    sr_iso_time(sr_now_ms(), stamp, sizeof stamp);
    snprintf(route, sizeof route, "peersync:session:{%s}", session);
    snprintf(field, sizeof field, "p:%s", st->who.user);
    sr_buf head, mid;
    sr_buf_init(&head);
    sr_buf_init(&mid);
    sr_buf_printf(
        &head, "{\"event\":\"MESSAGE_RECEIVED\",\"data\":{\"sessionId\":\"%s\",\"from\":", session);
    append_string(&head, st->who.user);
    sr_buf_append_str(&head, ",\"content\":");
    sr_buf_append_str(&mid, ",\"type\":");
    append_raw_or_null(&mid, type);
    sr_buf_append_str(&mid, ",\"correlationId\":");
    append_raw_or_null(&mid, correlation);
    sr_buf_printf(&mid, ",\"timestamp\":\"%s\"},\"seq\":", stamp);
    static const char tail[] = "}";
    const char *parts[] = {head.data, content ? content->p : "null", mid.data, tail};
    size_t lens[] = {head.len, content ? content->n : 4, mid.len, sizeof tail - 1};
    sr_post_request req = {
        .kind = c->dialect->name,
        .route = route,
        .route_field = field,
        .from = st->who.user,
        .to = "@",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
    };
    if (sr_session_post(c, &req, on_sent, NULL) != SR_OK) send_unavailable(c);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}

/* ---------- the socket ---------- */

static void peersync_open(sr_conn *c)
{
    sr_conn_set_timer(c, (uint64_t)c->core->cfg->auth_timeout * 1000, on_auth_timeout);
}

static void peersync_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    peersync_state *st = STATE(c);
    sr_json_doc doc, body;
    char event[64];
    if (binary) {
        send_invalid(c, "Binary messages are not supported");
        return;
    }
    int rc = sr_json_parse(&doc, data, len);
    if (rc == SR_JSON_TOO_MANY) {
        sr_conn_refuse(c, SR_LIMIT_JSON_MEMBERS, SR_CLOSE_TOO_BIG, "Too many JSON members");
        return;
    }
    if (rc < 0) {
        sr_core_error(c->core, SR_ERROR_INVALID_JSON);
        send_error(c, "ERR_5001", "Invalid JSON");
        return;
    }
    const sr_json_span *e = doc.root.type == SR_JSON_OBJECT ? sr_json_get(&doc, "event") : NULL;
    const sr_json_span *d = doc.root.type == SR_JSON_OBJECT ? sr_json_get(&doc, "data") : NULL;
    if (!e || sr_json_string(e, event, sizeof event) <= 0) {
        send_invalid(c, "Invalid message: expected {\"event\": string, \"data\": object}");
        return;
    }
    if (d && d->type != SR_JSON_OBJECT && d->type != SR_JSON_NULL) {
        send_invalid(c, "Invalid data: expected an object");
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
        send_error(c, "ERR_5005", "Socket not authenticated");
        return;
    }
    if (!strcmp(event, "PING")) {
        char pong[48];
        int n =
            snprintf(pong, sizeof pong, "{\"timestamp\":%llu}", (unsigned long long)sr_now_ms());
        send_event(c, "PONG", pong, (size_t)n);
    } else if (!strcmp(event, "PEER_REGISTER")) {
        handle_register(c, &body);
    } else if (!strcmp(event, "DISCOVER_PEERS")) {
        if (check_registered(c)) handle_discover(c, &body);
    } else if (!strcmp(event, "CONNECTION_REQUEST")) {
        handle_request(c, &body);
    } else if (!strcmp(event, "CONNECTION_RESPONSE")) {
        handle_response(c, &body);
    } else if (!strcmp(event, "SEND_MESSAGE")) {
        handle_send(c, &body);
    } else {
        char msg[128];
        sr_core_error(c->core, SR_ERROR_BAD_REQUEST);
        snprintf(msg, sizeof msg, "Unknown event: %s", event);
        send_error(c, "ERR_5002", msg);
    }
}

/* The partners of the sessions that ended learn it in their inbox. */
static void on_left(sr_conn *c, const sr_reply *reply, void *arg)
{
    size_t n = sr_reply_count(reply);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t slen, plen;
        const char *session = sr_reply_str(sr_reply_at(reply, i), &slen);
        const char *partner = sr_reply_str(sr_reply_at(reply, i + 1), &plen);
        char to[PEERSYNC_USER_MAX + 1];
        if (!session || !partner || plen > PEERSYNC_USER_MAX) continue;
        memcpy(to, partner, plen);
        to[plen] = '\0';
        sr_buf data;
        sr_buf_init(&data);
        sr_buf_append_str(&data, "{\"sessionId\":");
        sr_buf_append_json_string(&data, session, slen);
        sr_buf_append_str(&data, ",\"peerId\":");
        append_string(&data, STATE(c)->who.user);
        sr_buf_append_str(&data, ",\"reason\":\"peer_disconnected\"}");
        post_event(c, to, "SESSION_ENDED", &data, NULL, NULL);
        sr_buf_free(&data);
    }
}

/* A client that went away ends its peer sessions; a socket the server closed
 * (superseded, restart/drain, slow reader) leaves them for its successor. */
static void peersync_close(sr_conn *c)
{
    peersync_state *st = STATE(c);
    if (!st->authenticated) return;
    sr_peersync_leave(c, st->who.user, !c->closing, on_left, NULL);
}

static void peersync_superseded(sr_conn *c)
{
    send_error(c, "ERR_5005", "Socket superseded: the same user connected again");
}

static void peersync_ended(sr_conn *c)
{
    send_error(c, "ERR_5005", "Connection ended by an administrator");
}

const sr_dialect sr_dialect_peersync = {
    .name = "peersync",
    .state_size = sizeof(peersync_state),
    .open = peersync_open,
    .message = peersync_message,
    .close = peersync_close,
    .superseded = peersync_superseded,
    .ended = peersync_ended,
    .http = peersync_http,
    .error = peersync_limit_error,
};
