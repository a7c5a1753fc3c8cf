/* dialect_mirror.c - the screen-mirroring protocol of seed 002 (SPEC 4.2) on
 * "/mirror", and on "/" when the first message's type is upper-case.
 *
 * A session is a room of up to MIRROR_MAX_MEMBERS members: the SFA app that
 * created it and the mirror apps that joined. VIEW_CUSTOMER / VIEW_PRODUCT
 * store the payload as the session's "customer" / "product" state in the same
 * atomic step that relays it (one round trip), so a member on any node can
 * ask for it again. Members are server-made ids; a client that presents its
 * memberId and lastSeq on JOIN_SESSION resumes where it left off. */
#include "session.h"
#include "sr_json.h"
#include "sr_random.h"

#include <ctype.h>
#include <string.h>

#define MIRROR_ID_LEN 6
#define MIRROR_MAX_MEMBERS 8

typedef struct mirror_state {
    char session[MIRROR_ID_LEN + 1];
    char member[16];
    bool created;  /* the join creates the session */
    bool resuming; /* the client named its memberId: the backlog brings it up to date */
} mirror_state;

#define STATE(c) ((mirror_state *)sr_conn_state(c))

static void send_error(sr_conn *c, const char *message)
{
    sr_conn_send_error(c, "{\"type\":\"ERROR\",\"payload\":{\"message\":", message, "}}");
}

static void send_status_error(sr_conn *c, int status)
{
    const char *words = sr_status_words(status);
    send_error(c, words                         ? words
                  : status == SR_ERR_NOT_JOINED ? "Not a member of this session"
                                                : "Invalid session ID");
}

/* {"type":"<type>","sessionId":"<id>","payload":<state or null>} */
static void send_view(sr_conn *c, const char *type, const char *payload, size_t len)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "{\"type\":\"%s\",\"sessionId\":\"%s\",\"payload\":", type,
                  STATE(c)->session);
    if (payload && len)
        sr_buf_append(&b, payload, len);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, "}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

static void start_join(sr_conn *c, const char *id, const char *member, bool has_last_seq,
                       long long last_seq);

static void on_joined(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    mirror_state *st = STATE(c);
    if (!sr_conn_alive(c)) return;
    if (status == SR_ERR_EXISTS) { /* a 36^6 collision: draw again */
        start_join(c, NULL, NULL, false, 0);
        return;
    }
    if (status != SR_OK) {
        st->session[0] = '\0';
        send_status_error(c, status);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "{\"type\":\"%s\",\"sessionId\":\"%s\",\"memberId\":\"%s\"}",
                  st->created ? "SESSION_CREATED" : "SESSION_JOINED", st->session, st->member);
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
    if (st->created || st->resuming) return;
    /* a new member sees what the session shows right now */
    size_t len;
    const char *customer = sr_join_field(r, "s:customer", &len);
    if (customer) send_view(c, "VIEW_CUSTOMER", customer, len);
    const char *product = sr_join_field(r, "s:product", &len);
    if (product) send_view(c, "VIEW_PRODUCT", product, len);
}

/* id NULL: create a session with a new id. member NULL: a new member id. */
static void start_join(sr_conn *c, const char *id, const char *member, bool has_last_seq,
                       long long last_seq)
{
    mirror_state *st = STATE(c);
    st->created = id == NULL;
    st->resuming = member != NULL;
    if ((!id && sr_random_code(st->session, MIRROR_ID_LEN, SR_ALPHABET_UPPER_ALNUM) < 0) ||
        (!member &&
         sr_random_code(st->member + 1, 10, "abcdefghijklmnopqrstuvwxyz0123456789") < 0)) {
        send_status_error(c, SR_ERR_UNAVAILABLE);
        return;
    }
    if (id) snprintf(st->session, sizeof st->session, "%s", id);
    if (member)
        snprintf(st->member, sizeof st->member, "%s", member);
    else
        st->member[0] = 'm';
    sr_join_request req = {
        .id = st->session,
        .member = st->member,
        .create = st->created,
        .count_failure = !st->created,
        .has_last_seq = has_last_seq,
        .last_seq = last_seq > 0 ? (uint64_t)last_seq : 0,
        .max_members = MIRROR_MAX_MEMBERS,
    };
    sr_session_join(c, &req, on_joined, NULL);
}

/* A session id as clients type it: trimmed, any case. */
static bool read_session_id(const sr_json_span *v, char out[MIRROR_ID_LEN + 1])
{
    char raw[64];
    int n = v ? sr_json_string(v, raw, sizeof raw) : -1;
    if (n < 0) return false;
    const char *s = raw;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len != MIRROR_ID_LEN) return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i])) return false;
        out[i] = (char)toupper((unsigned char)s[i]);
    }
    out[len] = '\0';
    return true;
}

static void handle_join(sr_conn *c, const sr_json_doc *doc)
{
    char id[MIRROR_ID_LEN + 1], member[16];
    const sr_json_span *m = sr_json_get(doc, "memberId"), *last = sr_json_get(doc, "lastSeq");
    long long last_seq = 0;
    if (sr_conn_joining(c)) {
        send_status_error(c, SR_ERR_BUSY);
        return;
    }
    if (!read_session_id(sr_json_get(doc, "sessionId"), id)) {
        send_error(c, "Invalid session ID");
        return;
    }
    bool has_member = m && m->type != SR_JSON_NULL;
    int mlen = has_member ? sr_json_string(m, member, sizeof member) : 0;
    if (has_member &&
        (mlen < 2 || member[0] != 'm' ||
         strspn(member + 1, "abcdefghijklmnopqrstuvwxyz0123456789") != (size_t)mlen - 1)) {
        send_error(c, "Invalid memberId");
        return;
    }
    if (last && last->type != SR_JSON_NULL && (sr_json_int(last, &last_seq) < 0 || last_seq < 0)) {
        send_error(c, "Invalid lastSeq: expected a non-negative integer");
        return;
    }
    start_join(c, id, has_member ? member : NULL, last && last->type != SR_JSON_NULL, last_seq);
}

/* VIEW_*, REQUEST_* name the session they act in: it must be the joined one. */
static bool in_session(sr_conn *c, const sr_json_doc *doc)
{
    char id[MIRROR_ID_LEN + 1];
    if (!sr_conn_joined(c) || !read_session_id(sr_json_get(doc, "sessionId"), id) ||
        strcmp(id, STATE(c)->session) != 0) {
        send_error(c, "Not a member of this session");
        return false;
    }
    return true;
}

static void on_viewed(sr_conn *c, const sr_publish_result *r, void *arg)
{
    if (r->status != SR_OK && sr_conn_alive(c)) send_status_error(c, r->status);
}

/* {"type":"VIEW_CUSTOMER","sessionId":"…","payload":<original bytes>,"seq":N} */
static void handle_view(sr_conn *c, const sr_json_doc *doc, const char *type, const char *state)
{
    if (!in_session(c, doc)) return;
    const sr_json_span *payload = sr_json_get(doc, "payload");
    if (!payload) {
        send_error(c, "Missing payload");
        return;
    }
    char head[96];
    int hlen =
        snprintf(head, sizeof head, "{\"type\":\"%s\",\"sessionId\":\"%s\",\"payload\":", type,
                 STATE(c)->session);
    static const char mid[] = ",\"seq\":", tail[] = "}";
    const char *parts[] = {head, payload->p, mid, tail};
    size_t lens[] = {(size_t)hlen, payload->n, sizeof mid - 1, sizeof tail - 1};
    sr_publish_request req = {
        .to = "*",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
        .state = state,
        .state_value = payload->p,
        .state_value_len = payload->n,
    };
    sr_session_publish(c, &req, on_viewed, NULL);
}

static void on_customer(sr_conn *c, int status, const char *value, size_t len, uint64_t version,
                        void *arg)
{
    if (!sr_conn_alive(c))
        return;
    else if (status != SR_OK)
        send_status_error(c, status);
    else
        send_view(c, "VIEW_CUSTOMER", value, len);
}

static void mirror_typed(sr_conn *c, const sr_json_doc *doc, const char *type)
{
    if (!strcmp(type, "CREATE_SESSION")) {
        if (sr_conn_joining(c))
            send_status_error(c, SR_ERR_BUSY);
        else
            start_join(c, NULL, NULL, false, 0);
    } else if (!strcmp(type, "JOIN_SESSION")) {
        handle_join(c, doc);
    } else if (!strcmp(type, "VIEW_CUSTOMER")) {
        handle_view(c, doc, "VIEW_CUSTOMER", "customer");
    } else if (!strcmp(type, "VIEW_PRODUCT")) {
        handle_view(c, doc, "VIEW_PRODUCT", "product");
    } else if (!strcmp(type, "REQUEST_CUSTOMER_UPDATE")) {
        if (in_session(c, doc)) sr_session_state(c, "customer", on_customer, NULL);
    } else {
        char msg[128];
        send_error(c, sr_dialect_unknown_type(c, type, msg, sizeof msg));
    }
}

static void mirror_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_json_doc doc;
    char type[64];
    const char *error =
        sr_dialect_parse_typed(c, data, len, binary, &doc, type, sizeof type, "Missing type");
    if (error)
        send_error(c, error);
    else
        mirror_typed(c, &doc, type);
}

static void mirror_superseded(sr_conn *c)
{
    send_error(c, "Session taken over by another connection");
}

static void mirror_ended(sr_conn *c)
{
    send_error(c, "Session ended");
}

const sr_dialect sr_dialect_mirror = {
    .name = "mirror",
    .state_size = sizeof(mirror_state),
    .message = mirror_message,
    .typed = mirror_typed,
    .superseded = mirror_superseded,
    .ended = mirror_ended,
    .error = send_error,
};
