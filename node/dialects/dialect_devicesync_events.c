/* dialect_devicesync_events.c - the events of a connected device-sync socket
 * (seed 001) and the frames the dialect answers with.
 *
 *   session-update -> session-updated  publish to "*" that sets state <key>
 *                                      with a version check (or none: last
 *                                      writer wins), the new version spliced in
 *   realtime-event                     publish to "*"
 *   device-message                     publish to member targetDeviceId, which
 *                                      must be online (to_online)
 * Each publish carries its event's sr_ds_op as the callback's argument; an
 * event that asked for an ack gets one, success or not. */
#include "session.h"
#include "dialect_devicesync.h"
#include "sr_json.h"
#include "sr_socketio.h"

#include <stdlib.h>
#include <string.h>

#define STATE(c) ((sr_ds_state *)sr_conn_state(c))

/* ---------- frames ---------- */

void sr_ds_send_buf(sr_conn *c, sr_buf *b)
{
    sr_conn_send(c, b->data, b->len);
    sr_buf_reset(b);
}

/* 42["error",{"message":…[,"event":…]}] */
void sr_ds_send_error(sr_conn *c, const char *event, const char *message)
{
    sr_conn_count_error(c);
    sr_buf b;
    sr_buf_init(&b);
    sr_sio_event_begin(&b, NULL, -1, "error");
    sr_buf_append_str(&b, ",{\"message\":");
    sr_buf_append_json_string(&b, message, strlen(message));
    if (event) {
        sr_buf_append_str(&b, ",\"event\":");
        sr_buf_append_json_string(&b, event, strlen(event));
    }
    sr_buf_append_str(&b, "}");
    sr_sio_event_end(&b);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
}

/* The error event, and the ack {"success":false,"error":…} when one was asked. */
void sr_ds_fail(sr_conn *c, long long ack, const char *event, const char *message)
{
    sr_ds_send_error(c, event, message);
    if (ack < 0) return;
    sr_buf args, b;
    sr_buf_init(&args);
    sr_buf_init(&b);
    sr_buf_append_str(&args, "{\"success\":false,\"error\":");
    sr_buf_append_json_string(&args, message, strlen(message));
    sr_buf_append_str(&args, "}");
    sr_sio_build_ack(&b, NULL, ack, args.data, args.len);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&args);
    sr_buf_free(&b);
}

void sr_ds_send_ack(sr_conn *c, long long ack, const char *json, size_t len)
{
    if (ack < 0) return;
    sr_buf b;
    sr_buf_init(&b);
    sr_sio_build_ack(&b, NULL, ack, json, len);
    sr_ds_send_buf(c, &b);
    sr_buf_free(&b);
}

const char *sr_ds_status_message(int status)
{
    switch (status) {
    case SR_ERR_OFFLINE:
        return "Target device not found or offline";
    case SR_ERR_UNAVAILABLE:
        return "Service unavailable";
    case SR_ERR_UNKNOWN_SESSION:
        return "Session expired: reconnect";
    case SR_ERR_NOT_JOINED:
        return "Not connected";
    default:
        return "Request failed";
    }
}

/* ---------- events ---------- */

/* A publish's op, the argument of on_published; NULL when too many are under way. */
static sr_ds_op *op_new(sr_conn *c, enum sr_ds_op_kind kind, long long ack)
{
    sr_ds_state *st = STATE(c);
    if (st->inflight == SR_DS_MAX_INFLIGHT) return NULL;
    st->inflight++;
    sr_ds_op *op = sr_xcalloc(1, sizeof *op);
    op->kind = kind;
    op->ack = ack;
    op->base_version = -1;
    return op;
}

static void on_update_done(sr_conn *c, const sr_ds_op *op, const sr_publish_result *r)
{
    sr_buf b, args;
    sr_buf_init(&b);
    sr_buf_init(&args);
    if (r->status == SR_OK) {
        sr_buf_append_str(&args, "{\"success\":true,\"sessionKey\":");
        sr_buf_append_json_string(&args, op->key, strlen(op->key));
        sr_buf_printf(&args, ",\"version\":%llu,\"seq\":%llu}", (unsigned long long)r->version,
                      (unsigned long long)r->seq);
        if (op->ack >= 0) {
            sr_sio_build_ack(&b, NULL, op->ack, args.data, args.len);
        } else { /* a client without acks learns its new version this way */
            sr_sio_event_begin(&b, NULL, -1, "session-saved");
            sr_buf_append_str(&b, ",");
            sr_buf_append(&b, args.data, args.len);
            sr_sio_event_end(&b);
        }
        sr_ds_send_buf(c, &b);
    } else if (r->status == SR_ERR_CONFLICT) {
        /* {"sessionKey","state":current,"version":current,"baseVersion":named} */
        sr_json_doc doc;
        sr_buf_append_str(&args, "{\"sessionKey\":");
        sr_buf_append_json_string(&args, op->key, strlen(op->key));
        sr_buf_append_str(&args, ",\"state\":");
        if (r->current && r->current_len && sr_json_parse(&doc, r->current, r->current_len) == 0)
            sr_buf_append(&args, r->current, r->current_len);
        else
            sr_buf_append_str(&args, "null");
        sr_buf_printf(&args, ",\"version\":%llu,\"baseVersion\":%lld",
                      (unsigned long long)r->current_version, op->base_version);
        sr_buf_append_str(&args, ",\"message\":\"Version conflict\"}");
        sr_sio_event_begin(&b, NULL, -1, "session-conflict");
        sr_buf_append_str(&b, ",");
        sr_buf_append(&b, args.data, args.len);
        sr_sio_event_end(&b);
        sr_ds_send_buf(c, &b);
        if (op->ack >= 0) {
            sr_buf ack;
            sr_buf_init(&ack);
            sr_buf_append_str(&ack,
                              "{\"success\":false,\"error\":\"Version conflict\",\"conflict\":");
            sr_buf_append(&ack, args.data, args.len);
            sr_buf_append_str(&ack, "}");
            sr_ds_send_ack(c, op->ack, ack.data, ack.len);
            sr_buf_free(&ack);
        }
    } else {
        sr_ds_fail(c, op->ack, "session-update", sr_ds_status_message(r->status));
    }
    sr_buf_free(&b);
    sr_buf_free(&args);
}

static void on_published(sr_conn *c, const sr_publish_result *r, void *arg)
{
    sr_ds_op *op = arg;
    STATE(c)->inflight--;
    if (!sr_conn_alive(c)) {
        /* the socket is gone: nobody to answer */
    } else if (op->kind == SR_DS_OP_UPDATE) {
        on_update_done(c, op, r);
    } else if (r->status == SR_OK) {
        char json[64];
        int n = snprintf(json, sizeof json, "{\"success\":true,\"seq\":%llu}",
                         (unsigned long long)r->seq);
        sr_ds_send_ack(c, op->ack, json, (size_t)n);
    } else {
        sr_ds_fail(c, op->ack, op->kind == SR_DS_OP_MESSAGE ? "device-message" : "realtime-event",
                   sr_ds_status_message(r->status));
    }
    free(op);
}

static const char *span_or_null(const sr_json_span *v, size_t *len)
{
    if (!v) {
        *len = 4;
        return "null";
    }
    *len = v->n;
    return v->p;
}

static bool valid_key(const char *s, int n)
{
    if (n <= 0 || n > SR_DS_MAX_KEY) return false;
    for (int i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

/* session-update {sessionKey, state[, version]} -> session-updated to the others */
static void handle_update(sr_conn *c, const sr_json_doc *doc, long long ack)
{
    static const char ev[] = "session-update";
    sr_ds_state *st = STATE(c);
    const sr_json_span *key = sr_json_get(doc, "sessionKey"), *state = sr_json_get(doc, "state");
    const sr_json_span *ver = sr_json_get(doc, "version");
    if (!ver || ver->type == SR_JSON_NULL) ver = sr_json_get(doc, "baseVersion");
    char k[SR_DS_MAX_KEY + 1];
    int klen = key ? sr_json_string(key, k, sizeof k) : -1;
    if (!valid_key(k, klen)) {
        sr_ds_fail(c, ack, ev, "Invalid sessionKey: expected a string of 1 to 128 characters");
        return;
    }
    if (!state) {
        sr_ds_fail(c, ack, ev, "Missing state");
        return;
    }
    long long base = -1;
    if (ver && ver->type != SR_JSON_NULL && (sr_json_int(ver, &base) < 0 || base < 0)) {
        sr_ds_fail(c, ack, ev, "Invalid version: expected a non-negative integer");
        return;
    }
    sr_ds_op *op = op_new(c, SR_DS_OP_UPDATE, ack);
    if (!op) {
        sr_ds_fail(c, ack, ev, "Too many requests in flight");
        return;
    }
    op->base_version = base;
    snprintf(op->key, sizeof op->key, "%s", k);
    sr_buf head, mid;
    sr_buf_init(&head);
    sr_buf_init(&mid);
    sr_sio_event_begin(&head, NULL, -1, "session-updated");
    sr_buf_append_str(&head, ",{\"sessionKey\":");
    sr_buf_append_json_string(&head, k, (size_t)klen);
    sr_buf_append_str(&head, ",\"state\":");
    sr_buf_printf(&mid, ",\"deviceId\":\"%s\",\"timestamp\":%llu,\"version\":", st->device,
                  (unsigned long long)sr_now_ms());
    static const char seq[] = ",\"seq\":", tail[] = "}]";
    const char *parts[] = {head.data, state->p, mid.data, seq, tail};
    size_t lens[] = {head.len, state->n, mid.len, sizeof seq - 1, sizeof tail - 1};
    sr_publish_request req = {
        .to = "*",
        .seq_after = 4,
        .version_after = 3,
        .nparts = 5,
        .parts = parts,
        .lens = lens,
        .state = k,
        .state_value = state->p,
        .state_value_len = state->n,
        .state_check = base >= 0 ? SR_STATE_VERSION : SR_STATE_ANY,
        .state_version = base >= 0 ? (uint64_t)base : 0,
    };
    sr_session_publish(c, &req, on_published, op);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}

/* realtime-event {type, payload} -> the others, with sourceDeviceId */
static void handle_realtime(sr_conn *c, const sr_json_doc *doc, long long ack)
{
    sr_ds_state *st = STATE(c);
    sr_ds_op *op = op_new(c, SR_DS_OP_REALTIME, ack);
    if (!op) {
        sr_ds_fail(c, ack, "realtime-event", "Too many requests in flight");
        return;
    }
    size_t tlen, plen;
    const char *type = span_or_null(sr_json_get(doc, "type"), &tlen);
    const char *payload = span_or_null(sr_json_get(doc, "payload"), &plen);
    sr_buf head, mid;
    sr_buf_init(&head);
    sr_buf_init(&mid);
    sr_sio_event_begin(&head, NULL, -1, "realtime-event");
    sr_buf_append_str(&head, ",{\"type\":");
    sr_buf_printf(&mid, ",\"sourceDeviceId\":\"%s\",\"timestamp\":%llu,\"seq\":", st->device,
                  (unsigned long long)sr_now_ms());
    static const char payload_name[] = ",\"payload\":", tail[] = "}]";
    const char *parts[] = {head.data, type, payload_name, payload, mid.data, tail};
    size_t lens[] = {head.len, tlen, sizeof payload_name - 1, plen, mid.len, sizeof tail - 1};
    sr_publish_request req = {.to = "*", .seq_after = 5, .nparts = 6, .parts = parts, .lens = lens};
    sr_session_publish(c, &req, on_published, op);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}

/* device-message {targetDeviceId, message} -> that device, wherever it is */
static void handle_message(sr_conn *c, const sr_json_doc *doc, long long ack)
{
    static const char ev[] = "device-message";
    sr_ds_state *st = STATE(c);
    const sr_json_span *target = sr_json_get(doc, "targetDeviceId");
    char to[SR_DS_ID_LEN + 2];
    if (!target || target->type != SR_JSON_STRING) {
        sr_ds_fail(c, ack, ev, "Invalid targetDeviceId: expected a string");
        return;
    }
    /* any string that cannot be a device id (too long too) names no device */
    int n = sr_json_string(target, to, sizeof to);
    if (n <= 0 || n > SR_DS_ID_LEN || !sr_ds_valid_id(to, SR_DS_ID_LEN)) {
        sr_ds_fail(c, ack, ev, sr_ds_status_message(SR_ERR_OFFLINE));
        return;
    }
    if (!strcmp(to, st->device)) {
        sr_ds_fail(c, ack, ev, "targetDeviceId is this device");
        return;
    }
    sr_ds_op *op = op_new(c, SR_DS_OP_MESSAGE, ack);
    if (!op) {
        sr_ds_fail(c, ack, ev, "Too many requests in flight");
        return;
    }
    snprintf(op->key, sizeof op->key, "%s", to);
    size_t mlen;
    const char *message = span_or_null(sr_json_get(doc, "message"), &mlen);
    sr_buf head, mid;
    sr_buf_init(&head);
    sr_buf_init(&mid);
    sr_sio_event_begin(&head, NULL, -1, "device-message");
    sr_buf_printf(&head,
                  ",{\"sourceDeviceId\":\"%s\",\"targetDeviceId\":\"%s\",\"message\":", st->device,
                  to);
    sr_buf_printf(&mid, ",\"timestamp\":%llu,\"seq\":", (unsigned long long)sr_now_ms());
    static const char tail[] = "}]";
    const char *parts[] = {head.data, message, mid.data, tail};
    size_t lens[] = {head.len, mlen, mid.len, sizeof tail - 1};
    sr_publish_request req = {
        .to = to, .to_online = true, .seq_after = 3, .nparts = 4, .parts = parts, .lens = lens};
    sr_session_publish(c, &req, on_published, op);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}

void sr_ds_handle_event(sr_conn *c, const sr_sio_packet *p)
{
    if (STATE(c)->phase != SR_DS_CONNECTED) return; /* as Socket.IO: not connected, ignored */
    bool update = !strcmp(p->event, "session-update");
    bool realtime = !strcmp(p->event, "realtime-event");
    bool message = !strcmp(p->event, "device-message");
    if (!update && !realtime && !message) {
        char text[SR_SIO_MAX_EVENT + 32];
        snprintf(text, sizeof text, "Unknown event: %s", p->event);
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        sr_ds_fail(c, p->ack_id, p->event, text);
        return;
    }
    sr_json_doc doc;
    if (p->argc < 1 || p->arg.type != SR_JSON_OBJECT ||
        sr_json_parse(&doc, p->arg.p, p->arg.n) < 0) {
        sr_conn_error(c, SR_ERROR_BAD_REQUEST);
        sr_ds_fail(c, p->ack_id, p->event, "Invalid payload: expected an object");
        return;
    }
    if (update)
        handle_update(c, &doc, p->ack_id);
    else if (realtime)
        handle_realtime(c, &doc, p->ack_id);
    else
        handle_message(c, &doc, p->ack_id);
}
