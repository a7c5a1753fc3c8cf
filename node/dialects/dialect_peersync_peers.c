/* dialect_peersync_peers.c - peersync's peer-to-peer events (SPEC 4.4):
 * presence (PEER_REGISTER, DISCOVER_PEERS), connection requests
 * (CONNECTION_REQUEST, CONNECTION_RESPONSE) and messages (SEND_MESSAGE).
 * Whatever one user sends another is posted into the recipient's inbox
 * session (sr_session_post); presence, requests and peer sessions are Redis
 * records reached through peersync_store.h. The socket, AUTH and the inbox
 * are dialect_peersync.c. */
#include "dialect_peersync.h"
#include "peersync_store.h"
#include "session.h"
#include "sr_json.h"

#include <stdlib.h>
#include <string.h>

#define STATE(c) SR_PEERSYNC_STATE(c)
#define NAME_MAX_BYTES 128

static const char *const ides[] = {"vscode", "cursor",  "jetbrains", "vim", "neovim",
                                   "emacs",  "sublime", "other",     NULL};
static const char *const roles[] = {"host", "guest", "observer", NULL};
/* the seed's four statuses: a peer may register as "offline" (appear
 * offline) as well as read as it once gone */
static const char *const statuses[] = {"online", "away", "busy", "offline", NULL};

/* ---------- presence ---------- */

static void on_registered(sr_conn *c, int status, void *arg)
{
    if (!sr_conn_alive(c)) return;
    if (status != SR_OK) {
        sr_peersync_send_unavailable(c);
        return;
    }
    peersync_state *st = STATE(c);
    st->registered = true;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"id\":");
    sr_peersync_append_string(&b, st->who.user);
    sr_buf_printf(&b, ",\"profile\":%s,\"status\":\"%s\"}", st->profile, st->status);
    sr_peersync_send_event(c, "PEER_REGISTERED", b.data, b.len);
    sr_buf_free(&b);
}

void sr_peersync_handle_register(sr_conn *c, const sr_json_doc *d)
{
    peersync_state *st = STATE(c);
    char name[sizeof st->who.display_name], ide[16] = "other", role[16] = "guest";
    char status[16] = "online";
    int has_name = sr_peersync_get_string(d, "displayName", name, NAME_MAX_BYTES + 1);
    if (has_name < 0 || (has_name && !name[0])) {
        sr_peersync_send_invalid(c, "Invalid displayName: expected a string of 1 to 128 bytes");
        return;
    }
    if (sr_peersync_get_string(d, "ide", ide, sizeof ide) < 0 || !sr_peersync_one_of(ide, ides)) {
        sr_peersync_send_invalid(
            c, "Invalid ide: expected vscode, cursor, jetbrains, vim, neovim, emacs, "
               "sublime or other");
        return;
    }
    if (sr_peersync_get_string(d, "role", role, sizeof role) < 0 ||
        !sr_peersync_one_of(role, roles)) {
        sr_peersync_send_invalid(c, "Invalid role: expected host, guest or observer");
        return;
    }
    if (sr_peersync_get_string(d, "status", status, sizeof status) < 0 ||
        !sr_peersync_one_of(status, statuses)) {
        sr_peersync_send_invalid(c, "Invalid status: expected online, away, busy or offline");
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
    sr_peersync_append_string(&p, name);
    sr_buf_printf(&p, ",\"role\":\"%s\",\"ide\":\"%s\"}", role, ide);
    if (p.len >= sizeof st->profile) { /* cannot happen with 128 bytes; never store a cut one */
        sr_buf_free(&p);
        sr_peersync_send_invalid(c, "Invalid displayName: the profile is too long");
        return;
    }
    memcpy(st->profile, p.data, p.len);
    st->profile[p.len] = '\0';
    sr_buf_free(&p);
    snprintf(st->status, sizeof st->status, "%s", status);
    sr_peersync_peer peer = {st->who.user, sr_conn_owner(c), st->profile, role, ide, status};
    sr_peersync_register(c, &peer, on_registered, NULL);
}

static void on_discovered(sr_conn *c, int status, const sr_peersync_entry *e, size_t n, void *arg)
{
    if (!sr_conn_alive(c)) return;
    if (status != SR_OK) {
        sr_peersync_send_unavailable(c);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"peers\":[");
    for (size_t i = 0; i < n; i++) {
        const sr_span *profile = &e[i].profile, *st = &e[i].status;
        if (i) sr_buf_append_str(&b, ",");
        sr_peersync_append_peer(&b, e[i].user.p, e[i].user.len, profile->p,
                                profile->p ? profile->len : 0);
        b.len--; /* reopen the object for the status */
        sr_buf_append_str(&b, ",\"status\":");
        sr_buf_append_json_string(&b, st->p ? st->p : "online", st->p ? st->len : 6);
        sr_buf_append_str(&b, "}");
    }
    sr_buf_append_str(&b, "]}");
    sr_peersync_send_event(c, "PEERS_LIST", b.data, b.len);
    sr_buf_free(&b);
}

void sr_peersync_handle_discover(sr_conn *c, const sr_json_doc *d)
{
    char role[32] = "", ide[32] = "";
    if (sr_peersync_get_string(d, "role", role, sizeof role) < 0 ||
        sr_peersync_get_string(d, "ide", ide, sizeof ide) < 0) {
        sr_peersync_send_invalid(c, "Invalid filter: role and ide are strings");
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
            sr_peersync_append_string(&b, op->target);
            sr_buf_append_str(&b, "}");
            sr_peersync_send_event(c, "CONNECTION_REQUEST_SENT", b.data, b.len);
            sr_buf_free(&b);
        } else if (r->status == SR_POST_UNAVAILABLE) {
            sr_peersync_send_unavailable(c);
        } else {
            sr_peersync_send_error(c, "ERR_2001", "Peer not found");
        }
    }
    free(op);
}

static void on_requested(sr_conn *c, const sr_peersync_answer *a, void *arg)
{
    request_op *op = arg;
    const char *profile = a->profile.p;
    size_t plen = a->profile.len;
    if (a->status == SR_ERR_UNAVAILABLE || !sr_conn_alive(c)) {
        if (sr_conn_alive(c)) sr_peersync_send_unavailable(c);
        free(op);
        return;
    }
    if (a->status != SR_OK) {
        if (a->status == SR_PEERSYNC_UNREGISTERED)
            sr_peersync_send_error(c, "ERR_2006", "Peer must register first");
        else if (a->status == SR_PEERSYNC_CONNECTED)
            sr_peersync_send_error(c, "ERR_2005", "Peer already connected");
        else
            sr_peersync_send_error(c, "ERR_2001", "Peer not found");
        free(op);
        return;
    }
    sr_buf data;
    sr_buf_init(&data);
    sr_buf_printf(&data, "{\"requestId\":\"%s\",\"from\":", op->request);
    sr_peersync_append_peer(&data, STATE(c)->who.user, strlen(STATE(c)->who.user), profile,
                            profile ? plen : 0);
    sr_buf_append_str(&data, "}");
    sr_peersync_post_event(c, op->target, "CONNECTION_REQUEST_RECEIVED", &data,
                           on_request_delivered, op);
    sr_buf_free(&data);
}

bool sr_peersync_check_registered(sr_conn *c)
{
    if (STATE(c)->registered) return true;
    sr_peersync_send_error(c, "ERR_2006", "Peer must register first");
    return false;
}

void sr_peersync_handle_request(sr_conn *c, const sr_json_doc *d)
{
    if (!sr_peersync_check_registered(c)) return;
    request_op *op = sr_xcalloc(1, sizeof *op);
    if (sr_peersync_get_string(d, "targetId", op->target, sizeof op->target) != 1 ||
        !sr_peersync_valid_user(op->target) || !strcmp(op->target, STATE(c)->who.user)) {
        sr_peersync_send_error(c, "ERR_2001", "Peer not found");
        free(op);
        return;
    }
    if (sr_peersync_make_id(op->request, "req_") < 0) {
        sr_peersync_send_unavailable(c);
        free(op);
        return;
    }
    sr_peersync_request(c, STATE(c)->who.user, op->target, op->request, on_requested, op);
}

static void on_answer_delivered(sr_conn *c, const sr_post_result *r, void *arg)
{
    free(arg); /* the requester gets it when it is back, if it is away now */
}

static void on_responded(sr_conn *c, const sr_peersync_answer *a, void *arg)
{
    request_op *op = arg;
    size_t ulen = a->requester.len, plen = a->profile.len;
    const char *requester = a->requester.p, *profile = a->profile.p;
    if (!sr_conn_alive(c) || a->status == SR_ERR_UNAVAILABLE || !requester ||
        ulen > PEERSYNC_USER_MAX) {
        if (sr_conn_alive(c)) sr_peersync_send_unavailable(c);
        free(op);
        return;
    }
    if (a->status == SR_PEERSYNC_UNKNOWN) {
        sr_peersync_send_error(c, "ERR_6001", "Connection request not found");
        free(op);
        return;
    }
    peersync_state *st = STATE(c);
    memcpy(op->target, requester, ulen);
    op->target[ulen] = '\0';
    bool accepted = a->status == SR_PEERSYNC_ACCEPTED;
    sr_buf data;
    sr_buf_init(&data);
    if (accepted) {
        sr_buf_printf(&data, "{\"sessionId\":\"%s\",\"peer\":", op->session);
        sr_peersync_append_peer(&data, requester, ulen, profile, profile ? plen : 0);
        sr_buf_append_str(&data, "}");
        sr_peersync_send_event(c, "SESSION_CREATED", data.data, data.len);
        sr_buf_reset(&data);
        sr_buf_printf(&data, "{\"requestId\":\"%s\",\"sessionId\":\"%s\",\"peer\":", op->request,
                      op->session);
        sr_peersync_append_peer(&data, st->who.user, strlen(st->who.user), st->profile,
                                strlen(st->profile));
        sr_buf_append_str(&data, "}");
    } else {
        sr_buf_printf(&data, "{\"requestId\":\"%s\",\"targetId\":", op->request);
        sr_peersync_append_string(&data, st->who.user);
        sr_buf_append_str(&data, "}");
    }
    sr_peersync_post_event(c, op->target, accepted ? "CONNECTION_ACCEPTED" : "CONNECTION_REJECTED",
                           &data, on_answer_delivered, op);
    sr_buf_free(&data);
}

void sr_peersync_handle_response(sr_conn *c, const sr_json_doc *d)
{
    if (!sr_peersync_check_registered(c)) return;
    const sr_json_span *accepted = sr_json_get(d, "accepted");
    request_op *op = sr_xcalloc(1, sizeof *op);
    if (sr_peersync_get_string(d, "requestId", op->request, sizeof op->request) != 1 ||
        !sr_peersync_valid_id(op->request, "req_")) {
        sr_peersync_send_error(c, "ERR_6001", "Connection request not found");
        free(op);
        return;
    }
    if (!accepted || (accepted->type != SR_JSON_TRUE && accepted->type != SR_JSON_FALSE)) {
        sr_peersync_send_invalid(c, "Invalid accepted: expected a boolean");
        free(op);
        return;
    }
    if (sr_peersync_make_id(op->session, "ses_") < 0) {
        sr_peersync_send_unavailable(c);
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
        sr_peersync_send_error(c, "ERR_3001", "Session not found");
        break;
    case SR_POST_NO_RECIPIENT:
        sr_peersync_send_error(c, "ERR_3008", "Not a session participant");
        break;
    case SR_POST_GONE:
        sr_peersync_send_error(c, "ERR_2001", "Peer not found");
        break;
    default:
        sr_peersync_send_unavailable(c);
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
void sr_peersync_handle_send(sr_conn *c, const sr_json_doc *d)
{
    if (!sr_peersync_check_registered(c)) return;
    peersync_state *st = STATE(c);
    char session[64];
    if (sr_peersync_get_string(d, "sessionId", session, sizeof session) != 1 ||
        !sr_peersync_valid_id(session, "ses_")) {
        sr_peersync_send_error(c, "ERR_3001", "Session not found");
        return;
    }
    const sr_json_span *content = sr_json_get(d, "content"), *type = sr_json_get(d, "type");
    const sr_json_span *correlation = sr_json_get(d, "correlationId");
    if ((type && type->type != SR_JSON_STRING && type->type != SR_JSON_NULL) ||
        (correlation && correlation->type != SR_JSON_STRING && correlation->type != SR_JSON_NULL)) {
        sr_peersync_send_invalid(c, "Invalid message: type and correlationId are strings");
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
    sr_peersync_append_string(&head, st->who.user);
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
        .kind = sr_conn_kind(c),
        .route = route,
        .route_field = field,
        .from = st->who.user,
        .to = "@",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
    };
    sr_session_post(c, &req, on_sent, NULL);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}
