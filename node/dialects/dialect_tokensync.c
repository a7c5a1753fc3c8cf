/* dialect_tokensync.c - the token sync protocol of seed 000 (SPEC 4.1) on "/".
 *
 * A "web" client pairs and gets a token (the session id); a "figma" client
 * pairs with that token. "sync" messages are relayed to the other side with
 * the session's seq; the payload's original bytes are spliced into the frame
 * so a message is never re-encoded. Members are the two roles. */
#include "session.h"
#include "sr_json.h"
#include "sr_token.h"

#include <string.h>

typedef struct tokensync_state {
    char role[8]; /* "web" or "figma" once paired */
    char token[SR_DTS_DIGITS + 1];
} tokensync_state;

#define STATE(c) ((tokensync_state *)sr_conn_state(c))

static void send_error(sr_conn *c, const char *message)
{
    sr_conn_send_error(c, "{\"type\":\"error\",\"error\":", message, "}");
}

static void peer_frame(sr_buf *b, const char *event, const char *role, size_t role_len)
{
    sr_buf_printf(b, "{\"type\":\"peer\",\"event\":\"%s\",\"clientType\":", event);
    sr_buf_append_json_string(b, role, role_len);
    sr_buf_append_str(b, "}");
}

static void tell_online_peer(sr_conn *c, const char *member, size_t len, void *arg)
{
    sr_buf b;
    sr_buf_init(&b);
    peer_frame(&b, "joined", member, len);
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

static void send_join_error(sr_conn *c, int status)
{
    switch (status) {
    case SR_ERR_RATE_LIMITED:
        send_error(c, "Too many pairing attempts");
        break;
    case SR_ERR_UNAVAILABLE:
        send_error(c, "Service unavailable, try again");
        break;
    case SR_ERR_BUSY:
        send_error(c, "Pairing already in progress");
        break;
    default:
        send_error(c, "Invalid session token");
        break;
    }
}

static void start_pair(sr_conn *c, const char *role, const char *token, bool create,
                       bool has_last_seq, long long last_seq);

static void on_paired(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    tokensync_state *st = STATE(c);
    if (!sr_conn_alive(c)) return;
    if (status == SR_ERR_EXISTS) { /* 48-bit collision: draw again */
        start_pair(c, "web", NULL, true, false, 0);
        return;
    }
    if (status != SR_OK) {
        st->role[0] = '\0';
        send_join_error(c, status);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(
        &b, "{\"type\":\"pair\",\"sessionToken\":\"" SR_DTS_PREFIX "%s\",\"clientType\":\"%s\"}",
        st->token, st->role);
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
    sr_join_each_online(c, r, tell_online_peer, NULL);
}

static void start_pair(sr_conn *c, const char *role, const char *token, bool create,
                       bool has_last_seq, long long last_seq)
{
    tokensync_state *st = STATE(c);
    snprintf(st->role, sizeof st->role, "%s", role);
    if (create && sr_token_dts_new(st->token) < 0) {
        send_error(c, "Service unavailable, try again");
        return;
    }
    if (!create) snprintf(st->token, sizeof st->token, "%s", token);
    sr_buf joined, left;
    sr_buf_init(&joined);
    sr_buf_init(&left);
    peer_frame(&joined, "joined", role, strlen(role));
    peer_frame(&left, "left", role, strlen(role));
    sr_join_request req = {
        .id = st->token,
        .member = role,
        .create = create,
        .count_failure = !create,
        .has_last_seq = has_last_seq,
        .last_seq = last_seq > 0 ? (uint64_t)last_seq : 0,
        .joined_frame = joined.data,
        .joined_len = joined.len,
        .left_frame = left.data,
        .left_len = left.len,
    };
    sr_session_join(c, &req, on_paired, NULL);
    sr_buf_free(&joined);
    sr_buf_free(&left);
}

static void handle_pair(sr_conn *c, const sr_json_doc *doc)
{
    const sr_json_span *type = sr_json_get(doc, "clientType");
    const sr_json_span *token = sr_json_get(doc, "sessionToken");
    const sr_json_span *last = sr_json_get(doc, "lastSeq");
    long long last_seq = 0;
    char raw[128], canonical[SR_DTS_DIGITS + 1];
    bool web = sr_json_string_is(type, "web");

    if (sr_conn_joining(c)) { /* before touching the state of that join */
        send_join_error(c, SR_ERR_BUSY);
        return;
    }
    if (!web && !sr_json_string_is(type, "figma")) {
        send_error(c, "Invalid clientType: expected \"web\" or \"figma\"");
        return;
    }
    if (last && last->type != SR_JSON_NULL && (sr_json_int(last, &last_seq) < 0 || last_seq < 0)) {
        send_error(c, "Invalid lastSeq: expected a non-negative integer");
        return;
    }
    bool has_token = token && token->type != SR_JSON_NULL;
    if (web && !has_token) {
        start_pair(c, "web", NULL, true, false, 0);
        return;
    }
    int n = has_token ? sr_json_string(token, raw, sizeof raw) : -1;
    if (n < 0 || sr_token_dts_normalize(raw, (size_t)n, canonical) < 0) {
        send_error(c, "Invalid session token");
        return;
    }
    start_pair(c, web ? "web" : "figma", canonical, false,
               last != NULL && last->type != SR_JSON_NULL, last_seq);
}

static void on_synced(sr_conn *c, const sr_publish_result *r, void *arg)
{
    int status = r->status;
    if (status == SR_OK || !sr_conn_alive(c)) return;
    if (status == SR_ERR_NOT_PAIRED)
        send_error(c, "Not paired");
    else if (status == SR_ERR_UNKNOWN_SESSION)
        send_error(c, "Invalid session token");
    else if (status == SR_ERR_UNAVAILABLE)
        send_error(c, "Service unavailable, message not delivered");
}

static void handle_sync(sr_conn *c, const sr_json_doc *doc)
{
    const sr_json_span *payload = sr_json_get(doc, "payload");
    if (!sr_conn_joined(c)) {
        send_error(c, "Not paired");
        return;
    }
    if (!payload) {
        send_error(c, "Invalid sync: missing payload");
        return;
    }
    /* {"type":"sync","payload":<original bytes>,"seq":<seq>} */
    static const char head[] = "{\"type\":\"sync\",\"payload\":", mid[] = ",\"seq\":", tail[] = "}";
    const char *parts[] = {head, payload->p, mid, tail};
    size_t lens[] = {sizeof head - 1, payload->n, sizeof mid - 1, sizeof tail - 1};
    sr_publish_request req = {
        .to = "*", .min_members = 2, .seq_after = 3, .nparts = 4, .parts = parts, .lens = lens};
    sr_session_publish(c, &req, on_synced, NULL);
}

static void tokensync_typed(sr_conn *c, const sr_json_doc *doc, const char *type)
{
    if (!strcmp(type, "sync")) {
        handle_sync(c, doc);
    } else if (!strcmp(type, "pair")) {
        handle_pair(c, doc);
    } else if (!strcmp(type, "ping")) {
        static const char pong[] = "{\"type\":\"pong\"}";
        sr_conn_send(c, pong, sizeof pong - 1);
    } else {
        char msg[128];
        send_error(c, sr_dialect_unknown_type(c, type, msg, sizeof msg));
    }
}

static void tokensync_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_json_doc doc;
    char type[64];
    const char *error =
        sr_dialect_parse_typed(c, data, len, binary, &doc, type, sizeof type,
                               "Invalid message: expected an object with a string \"type\"");
    if (error)
        send_error(c, error);
    else
        tokensync_typed(c, &doc, type);
}

static void tokensync_superseded(sr_conn *c)
{
    send_error(c, "Superseded by a new connection");
}

static void tokensync_ended(sr_conn *c)
{
    send_error(c, "Session ended");
}

const sr_dialect sr_dialect_tokensync = {
    .name = "tokensync",
    .state_size = sizeof(tokensync_state),
    .message = tokensync_message,
    .typed = tokensync_typed,
    .superseded = tokensync_superseded,
    .ended = tokensync_ended,
    .error = send_error,
};
