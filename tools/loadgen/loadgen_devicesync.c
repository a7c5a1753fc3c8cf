/* loadgen_devicesync.c - the load generator's device-sync side: Engine.IO 4 /
 * Socket.IO 5 over WebSocket (seed 001), with the shared codec
 * (sr_socketio.h) reading every packet and building the event frames.
 *
 * A pair is one user (its JWT from loadgen_accounts.c) and two of its
 * devices: the web end connects to /socket.io/ on one URL, waits for the OPEN,
 * sends CONNECT 40{"token":…} and waits for session-restored; then the figma
 * end does the same on the other URL, and the web end sees its
 * device-connected. Then the pair is ready.
 *
 * Traffic is that of token sync, carried by the two relayed events in turn:
 * each end's odd-numbered messages are session-update {"sessionKey","state":
 * <payload>} (received as session-updated), its even-numbered ones
 * realtime-event {"type","payload":<payload>}. The relay's "seq" is checked
 * when there is one (the Socket.IO baseline has none). Acks are not asked
 * for (as the seed's client); session-saved, session-restored and device
 * events are read and ignored. The server pings ("2"), we answer "3". */
#include "loadgen.h"
#include "sr_socketio.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>

#define DS_SESSION_KEY "loadgen"

static sr_buf update_prefix, event_prefix; /* built once, with the codec */

static void build_prefixes(void)
{
    if (update_prefix.len) return;
    sr_sio_event_begin(&update_prefix, NULL, -1, "session-update");
    sr_buf_append_str(&update_prefix, ",{\"sessionKey\":\"" DS_SESSION_KEY "\",\"state\":");
    sr_sio_event_begin(&event_prefix, NULL, -1, "realtime-event");
    sr_buf_append_str(&event_prefix, ",{\"type\":\"loadgen\",\"payload\":");
}

void sr_loadgen_ds_free(void)
{
    sr_buf_free(&update_prefix);
    sr_buf_free(&event_prefix);
}

void sr_loadgen_ds_frame(uint64_t n, const char **prefix, size_t *plen, const char **suffix,
                         size_t *slen)
{
    const sr_buf *b = n % 2 ? &update_prefix : &event_prefix;
    build_prefixes();
    *prefix = b->data;
    *plen = b->len;
    *suffix = "}]"; /* closes the event's object, then its array */
    *slen = 2;
}

void sr_loadgen_ds_path(const lg_url *u, enum lg_role role, char *out, size_t cap)
{
    /* deviceInfo {"name":"loadgen web"} (or figma), percent-encoded */
    snprintf(
        out, cap,
        "%s?EIO=4&transport=websocket&deviceInfo=%%7B%%22name%%22%%3A%%22loadgen%%20%s%%22%%7D",
        strcmp(u->path, "/") ? u->path : "/socket.io/", role == LG_WEB ? "web" : "figma");
}

int sr_loadgen_ds_writeable(sr_loadgen *lg, lg_conn *c)
{
    if (c->pongs) {
        c->pongs--;
        lws_callback_on_writable(c->wsi); /* whatever else is due */
        return sr_loadgen_write_text(c, "3", 1) < 0 ? -1 : 1;
    }
    if (c->pair_sent) return 0;
    if (!c->eio_open) return 1;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "40{\"token\":");
    sr_buf_append_json_string(&b, c->pair->jwt, strlen(c->pair->jwt));
    sr_buf_append_str(&b, "}");
    c->pair_sent = true;
    int rc = sr_loadgen_write_text(c, b.data, b.len);
    sr_buf_free(&b);
    return rc < 0 ? -1 : 1;
}

/* The first argument of an event, as an object. */
static bool event_object(const sr_sio_packet *pk, sr_json_doc *doc)
{
    return pk->argc >= 1 && pk->arg.type == SR_JSON_OBJECT &&
           sr_json_parse(doc, pk->arg.p, pk->arg.n) == 0;
}

static void on_event(sr_loadgen *lg, lg_conn *c, const sr_sio_packet *pk)
{
    lg_pair *p = c->pair;
    sr_json_doc doc;
    bool obj = event_object(pk, &doc);
    if (!strcmp(pk->event, "session-updated") || !strcmp(pk->event, "realtime-event")) {
        const char *field = pk->event[0] == 's' ? "state" : "payload";
        if (!obj) {
            sr_loadgen_error(lg, &lg->err.protocol, "%s without an object", pk->event);
            return;
        }
        sr_loadgen_relayed(lg, c, sr_json_get(&doc, field), sr_json_get(&doc, "seq"));
    } else if (!strcmp(pk->event, "session-restored")) {
        if (c->paired) return;
        c->paired = true;
        if (c->role == LG_WEB) {
            sr_loadgen_connect(lg, &p->c[LG_FIGMA]);
        } else {
            c->peer_joined = true; /* the web end was in before this one came */
            sr_loadgen_check_ready(lg, p);
        }
    } else if (!strcmp(pk->event, "device-connected")) {
        if (c->role == LG_WEB && p->c[LG_FIGMA].open) {
            c->peer_joined = true;
            sr_loadgen_check_ready(lg, p);
        }
    } else if (!strcmp(pk->event, "error")) {
        sr_loadgen_error(lg, &lg->err.server, "node said: %.150s", pk->arg.p ? pk->arg.p : "");
        if (!p->ready) sr_loadgen_pair_fail(lg, p);
    } else if (strcmp(pk->event, "session-saved") && strcmp(pk->event, "device-disconnected")) {
        sr_loadgen_error(lg, &lg->err.protocol, "unexpected event: %.60s", pk->event);
    }
}

void sr_loadgen_ds_message(sr_loadgen *lg, lg_conn *c, const char *data, size_t len)
{
    sr_sio_packet pk;
    if (len == 0) {
        sr_loadgen_error(lg, &lg->err.protocol, "empty frame");
        return;
    }
    switch (data[0]) {
    case '0': /* OPEN (sr_eio_parse reads client frames only) */
        c->eio_open = true;
        lws_callback_on_writable(c->wsi);
        return;
    case '2': /* PING */
        c->pongs++;
        lws_callback_on_writable(c->wsi);
        return;
    case '4':
        break;
    default:
        sr_loadgen_error(lg, &lg->err.protocol, "unexpected Engine.IO packet: %.60s", data);
        return;
    }
    int rc = sr_sio_parse(&pk, data + 1, len - 1);
    if (rc != SR_SIO_OK) {
        sr_loadgen_error(lg, &lg->err.protocol, "%s: %.60s", sr_sio_strerror(rc), data);
        return;
    }
    switch (pk.type) {
    case SR_SIO_CONNECT:
        return; /* session-restored follows: that one says the device is in */
    case SR_SIO_EVENT:
        on_event(lg, c, &pk);
        return;
    case SR_SIO_CONNECT_ERROR:
        sr_loadgen_error(lg, &lg->err.server, "connect refused: %.150s", data);
        sr_loadgen_pair_fail(lg, c->pair);
        return;
    case SR_SIO_DISCONNECT:
        if (!lg->stopping)
            sr_loadgen_error(lg, &lg->err.closed, "the server disconnected a device");
        return;
    default:
        sr_loadgen_error(lg, &lg->err.protocol, "unexpected packet: %.60s", data);
        return;
    }
}
