/* core_poll.c - Engine.IO long-polling sessions, owned by one node and served
 * by every node (see core_poll.h and docs/design.md).
 *
 * Two roles on every node:
 *   owner      the sr_conn of a polling session, its queue of outgoing
 *              packets and its reader: the one GET held open (on any node),
 *              or after an upgrade the WebSocket relaying it (on any node);
 *   requester  an HTTP request or a WebSocket of someone else's session (or
 *              of its own: then no Redis) waiting for the owner's answer.
 * Messages between them, on the receiving node's channel chan:eio:<boot>:
 *   to the owner      "<T> <from boot> <id> <sid>\n<body>"
 *                     T: G poll, P post (body: payload), B post too big,
 *                     N probe (release the held poll), W upgraded (id: the relay), M a packet
 *                     from the relay, X the relay's socket is gone
 *   to the requester  "A <id> <status>\n<body>"  the answer to G, P, N
 *                     "S <id>\n<payload>"        packets for relay id
 *                     "Z <id>\n"                 close relay id
 * Order holds: a client sends its next POST after the previous one's answer,
 * and one node's PUBLISHes to one channel arrive in order. */
#include "core_internal.h"
#include "core_poll.h"
#include "sr_eio_polling.h"
#include "sr_log.h"
#include "sr_random.h"
#include "sr_socketio.h"
#include "store_eio.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_LEN 8           /* sr_core.boot_id: the start of every sid */
#define SID_RANDOM 16        /* random characters after it */
#define ANSWER_GRACE_MS 5000 /* a request's wait beyond the owner's longest hold */
#define MAX_PAYLOAD                                                                                \
    1000000 /* Engine.IO's maxHttpBufferSize (the transport's body cap is 1 MiB)                   \
             */
#define TEXT "text/plain; charset=UTF-8"
#define SR_CLOSE_GOING_AWAY 1001

enum reader_kind { READER_NONE, READER_GET, READER_STREAM };

typedef struct poll_out {
    sr_frame *f;
    struct poll_out *next;
} poll_out;

/* Owner side: one polling session. */
typedef struct sr_poll {
    sr_core *core;
    sr_conn *c;
    char sid[BOOT_LEN + SID_RANDOM + 1];
    poll_out *head, *tail;
    size_t queued;
    enum reader_kind reader;
    char reader_boot[BOOT_LEN + 1];
    unsigned long long reader_id;
    bool closing;         /* the close packet is queued */
    struct event *finish; /* ends the session from the loop */
} sr_poll;

/* Requester side: a request waiting for the owner's answer. */
typedef struct pending {
    sr_core *core;
    unsigned long long id;
    sr_http_req *r;      /* a GET or POST; NULL for a relay's probe */
    sr_poll_relay *rl;   /* the relay that probed */
    struct event *timer; /* the owner is gone when nothing comes in time */
} pending;

struct sr_poll_relay {
    sr_core *core;
    sr_conn *ws;
    char owner[BOOT_LEN + 1];
    char sid[BOOT_LEN + SID_RANDOM + 1];
    unsigned long long id;
    bool upgraded;
    uint64_t heard_ms;   /* last packets from the owner (monotonic) */
    struct event *watch; /* the owner pings every pingInterval: silence means it is gone */
};

typedef struct sr_poll_registry {
    sr_map polls;   /* sid -> sr_poll (owner) */
    sr_map pending; /* id -> pending (requester) */
    sr_map relays;  /* id -> sr_poll_relay (requester) */
    unsigned long long next_id;
} sr_poll_registry;

static sr_poll_registry *reg(sr_core *core)
{
    if (!core->polls) {
        core->polls = sr_xcalloc(1, sizeof *core->polls);
        sr_map_init(&core->polls->polls);
        sr_map_init(&core->polls->pending);
        sr_map_init(&core->polls->relays);
    }
    return core->polls;
}

static void id_key(unsigned long long id, char *out, size_t cap)
{
    snprintf(out, cap, "%llu", id);
}

static uint64_t ping_interval_ms(const sr_core *core)
{
    return (uint64_t)core->cfg->heartbeat_interval * 1000;
}

size_t sr_conn_poll_max_payload(const sr_conn *c)
{
    return sr_poll_max_payload(c->core);
}

size_t sr_poll_max_payload(const sr_core *core)
{
    size_t max = (size_t)core->cfg->max_message_bytes;
    return max < MAX_PAYLOAD ? max : MAX_PAYLOAD;
}

/* ---------- messages between nodes ---------- */

typedef struct publish_op {
    sr_core *core;
    char kind; /* the message's type */
    unsigned long long id;
    char sid[BOOT_LEN + SID_RANDOM + 1];
} publish_op;

static void owner_handle(sr_core *core, char type, const char *from, unsigned long long id,
                         const char *sid, const char *body, size_t len);
static void requester_handle(sr_core *core, char type, unsigned long long id, unsigned status,
                             const char *body, size_t len);
static void poll_answer_reader(struct sr_poll *p, unsigned status, const char *body, size_t len);
static void on_published(bool delivered, void *arg);

/* Sends a message to node boot: a direct call when it is this node, else one
 * PUBLISH; a node that is gone (no subscriber) fails what was asked. */
static void send_to(sr_core *core, const char *boot, const char *head, size_t hlen,
                    const char *body, size_t len, publish_op *op)
{
    sr_buf m;
    sr_buf_init(&m);
    sr_buf_append(&m, head, hlen);
    sr_buf_append(&m, "\n", 1);
    sr_buf_append(&m, body, len);
    sr_store_eio_publish(core->store, boot, m.data, m.len, on_published, op);
    sr_buf_free(&m);
}

static void to_owner(sr_core *core, char type, const char *owner, unsigned long long id,
                     const char *sid, const char *body, size_t len)
{
    if (!strcmp(owner, core->boot_id)) {
        owner_handle(core, type, core->boot_id, id, sid, body, len);
        return;
    }
    char head[128];
    int n = snprintf(head, sizeof head, "%c %s %llu %s", type, core->boot_id, id, sid);
    publish_op *op = sr_xcalloc(1, sizeof *op);
    *op = (publish_op){.core = core, .kind = type, .id = id};
    snprintf(op->sid, sizeof op->sid, "%s", sid);
    send_to(core, owner, head, (size_t)n, body, len, op);
}

static void to_requester(sr_core *core, char type, const char *boot, unsigned long long id,
                         unsigned status, const char *body, size_t len)
{
    if (!strcmp(boot, core->boot_id)) {
        requester_handle(core, type, id, status, body, len);
        return;
    }
    char head[64];
    int n = type == 'A' ? snprintf(head, sizeof head, "A %llu %u", id, status)
                        : snprintf(head, sizeof head, "%c %llu", type, id);
    publish_op *op = sr_xcalloc(1, sizeof *op);
    *op = (publish_op){.core = core, .kind = type, .id = id};
    send_to(core, boot, head, (size_t)n, body, len, op);
}

/* Packets (S) or the end (Z) for the session's relay. */
static void to_stream(sr_poll *p, char type, const char *body, size_t len)
{
    if (!strcmp(p->reader_boot, p->core->boot_id)) {
        requester_handle(p->core, type, p->reader_id, 0, body, len);
        return;
    }
    char head[64];
    int n = snprintf(head, sizeof head, "%c %llu", type, p->reader_id);
    publish_op *op = sr_xcalloc(1, sizeof *op);
    *op = (publish_op){.core = p->core, .kind = type, .id = p->reader_id};
    snprintf(op->sid, sizeof op->sid, "%s", p->sid);
    send_to(p->core, p->reader_boot, head, (size_t)n, body, len, op);
}

static void poll_end(sr_poll *p);
static void requester_fail(sr_core *core, unsigned long long id);
static void relay_fail(sr_core *core, unsigned long long id);

/* The PUBLISH's answer: no receiver (or no Redis) means the other node is gone. */
static void on_published(bool delivered, void *arg)
{
    publish_op *op = arg;
    bool gone = !delivered;
    if (gone && op->core->polls) {
        switch (op->kind) {
        case 'G':
        case 'P':
        case 'B':
        case 'N':
            requester_fail(op->core, op->id);
            break;
        case 'W':
        case 'M':
            relay_fail(op->core, op->id);
            break;
        case 'S': { /* the reader's node is gone: so is the client's socket */
            sr_poll *p = sr_map_get(&op->core->polls->polls, op->sid);
            if (p) poll_end(p);
            break;
        }
        default:
            break;
        }
    }
    free(op);
}

/* "<T> <from> <id> <sid>" or "A <id> <status>" or "S|Z <id>", then '\n' and the body. */
void sr_poll_bus_message(sr_core *core, const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    char head[160], from[BOOT_LEN + 1], sid[BOOT_LEN + SID_RANDOM + 1];
    if (!nl || (size_t)(nl - data) >= sizeof head || len < 2) return;
    memcpy(head, data, (size_t)(nl - data));
    head[nl - data] = '\0';
    const char *body = nl + 1;
    size_t blen = len - (size_t)(nl - data) - 1;
    unsigned long long id;
    unsigned status = 0;
    char type = head[0];
    if (strchr("GPBNWMX", type)) {
        if (sscanf(head + 1, " %8s %llu %24s", from, &id, sid) == 3)
            owner_handle(core, type, from, id, sid, body, blen);
    } else if (type == 'A') {
        if (sscanf(head + 1, " %llu %u", &id, &status) == 2)
            requester_handle(core, type, id, status, body, blen);
    } else if (type == 'S' || type == 'Z') {
        if (sscanf(head + 1, " %llu", &id) == 1) requester_handle(core, type, id, 0, body, blen);
    }
}

void sr_poll_setup(sr_core *core)
{
    char channel[32];
    reg(core);
    snprintf(channel, sizeof channel, "eio:%s", core->boot_id);
    sr_bus_subscribe(core->bus, channel);
}

/* ---------- owner: the session's queue and reader ---------- */

static void poll_finish_cb(evutil_socket_t fd, short what, void *arg)
{
    sr_poll *p = arg;
    sr_map_remove(&p->core->polls->polls, p->sid);
    poll_answer_reader(p, 200, SR_EIO_FRAME_CLOSE, 1); /* a poll still held learns the end */
    sr_conn_closed(p->c); /* the dialect's close hook, the session left */
    while (p->head) {
        poll_out *o = p->head;
        p->head = o->next;
        sr_frame_unref(o->f);
        free(o);
    }
    event_free(p->finish);
    free(p);
}

/* Ends the session from the loop (never inside a dialect's call). */
static void poll_end(sr_poll *p)
{
    struct timeval now = {0, 0};
    event_add(p->finish, &now);
}

static void poll_answer_reader(sr_poll *p, unsigned status, const char *body, size_t len)
{
    if (p->reader == READER_GET) {
        p->reader = READER_NONE;
        to_requester(p->core, 'A', p->reader_boot, p->reader_id, status, body, len);
    }
}

/* Hands what is queued to the reader: the held poll's answer, or the relay's
 * next packets. After the close packet the session ends. */
static void poll_flush(sr_poll *p)
{
    if (!p->head || p->reader == READER_NONE) return;
    sr_buf b;
    sr_buf_init(&b);
    while (p->head) {
        poll_out *o = p->head;
        p->head = o->next;
        sr_eio_payload_append(&b, sr_frame_data(o->f), o->f->len);
        sr_frame_unref(o->f);
        free(o);
    }
    p->tail = NULL;
    p->queued = 0;
    if (p->reader == READER_GET) {
        poll_answer_reader(p, 200, b.data, b.len);
    } else {
        to_stream(p, 'S', b.data, b.len);
        if (p->closing) to_stream(p, 'Z', "", 0);
    }
    sr_buf_free(&b);
    if (p->closing) poll_end(p);
}

static int poll_send(void *handle, sr_frame *f)
{
    sr_poll *p = handle;
    if (p->queued + f->len > (size_t)p->core->cfg->max_message_bytes + 8u * 1024 * 1024) {
        sr_log_warn("closing a polling session that does not poll (%zu bytes queued)", p->queued);
        poll_end(p);
        return -1;
    }
    poll_out *o = sr_xmalloc(sizeof *o);
    o->f = sr_frame_ref(f);
    o->next = NULL;
    if (p->tail)
        p->tail->next = o;
    else
        p->head = o;
    p->tail = o;
    p->queued += f->len;
    poll_flush(p);
    return 0;
}

/* Engine.IO's close packet goes to the reader; a client that never polls
 * again is let go after a ping timeout's worth. */
static void poll_close(void *handle, int code, const char *reason)
{
    sr_poll *p = handle;
    if (p->closing) return;
    sr_frame *f = sr_frame_new(SR_EIO_FRAME_CLOSE, 1, 0);
    p->closing = true;
    poll_send(p, f);
    sr_frame_unref(f);
    if (p->c->transport && !event_pending(p->finish, EV_TIMEOUT, NULL)) {
        /* shutting down: at once (a held poll still gets the close packet) */
        struct timeval tv = {p->core->draining ? 0 : 5, 0};
        event_add(p->finish, &tv);
    }
}

static uint64_t poll_oldest_unsent_seq(void *handle)
{
    sr_poll *p = handle;
    for (poll_out *o = p->head; o; o = o->next)
        if (o->f->seq) return o->f->seq;
    return 0;
}

static const sr_transport_ops poll_ops = {poll_send, poll_close, poll_oldest_unsent_seq, NULL};

const char *sr_poll_sid(const sr_conn *c)
{
    return c->ops == &poll_ops ? ((const sr_poll *)c->transport)->sid : NULL;
}

/* A packet from the client (POST or relay) to the dialect; false when the
 * session ended meanwhile. */
static bool poll_receive(sr_poll *p, const char *pkt, size_t len)
{
    if (!sr_conn_alive(p->c)) return false;
    sr_conn_receive(p->c, pkt, len, false);
    return sr_conn_alive(p->c);
}

/* Malformed input ends the session, as Engine.IO's "parse error" does. */
static void poll_bad(sr_poll *p)
{
    sr_core_error(p->core, SR_ERROR_BAD_REQUEST);
    sr_conn_close(p->c, SR_CLOSE_POLICY, "parse error");
}

static void owner_post(sr_poll *p, const char *from, unsigned long long id, const char *body,
                       size_t len)
{
    const char *pkt;
    size_t at = 0, n;
    int rc;
    sr_eio_packet ep;
    /* all or nothing: the payload is checked before any packet is handled */
    while ((rc = sr_eio_payload_next(body, len, &at, &pkt, &n)) == 1)
        if (sr_eio_parse(&ep, pkt, n) < 0 || ep.type == SR_EIO_UPGRADE) break;
    if (rc != 0 || len > sr_poll_max_payload(p->core)) {
        bool big = len > sr_poll_max_payload(p->core);
        const char *e = sr_eio_error_body(SR_EIO_BAD_REQUEST);
        to_requester(p->core, 'A', from, id, big ? 413 : 400, e, strlen(e));
        poll_bad(p);
        return;
    }
    to_requester(p->core, 'A', from, id, 200, "ok", 2);
    sr_conn *c = p->c;
    sr_conn_ref(c);
    for (at = 0; sr_eio_payload_next(body, len, &at, &pkt, &n) == 1;)
        if (!poll_receive(p, pkt, n)) break;
    sr_conn_unref(c);
}

static void owner_handle(sr_core *core, char type, const char *from, unsigned long long id,
                         const char *sid, const char *body, size_t len)
{
    sr_poll *p = sr_map_get(&reg(core)->polls, sid);
    const char *unknown = sr_eio_error_body(SR_EIO_UNKNOWN_SID);
    if (!p || (!sr_conn_alive(p->c) && type != 'G' && type != 'N')) {
        if (type == 'W' || type == 'M')
            to_requester(core, 'Z', from, id, 0, "", 0);
        else if (type != 'X')
            to_requester(core, 'A', from, id, 400, unknown, strlen(unknown));
        return;
    }
    switch (type) {
    case 'G':
        if (p->reader != READER_NONE) {
            /* two polls at once (or a poll after the upgrade): Engine.IO's overlap error */
            const char *bad = sr_eio_error_body(SR_EIO_BAD_REQUEST);
            to_requester(core, 'A', from, id, 400, bad, strlen(bad));
            if (p->reader == READER_GET) poll_bad(p);
            return;
        }
        p->reader = READER_GET;
        snprintf(p->reader_boot, sizeof p->reader_boot, "%s", from);
        p->reader_id = id;
        poll_flush(p);
        return;
    case 'P':
        if (p->reader == READER_STREAM) {
            const char *bad = sr_eio_error_body(SR_EIO_BAD_REQUEST);
            to_requester(core, 'A', from, id, 400, bad, strlen(bad));
            return;
        }
        owner_post(p, from, id, body, len);
        return;
    case 'B': { /* a POST over maxPayload: Engine.IO ends the session */
        const char *e = sr_eio_error_body(SR_EIO_BAD_REQUEST);
        to_requester(core, 'A', from, id, 413, e, strlen(e));
        poll_bad(p);
        return;
    }
    case 'N': /* a probe: the held poll returns (noop) so the client can pause */
        poll_answer_reader(p, 200, "6", 1);
        to_requester(core, 'A', from, id, 200, "ok", 2);
        return;
    case 'W': /* upgraded: from now on every packet goes to the relay */
        poll_answer_reader(p, 200, "6", 1);
        p->reader = READER_STREAM;
        snprintf(p->reader_boot, sizeof p->reader_boot, "%s", from);
        p->reader_id = id;
        poll_flush(p);
        return;
    case 'M':
        if (p->reader == READER_STREAM && p->reader_id == id && !strcmp(p->reader_boot, from))
            poll_receive(p, body, len);
        return;
    case 'X':
        if (p->reader == READER_STREAM && p->reader_id == id && !strcmp(p->reader_boot, from)) {
            p->reader = READER_NONE;
            poll_end(p); /* the client's socket is gone */
        }
        return;
    default:
        return;
    }
}

/* The handshake: this node owns the new session; the answer is its OPEN packet. */
static void poll_handshake(sr_http_req *r, const sr_dialect *d)
{
    sr_core *core = r->core;
    sr_buf args;
    sr_buf_init(&args);
    if (!strcmp(r->method, "POST") || sr_eio_query_args(r->query, &args) < 0) {
        const char *e = sr_eio_error_body(!strcmp(r->method, "POST") ? SR_EIO_BAD_HANDSHAKE_METHOD
                                                                     : SR_EIO_BAD_REQUEST);
        sr_http_respond_json(r, 400, e);
        sr_buf_free(&args);
        return;
    }
    sr_poll *p = sr_xcalloc(1, sizeof *p);
    p->core = core;
    memcpy(p->sid, core->boot_id, BOOT_LEN);
    if (sr_random_code(p->sid + BOOT_LEN, SID_RANDOM,
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") < 0) {
        free(p);
        sr_buf_free(&args);
        sr_http_respond_json(r, 500, sr_eio_error_body(SR_EIO_BAD_REQUEST));
        return;
    }
    p->finish = event_new(core->base, -1, 0, poll_finish_cb, p);
    sr_map_set(&reg(core)->polls, p->sid, p);
    p->c = sr_conn_open_ops(core, &poll_ops, p, d, r->ip, args.data, args.len);
    sr_buf_free(&args);
    if (p->closing || !p->head) { /* the dialect refused the query */
        sr_http_respond_json(r, 400, sr_eio_error_body(SR_EIO_BAD_REQUEST));
        poll_end(p);
        return;
    }
    /* the OPEN packet (and whatever followed it) is this request's answer */
    sr_buf b;
    sr_buf_init(&b);
    while (p->head) {
        poll_out *o = p->head;
        p->head = o->next;
        sr_eio_payload_append(&b, sr_frame_data(o->f), o->f->len);
        sr_frame_unref(o->f);
        free(o);
    }
    p->tail = NULL;
    p->queued = 0;
    sr_http_respond(r, 200, TEXT, b.data, b.len);
    sr_buf_free(&b);
}

/* ---------- requester: HTTP requests and relays waiting for an owner ---------- */

static bool valid_sid(const char *sid)
{
    if (strlen(sid) != BOOT_LEN + SID_RANDOM) return false;
    for (const char *s = sid; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static void pending_free(sr_core *core, pending *pd)
{
    char key[24];
    id_key(pd->id, key, sizeof key);
    sr_map_remove(&core->polls->pending, key);
    event_free(pd->timer);
    if (pd->r) sr_http_unref(pd->r);
    free(pd);
}

static pending *pending_take(sr_core *core, unsigned long long id)
{
    char key[24];
    id_key(id, key, sizeof key);
    return core->polls ? sr_map_get(&core->polls->pending, key) : NULL;
}

static void relay_close(sr_poll_relay *rl, int code, const char *reason)
{
    sr_conn_close(rl->ws, code, reason);
}

/* The owner did not answer (gone): unknown sid, as for any stale sid. */
static void requester_fail(sr_core *core, unsigned long long id)
{
    pending *pd = pending_take(core, id);
    if (!pd) return;
    if (pd->r) sr_http_respond_json(pd->r, 400, sr_eio_error_body(SR_EIO_UNKNOWN_SID));
    if (pd->rl) relay_close(pd->rl, SR_CLOSE_POLICY, "Session ID unknown");
    pending_free(core, pd);
}

static void on_pending_timeout(evutil_socket_t fd, short what, void *arg)
{
    pending *pd = arg;
    requester_fail(pd->core, pd->id);
}

static void ask_owner(sr_core *core, char type, sr_http_req *r, sr_poll_relay *rl, const char *sid,
                      const char *body, size_t len)
{
    pending *pd = sr_xcalloc(1, sizeof *pd);
    char key[24], owner[BOOT_LEN + 1];
    pd->core = core;
    pd->id = ++reg(core)->next_id;
    pd->r = r;
    pd->rl = rl;
    if (r) sr_http_ref(r);
    pd->timer = event_new(core->base, -1, 0, on_pending_timeout, pd);
    uint64_t wait = (type == 'G' ? ping_interval_ms(core) : 0) + ANSWER_GRACE_MS;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    event_add(pd->timer, &tv);
    id_key(pd->id, key, sizeof key);
    sr_map_set(&core->polls->pending, key, pd);
    memcpy(owner, sid, BOOT_LEN);
    owner[BOOT_LEN] = '\0';
    to_owner(core, type, owner, pd->id, sid, body, len);
}

static void relay_deliver(sr_poll_relay *rl, const char *payload, size_t len)
{
    const char *pkt;
    size_t at = 0, n;
    while (sr_eio_payload_next(payload, len, &at, &pkt, &n) == 1)
        sr_conn_send(rl->ws, pkt, n);
}

static void requester_handle(sr_core *core, char type, unsigned long long id, unsigned status,
                             const char *body, size_t len)
{
    char key[24];
    if (type == 'S' || type == 'Z') {
        id_key(id, key, sizeof key);
        sr_poll_relay *rl = core->polls ? sr_map_get(&core->polls->relays, key) : NULL;
        if (!rl) return;
        rl->heard_ms = sr_monotonic_ms();
        if (type == 'S')
            relay_deliver(rl, body, len);
        else
            relay_close(rl, SR_CLOSE_NORMAL, "");
        return;
    }
    pending *pd = pending_take(core, id);
    if (!pd) return; /* timed out already */
    if (pd->r)
        sr_http_respond(pd->r, status, status == 200 ? TEXT : NULL, body, len);
    else if (pd->rl && status != 200)
        relay_close(pd->rl, SR_CLOSE_POLICY, "Session ID unknown");
    pending_free(core, pd);
}

bool sr_poll_http(sr_http_req *r, const sr_dialect *d)
{
    sr_eio_request q;
    enum sr_eio_http_error err;
    if (sr_eio_request_parse(r->query, &q, &err) < 0) {
        sr_core_error(r->core, SR_ERROR_BAD_REQUEST);
        sr_http_respond_json(r, 400, sr_eio_error_body(err));
        return true;
    }
    if (!q.polling) return false; /* a WebSocket handshake without its Upgrade header */
    bool get = !strcmp(r->method, "GET"), post = !strcmp(r->method, "POST");
    if (!q.sid[0]) {
        if (r->core->draining) {
            sr_http_respond_json(r, 503, sr_eio_error_body(SR_EIO_BAD_REQUEST));
            return true;
        }
        poll_handshake(r, d);
    } else if (!valid_sid(q.sid)) {
        sr_core_error(r->core, SR_ERROR_UNKNOWN_SESSION);
        sr_http_respond_json(r, 400, sr_eio_error_body(SR_EIO_UNKNOWN_SID));
    } else if (post && r->body.len > sr_poll_max_payload(r->core)) {
        /* the owner ends the session and answers 413; the body stays here */
        sr_core_error(r->core, SR_ERROR_TOO_BIG);
        ask_owner(r->core, 'B', r, NULL, q.sid, "", 0);
    } else if (get || post) {
        ask_owner(r->core, get ? 'G' : 'P', r, NULL, q.sid, r->body.data, r->body.len);
    } else {
        sr_http_respond_json(r, 400, sr_eio_error_body(SR_EIO_BAD_REQUEST));
    }
    return true;
}

/* ---------- requester: a WebSocket upgrading a polling session ---------- */

/* The client's WebSocket stays up when only the owner's node died (and
 * WebSocket pings keep the client from timing out), so the relay closes it
 * when the owner's Engine.IO pings stop: the client then starts over. */
static void relay_watch(evutil_socket_t fd, short what, void *arg)
{
    sr_poll_relay *rl = arg;
    uint64_t silent = sr_monotonic_ms() - rl->heard_ms;
    if (silent > 2 * ping_interval_ms(rl->core) + 2000)
        relay_close(rl, SR_CLOSE_GOING_AWAY, "owner gone");
}

sr_poll_relay *sr_poll_relay_open(sr_conn *ws, const char *sid)
{
    if (!valid_sid(sid)) return NULL;
    sr_poll_relay *rl = sr_xcalloc(1, sizeof *rl);
    char key[24];
    rl->core = ws->core;
    rl->ws = ws;
    rl->id = ++reg(ws->core)->next_id;
    memcpy(rl->owner, sid, BOOT_LEN);
    snprintf(rl->sid, sizeof rl->sid, "%s", sid);
    id_key(rl->id, key, sizeof key);
    sr_map_set(&ws->core->polls->relays, key, rl);
    rl->heard_ms = sr_monotonic_ms();
    rl->watch = event_new(ws->core->base, -1, EV_PERSIST, relay_watch, rl);
    struct timeval tv = {1, 0};
    event_add(rl->watch, &tv);
    return rl;
}

static void relay_fail(sr_core *core, unsigned long long id)
{
    char key[24];
    id_key(id, key, sizeof key);
    sr_poll_relay *rl = core->polls ? sr_map_get(&core->polls->relays, key) : NULL;
    if (rl) relay_close(rl, SR_CLOSE_POLICY, "Session ID unknown");
}

/* Before the upgrade: the probe ("2probe" -> "3probe", and the owner releases
 * the held poll), then "5"; after it, every packet goes to the owner. */
void sr_poll_relay_message(sr_poll_relay *rl, const char *data, size_t len)
{
    if (rl->upgraded) {
        to_owner(rl->core, 'M', rl->owner, rl->id, rl->sid, data, len);
        return;
    }
    if (len == 6 && !memcmp(data, "2probe", 6)) {
        sr_conn_send(rl->ws, "3probe", 6);
        ask_owner(rl->core, 'N', NULL, rl, rl->sid, "", 0);
    } else if (len == 1 && data[0] == '5') {
        rl->upgraded = true;
        to_owner(rl->core, 'W', rl->owner, rl->id, rl->sid, "", 0);
    } else {
        sr_core_error(rl->core, SR_ERROR_BAD_REQUEST);
        relay_close(rl, SR_CLOSE_POLICY, "upgrade expected");
    }
}

static void forget_relay_probe(const char *key, void *value, void *arg)
{
    pending *pd = value;
    if (pd->rl == arg) pd->rl = NULL;
}

void sr_poll_relay_closed(sr_poll_relay *rl)
{
    char key[24];
    if (rl->upgraded) to_owner(rl->core, 'X', rl->owner, rl->id, rl->sid, "", 0);
    sr_map_each(&rl->core->polls->pending, forget_relay_probe, rl);
    id_key(rl->id, key, sizeof key);
    sr_map_remove(&rl->core->polls->relays, key);
    event_free(rl->watch);
    free(rl);
}

static void free_poll(const char *key, void *value, void *arg)
{
    sr_poll *p = value;
    event_free(p->finish);
    while (p->head) {
        poll_out *o = p->head;
        p->head = o->next;
        sr_frame_unref(o->f);
        free(o);
    }
    free(p);
}

static void free_pending(const char *key, void *value, void *arg)
{
    pending *pd = value;
    event_free(pd->timer);
    if (pd->r) sr_http_unref(pd->r);
    free(pd);
}

static void free_relay(const char *key, void *value, void *arg)
{
    sr_poll_relay *rl = value;
    event_free(rl->watch);
    free(rl);
}

void sr_poll_free(sr_core *core)
{
    if (!core->polls) return;
    sr_map_each(&core->polls->polls, free_poll, NULL);
    sr_map_each(&core->polls->pending, free_pending, NULL);
    sr_map_each(&core->polls->relays, free_relay, NULL);
    sr_map_free(&core->polls->polls);
    sr_map_free(&core->polls->pending);
    sr_map_free(&core->polls->relays);
    free(core->polls);
    core->polls = NULL;
}
