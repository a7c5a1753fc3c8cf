/* dialect_devicesync.c - the cross-device sync system of seed 001 (SPEC 4.5):
 * Socket.IO v4 (Engine.IO 4) over the WebSocket transport on "/socket.io/".
 *
 * Mapping on the core: a user's devices are the members of one core session
 * (kind "devicesync", id = user id, member = device id), so any node reaches
 * any of a user's devices:
 *   device-connected / -disconnected  the join's joined / left frames
 *   session-update -> session-updated  publish to "*" that sets state <key>
 *                                      with a version check (or none: last
 *                                      writer wins), the new version spliced in
 *   realtime-event                     publish to "*"
 *   device-message                     publish to member targetDeviceId, which
 *                                      must be online (to_online)
 *   session-restored                   built from the join reply (s:<key>, v:<key>)
 * Frames are whole Engine.IO packets ("42[...]"), so receiving nodes forward
 * them untouched. The Engine.IO heartbeat (server "2", client "3") runs on the
 * connection's timer, which also closes sockets that never connect "/".
 * This file: Engine.IO, connecting "/" and the connection's end. The events
 * are in dialect_devicesync_events.c, REST in dialect_devicesync_rest.c;
 * accounts and device records are reached through devicesync_store.h. */
#include "session.h"
#include "client_limits.h"
#include "core_poll.h"
#include "devicesync_store.h"
#include "dialect_devicesync.h"
#include "sr_eio_polling.h"
#include "sr_json.h"
#include "sr_jwt.h"
#include "sr_random.h"
#include "sr_socketio.h"

#include <stdlib.h>
#include <string.h>

#define DS_MAX_INFO 4096 /* bytes of deviceInfo JSON */
#define DS_PING_TIMEOUT_MS 20000u
#define DS_JOIN_TRIES 4
#define SID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

#define STATE(c) ((sr_ds_state *)sr_conn_state(c))

/* 44{"message":…[,"data":{"reason":…}]}: the namespace connection is refused. */
static void connect_error(sr_conn *c, const char *nsp, const char *message, const char *reason)
{
    sr_buf b;
    sr_buf_init(&b);
    if (!reason) {
        sr_sio_build_connect_error(&b, nsp, message);
    } else {
        sr_buf_append_str(&b, "44{\"message\":");
        sr_buf_append_json_string(&b, message, strlen(message));
        sr_buf_append_str(&b, ",\"data\":{\"reason\":");
        sr_buf_append_json_string(&b, reason, strlen(reason));
        sr_buf_append_str(&b, "}}");
    }
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
}

/* ---------- Engine.IO heartbeat and the connect deadline ---------- */

static uint64_t ping_interval_ms(const sr_conn *c)
{
    return (uint64_t)sr_conn_config(c)->heartbeat_interval * 1000;
}

static uint64_t ping_timeout_ms(const sr_conn *c)
{
    uint64_t interval = ping_interval_ms(c);
    return interval < DS_PING_TIMEOUT_MS ? interval : DS_PING_TIMEOUT_MS;
}

static void tick(sr_conn *c);

static void schedule(sr_conn *c)
{
    sr_ds_state *st = STATE(c);
    uint64_t next = st->next_ping_ms, now = sr_monotonic_ms();
    if (st->pong_deadline_ms && st->pong_deadline_ms < next) next = st->pong_deadline_ms;
    if (st->connect_deadline_ms && st->connect_deadline_ms < next) next = st->connect_deadline_ms;
    sr_conn_set_timer(c, next > now ? next - now : 0, tick);
}

static void tick(sr_conn *c)
{
    sr_ds_state *st = STATE(c);
    uint64_t now = sr_monotonic_ms();
    if (st->pong_deadline_ms && now >= st->pong_deadline_ms) {
        sr_conn_close(c, SR_CLOSE_NORMAL, "ping timeout");
        return;
    }
    if (st->connect_deadline_ms && now >= st->connect_deadline_ms) {
        sr_conn_close(c, SR_CLOSE_POLICY, "no namespace connected in time");
        return;
    }
    if (now >= st->next_ping_ms) {
        sr_conn_send(c, SR_EIO_FRAME_PING, 1);
        if (!st->pong_deadline_ms) st->pong_deadline_ms = now + ping_timeout_ms(c);
        st->next_ping_ms = now + ping_interval_ms(c);
    }
    schedule(c);
}

static void on_pong(sr_conn *c)
{
    STATE(c)->pong_deadline_ms = 0;
    schedule(c);
}

static void args_list(const sr_conn *c, const char **args, int *n, int max)
{
    size_t len;
    const char *all = sr_conn_args(c, &len);
    *n = 0;
    for (size_t at = 0; at < len && *n < max;) {
        const char *arg = all + at;
        args[(*n)++] = arg;
        at += strnlen(arg, len - at) + 1;
    }
}

static void ds_open(sr_conn *c)
{
    sr_ds_state *st = STATE(c);
    const char *args[32];
    int n;
    sr_buf_init(&st->info);
    const char *poll_sid = sr_poll_sid(c);
    const char *upgrade_sid = poll_sid ? NULL : sr_conn_arg(c, "sid");
    if (upgrade_sid) { /* a polling session moving to this WebSocket: relayed to its owner */
        st->relay = sr_poll_relay_open(c, upgrade_sid);
        if (!st->relay) sr_conn_close(c, SR_CLOSE_POLICY, "Session ID unknown");
        return;
    }
    args_list(c, args, &n, 32);
    int rc = poll_sid ? SR_SIO_OK : sr_eio_args_check(args, n);
    if (rc < 0) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        sr_conn_close(c, SR_CLOSE_POLICY, sr_sio_strerror(rc));
        return;
    }
    if (sr_random_code(st->sid, 20, SID_CHARS) < 0) {
        sr_conn_close(c, SR_CLOSE_POLICY, "no randomness");
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    if (poll_sid)
        sr_eio_build_open_polling(&b, poll_sid, (unsigned)ping_interval_ms(c),
                                  (unsigned)ping_timeout_ms(c), sr_conn_poll_max_payload(c));
    else
        sr_eio_build_open(&b, st->sid, (unsigned)ping_interval_ms(c), (unsigned)ping_timeout_ms(c),
                          (size_t)sr_conn_config(c)->max_message_bytes);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
    uint64_t now = sr_monotonic_ms();
    st->next_ping_ms = now + ping_interval_ms(c);
    st->connect_deadline_ms = now + (uint64_t)sr_conn_config(c)->auth_timeout * 1000;
    schedule(c);
}

/* ---------- connecting "/": token, device record, join ---------- */

static void refuse(sr_conn *c, const char *message)
{
    STATE(c)->phase = SR_DS_OPEN;
    connect_error(c, NULL, message, NULL);
}

static void append_info_entry(sr_buf *b, const sr_join_result *r, const char *member, size_t len)
{
    char field[160];
    size_t ilen;
    snprintf(field, sizeof field, "i:%.*s", (int)len, member);
    const char *info = sr_join_field(r, field, &ilen);
    sr_json_doc doc;
    if (info && sr_json_parse(&doc, info, ilen) == 0) sr_buf_append(b, info, ilen);
}

static void list_online(sr_conn *c, const char *member, size_t len, void *arg)
{
    void **a = arg;
    sr_buf *b = a[0];
    size_t before = b->len;
    sr_buf_append_str(b, ",");
    append_info_entry(b, a[1], member, len);
    if (b->len == before + 1) b->len = before; /* no record: leave it out */
}

/* 42["session-restored",{"deviceId","userId","sessionData":{k:state},
 * "versions":{k:n},"devices":[online devices],"seq":N}] */
static void send_restored(sr_conn *c, const sr_join_result *r)
{
    sr_ds_state *st = STATE(c);
    sr_buf b;
    sr_buf_init(&b);
    sr_sio_event_begin(&b, NULL, -1, "session-restored");
    sr_buf_printf(&b, ",{\"deviceId\":\"%s\",\"userId\":", st->device);
    sr_buf_append_json_string(&b, st->user, strlen(st->user));
    sr_buf_append_str(&b, ",");
    sr_ds_append_state(&b, r->fields, r->nfields);
    sr_buf_append_str(&b, ",\"devices\":[");
    append_info_entry(&b, r, st->device, strlen(st->device));
    void *arg[2] = {&b, (void *)r};
    sr_join_each_online(c, r, list_online, arg);
    sr_buf_printf(&b, "],\"seq\":%llu}", (unsigned long long)r->seq);
    sr_sio_event_end(&b);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
}

static void start_join(sr_conn *c, bool create);

static void on_joined(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    sr_ds_state *st = STATE(c);
    if (!sr_conn_alive(c)) return;
    if ((status == SR_ERR_UNKNOWN_SESSION || status == SR_ERR_EXISTS) &&
        st->join_tries < DS_JOIN_TRIES) {
        start_join(c, status == SR_ERR_UNKNOWN_SESSION); /* first device, or a race of two */
        return;
    }
    if (status != SR_OK) {
        refuse(c, sr_ds_status_message(status == SR_ERR_UNAVAILABLE ? status : SR_ERR_UNAVAILABLE));
        return;
    }
    st->phase = SR_DS_CONNECTED;
    st->connect_deadline_ms = 0;
    sr_buf b;
    sr_buf_init(&b);
    sr_sio_build_connect(&b, NULL, st->sid);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
    send_restored(c, r);
}

static void start_join(sr_conn *c, bool create)
{
    sr_ds_state *st = STATE(c);
    sr_buf joined, left, info;
    sr_buf_init(&joined);
    sr_buf_init(&left);
    sr_buf_init(&info);
    unsigned long long now = (unsigned long long)sr_now_ms();
    sr_buf_printf(&info, "{\"deviceId\":\"%s\",\"deviceInfo\":", st->device);
    sr_buf_append(&info, st->info.data, st->info.len);
    sr_buf_printf(&info, ",\"connectedAt\":%llu}", now);
    sr_sio_event_begin(&joined, NULL, -1, "device-connected");
    sr_buf_printf(&joined, ",{\"deviceId\":\"%s\",\"deviceInfo\":", st->device);
    sr_buf_append(&joined, st->info.data, st->info.len);
    sr_buf_printf(&joined, ",\"timestamp\":%llu}", now);
    sr_sio_event_end(&joined);
    sr_sio_event_begin(&left, NULL, -1, "device-disconnected");
    sr_buf_printf(&left, ",{\"deviceId\":\"%s\"}", st->device);
    sr_sio_event_end(&left);
    st->join_tries++;
    sr_join_request req = {
        .id = st->user,
        .member = st->device,
        .create = create,
        .has_last_seq = st->has_last_seq,
        .last_seq = st->last_seq > 0 ? (uint64_t)st->last_seq : 0,
        .joined_frame = joined.data,
        .joined_len = joined.len,
        .left_frame = left.data,
        .left_len = left.len,
        .member_info = info.data,
        .member_info_len = info.len,
    };
    sr_session_join(c, &req, on_joined, NULL);
    sr_buf_free(&joined);
    sr_buf_free(&left);
    sr_buf_free(&info);
}

/* id: the device's id (SR_ERR_UNAVAILABLE is counted by the store) */
static void on_device(sr_conn *c, int status, sr_span dev, void *arg)
{
    sr_ds_state *st = STATE(c);
    size_t len = dev.len;
    const char *id = status == SR_OK ? dev.p : NULL;
    if (!sr_conn_alive(c)) {
        /* nothing to do: the record's last seen is its connect time */
    } else if (!id || len > SR_DS_ID_LEN) {
        refuse(c, sr_ds_status_message(SR_ERR_UNAVAILABLE));
    } else {
        memcpy(st->device, id, len);
        st->device[len] = '\0';
        st->registered = true;
        st->join_tries = 0;
        start_join(c, false);
    }
}

/* Reads a string member of the auth object into out; false when absent or null. */
static bool auth_string(const sr_json_doc *auth, const char *name, char *out, size_t cap, bool *bad)
{
    const sr_json_span *v = auth ? sr_json_get(auth, name) : NULL;
    if (!v || v->type == SR_JSON_NULL) return false;
    if (sr_json_string(v, out, cap) <= 0) *bad = true;
    return !*bad;
}

static void handle_connect(sr_conn *c, const sr_sio_packet *p)
{
    sr_ds_state *st = STATE(c);
    if (st->phase != SR_DS_OPEN) return; /* connected or connecting already */
    sr_json_doc auth;
    bool has_auth =
        p->data.type == SR_JSON_OBJECT && sr_json_parse(&auth, p->data.p, p->data.n) == 0;
    char token[SR_JWT_MAX_TOKEN + 1];
    bool bad = false;
    if (!auth_string(has_auth ? &auth : NULL, "token", token, sizeof token, &bad)) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        connect_error(c, NULL, "Authentication error", bad ? "malformed token" : "no token");
        return;
    }
    char user[SR_DS_MAX_USER + 1];
    int rc = sr_ds_verify(sr_conn_config(c), token, strlen(token), user, sizeof user);
    if (rc < 0) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        connect_error(c, NULL, "Authentication error", sr_jwt_strerror(rc));
        return;
    }
    /* deviceInfo: the query's JSON text (as the seed client sends it), or an
     * object in auth; must be a JSON object */
    const char *info = sr_conn_arg(c, "deviceInfo");
    size_t info_len = info ? strlen(info) : 0;
    const sr_json_span *ainfo = has_auth ? sr_json_get(&auth, "deviceInfo") : NULL;
    if (!info && ainfo && ainfo->type != SR_JSON_NULL) {
        info = ainfo->p;
        info_len = ainfo->n;
    }
    sr_json_doc idoc;
    if (info && (info_len > DS_MAX_INFO || sr_json_parse(&idoc, info, info_len) < 0 ||
                 idoc.root.type != SR_JSON_OBJECT)) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        connect_error(c, NULL, "Invalid deviceInfo: expected a JSON object", NULL);
        return;
    }
    /* a known device asks for its id back in auth.deviceId or the query; one
     * that asks for none gets an offline record with its deviceInfo back
     * (device_register.lua) */
    char requested[64] = "";
    bool bad_id = false;
    if (!auth_string(has_auth ? &auth : NULL, "deviceId", requested, sizeof requested, &bad_id)) {
        const char *q = sr_conn_arg(c, "deviceId");
        snprintf(requested, sizeof requested, "%s", q ? q : "");
    }
    if (strlen(requested) != SR_DS_ID_LEN || !sr_ds_valid_id(requested, SR_DS_ID_LEN))
        requested[0] = '\0'; /* not one of ours: the device gets a new id */
    long long last_seq = -1;
    const sr_json_span *ls = has_auth ? sr_json_get(&auth, "lastSeq") : NULL;
    if (ls && ls->type != SR_JSON_NULL && (sr_json_int(ls, &last_seq) < 0 || last_seq < 0)) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        connect_error(c, NULL, "Invalid lastSeq: expected a non-negative integer", NULL);
        return;
    }
    char new_id[SR_DS_ID_LEN + 1];
    if (sr_ds_uuid(new_id) < 0) {
        refuse(c, sr_ds_status_message(SR_ERR_UNAVAILABLE));
        return;
    }
    snprintf(st->user, sizeof st->user, "%s", user);
    st->has_last_seq = last_seq >= 0;
    st->last_seq = last_seq;
    sr_buf_reset(&st->info);
    if (info)
        sr_buf_append(&st->info, info, info_len);
    else
        sr_buf_append_str(&st->info, "{}");
    st->phase = SR_DS_CONNECTING;
    sr_accounts_device_args a = {
        .user = st->user,
        .requested = requested[0] ? requested : NULL,
        .new_id = new_id,
        .info = st->info.data,
        .info_len = st->info.len,
        .max_devices = SR_DS_MAX_DEVICES,
        .kind = SR_DS_KIND,
        .claim_ms = (unsigned)sr_conn_config(c)->auth_timeout * 1000u,
    };
    sr_accounts_device_register(c, &a, on_device, NULL);
}

/* The client leaves "/" (the Engine.IO connection stays until it closes it). */
static void handle_disconnect(sr_conn *c)
{
    sr_ds_state *st = STATE(c);
    if (st->phase != SR_DS_CONNECTED) return;
    sr_session_leave(c);
    if (st->registered) sr_accounts_device_seen(c, st->user, st->device);
    st->phase = SR_DS_OPEN;
    st->connect_deadline_ms = sr_monotonic_ms() + (uint64_t)sr_conn_config(c)->auth_timeout * 1000;
    schedule(c);
}

static void ds_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_ds_state *st = STATE(c);
    if (st->relay) {
        if (!binary) sr_poll_relay_message(st->relay, data, len);
        return;
    }
    if (binary) {
        if (!st->binary_refused) {
            sr_conn_error(c, SR_ERROR_BAD_REQUEST);
            sr_ds_send_error(c, NULL, "Binary attachments are not supported");
        }
        return;
    }
    st->binary_refused = false;
    sr_eio_packet ep;
    int rc = sr_eio_parse(&ep, data, len);
    if (rc == SR_SIO_OK && ep.type == SR_EIO_PONG) {
        on_pong(c);
        return;
    }
    if (rc == SR_SIO_OK && ep.type == SR_EIO_CLOSE) {
        sr_conn_close(c, SR_CLOSE_NORMAL, "client closed");
        return;
    }
    if (rc == SR_SIO_OK && ep.type != SR_EIO_MESSAGE) return; /* noop, probes */
    sr_sio_packet p;
    if (rc == SR_SIO_OK) rc = sr_sio_parse(&p, ep.data, ep.len);
    if (rc == SR_SIO_ERR_TOO_MANY) {
        sr_conn_refuse(c, SR_LIMIT_JSON_MEMBERS, SR_CLOSE_TOO_BIG, "Too many JSON members");
        return;
    }
    if (rc == SR_SIO_ERR_BINARY) {
        st->binary_refused = true;
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        sr_ds_send_error(c, NULL, "Binary attachments are not supported");
        return;
    }
    if (rc < 0) {
        char text[160];
        snprintf(text, sizeof text, "Malformed packet: %s", sr_sio_strerror(rc));
        sr_conn_error(c, rc == SR_SIO_ERR_JSON ? SR_ERROR_INVALID_JSON : SR_ERROR_BAD_REQUEST);
        sr_ds_send_error(c, NULL, text);
        return;
    }
    if (strcmp(p.nsp, "/") != 0) {
        if (p.type == SR_SIO_CONNECT) connect_error(c, p.nsp, "Invalid namespace", NULL);
        return;
    }
    switch (p.type) {
    case SR_SIO_CONNECT:
        handle_connect(c, &p);
        break;
    case SR_SIO_DISCONNECT:
        handle_disconnect(c);
        break;
    case SR_SIO_EVENT:
        sr_ds_handle_event(c, &p);
        break;
    default: /* ACK: the server asks for none; CONNECT_ERROR: clients never send it */
        break;
    }
}

/* ---------- end of a connection ---------- */

static void send_gone(sr_conn *c, const char *message)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_ds_send_error(c, NULL, message);
    sr_sio_build_disconnect(&b, NULL); /* "io server disconnect": clients do not reconnect */
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
}

static void ds_superseded(sr_conn *c)
{
    send_gone(c, "Device connected elsewhere");
}

static void ds_ended(sr_conn *c)
{
    send_gone(c, "Session ended");
}

static void ds_close(sr_conn *c)
{
    sr_ds_state *st = STATE(c);
    if (st->relay) {
        sr_poll_relay_closed(st->relay);
        st->relay = NULL;
    }
    if (st->registered && st->phase == SR_DS_CONNECTED)
        sr_accounts_device_seen(c, st->user, st->device);
    sr_buf_free(&st->info);
}

static void ds_limit_error(sr_conn *c, const char *message)
{
    sr_ds_send_error(c, NULL, message);
}

const sr_dialect sr_dialect_devicesync = {
    .name = SR_DS_KIND,
    .state_size = sizeof(sr_ds_state),
    .open = ds_open,
    .message = ds_message,
    .close = ds_close,
    .superseded = ds_superseded,
    .ended = ds_ended,
    .http = sr_ds_http,
    .error = ds_limit_error,
};
