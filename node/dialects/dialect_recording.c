/* dialect_recording.c - the dual-camera recording protocol of seed 004
 * (SPEC 4.3) on "/sync".
 *
 * A session holds at most two devices online. Members are device ids; each
 * device's name and role live in the session hash (i:<deviceId>) so that any
 * node can list them. start_recording / stop_recording go to every device,
 * the initiator too, and flip the session's "recording" state in the same
 * atomic step, so a second start (or a stop while idle) fails even when the
 * two devices sit on different nodes. */
#include "session.h"
#include "sr_json.h"
#include "sr_random.h"

#include <string.h>

#define RECORDING_MAX_DEVICES 2
#define RECORDING_ID_LEN 6
#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"

typedef struct recording_state {
    char session[65];
    char device[16];
    char name[128];
    bool host;
    bool host_join_existing; /* a host's join of a given id: create it, else join it */
    bool has_last_seq;
    long long last_seq;
} recording_state;

#define STATE(c) ((recording_state *)sr_conn_state(c))

static void send_error(sr_conn *c, const char *message)
{
    sr_conn_send_error(c, "{\"type\":\"error\",\"message\":", message, "}");
}

static void send_status_error(sr_conn *c, int status)
{
    const char *words = sr_status_words(status);
    send_error(c, words                         ? words
                  : status == SR_ERR_NOT_JOINED ? "Not in a session"
                                                : "Session not found");
}

/* {"type":"<type>","deviceId":…,"deviceName":…,"sessionId":…} */
static void device_frame(sr_buf *b, const char *type, const recording_state *st)
{
    sr_buf_printf(b, "{\"type\":\"%s\",\"deviceId\":\"%s\",\"deviceName\":", type, st->device);
    sr_buf_append_json_string(b, st->name, strlen(st->name));
    sr_buf_append_str(b, ",\"sessionId\":");
    sr_buf_append_json_string(b, st->session, strlen(st->session));
    sr_buf_append_str(b, "}");
}

/* The info of another device, as kept in i:<deviceId> (JSON written below). */
static const char *device_info(const sr_join_result *r, const char *member, size_t len,
                               size_t *info_len)
{
    char field[160];
    snprintf(field, sizeof field, "i:%.*s", (int)len, member);
    return sr_join_field(r, field, info_len);
}

typedef struct device_list {
    sr_buf *out;
    const sr_join_result *r;
} device_list;

static void list_device(sr_conn *c, const char *member, size_t len, void *arg)
{
    device_list *list = arg;
    size_t ilen;
    const char *info = device_info(list->r, member, len, &ilen);
    if (!info) return;
    sr_buf_append_str(list->out, ",");
    sr_buf_append(list->out, info, ilen);
}

static void announce_device(sr_conn *c, const char *member, size_t len, void *arg)
{
    const sr_join_result *r = arg;
    size_t ilen;
    const char *info = device_info(r, member, len, &ilen);
    sr_json_doc doc;
    if (!info || sr_json_parse(&doc, info, ilen) < 0) return;
    const sr_json_span *name = sr_json_get(&doc, "deviceName");
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"type\":\"device_connected\",\"deviceId\":");
    sr_buf_append_json_string(&b, member, len);
    sr_buf_append_str(&b, ",\"deviceName\":");
    if (name)
        sr_buf_append(&b, name->p, name->n);
    else
        sr_buf_append_str(&b, "null");
    sr_buf_append_str(&b, ",\"sessionId\":");
    sr_buf_append_json_string(&b, STATE(c)->session, strlen(STATE(c)->session));
    sr_buf_append_str(&b, "}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

static void own_info(sr_buf *b, const recording_state *st)
{
    sr_buf_printf(b, "{\"deviceId\":\"%s\",\"deviceName\":", st->device);
    sr_buf_append_json_string(b, st->name, strlen(st->name));
    sr_buf_printf(b, ",\"isHost\":%s}", st->host ? "true" : "false");
}

static void start_join(sr_conn *c, bool create);

static void on_joined(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    recording_state *st = STATE(c);
    if (!sr_conn_alive(c)) return;
    if (status == SR_ERR_EXISTS) {
        if (st->host_join_existing) {
            /* the host's id is taken: join it, but as a guess counts (a host
             * flag must not be a way around the join rate limit) */
            sr_session_join_failed(c);
            start_join(c, false);
        } else { /* a collision of server-made ids: draw again */
            sr_random_code(st->session, RECORDING_ID_LEN, SR_ALPHABET_UPPER_ALNUM);
            start_join(c, true);
        }
        return;
    }
    if (status != SR_OK) {
        send_status_error(c, status);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"type\":\"session_joined\",\"sessionId\":");
    sr_buf_append_json_string(&b, st->session, strlen(st->session));
    sr_buf_printf(&b, ",\"deviceId\":\"%s\",\"isHost\":%s,\"devices\":[", st->device,
                  st->host ? "true" : "false");
    own_info(&b, st);
    device_list list = {&b, r};
    sr_join_each_online(c, r, list_device, &list);
    sr_buf_append_str(&b, "]}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
    sr_join_each_online(c, r, announce_device, (void *)r);
}

static void start_join(sr_conn *c, bool create)
{
    recording_state *st = STATE(c);
    sr_buf joined, left, info;
    sr_buf_init(&joined);
    sr_buf_init(&left);
    sr_buf_init(&info);
    device_frame(&joined, "device_connected", st);
    device_frame(&left, "device_disconnected", st);
    own_info(&info, st);
    sr_join_request req = {
        .id = st->session,
        .member = st->device,
        .create = create,
        .count_failure = !create,
        .has_last_seq = st->has_last_seq,
        .last_seq = st->last_seq > 0 ? (uint64_t)st->last_seq : 0,
        .max_members = RECORDING_MAX_DEVICES,
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

/* Session ids are 6 alphanumeric characters in the seed, made by the server
 * or chosen by a host. */
static bool valid_id(const char *s, size_t n)
{
    if (n != RECORDING_ID_LEN) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[i]))
            return false;
    return true;
}

static void handle_join(sr_conn *c, const sr_json_doc *doc)
{
    recording_state *st = STATE(c);
    const sr_json_span *id = sr_json_get(doc, "sessionId"), *host = sr_json_get(doc, "isHost");
    const sr_json_span *name = sr_json_get(doc, "deviceName"), *dev = sr_json_get(doc, "deviceId");
    const sr_json_span *last = sr_json_get(doc, "lastSeq");
    char session[65], device[16], dname[1024];
    long long last_seq = 0;
    int n;

    if (sr_conn_joining(c)) {
        send_status_error(c, SR_ERR_BUSY);
        return;
    }
    if (sr_conn_joined(c)) { /* a device records in one session per socket */
        send_error(c, "Already in a session");
        return;
    }
    if (host && host->type != SR_JSON_TRUE && host->type != SR_JSON_FALSE &&
        host->type != SR_JSON_NULL) {
        send_error(c, "Invalid isHost: expected a boolean");
        return;
    }
    bool is_host = host && host->type == SR_JSON_TRUE;
    bool has_id = id && id->type != SR_JSON_NULL && !sr_json_string_is(id, "");
    if (has_id &&
        ((n = sr_json_string(id, session, sizeof session)) < 0 || !valid_id(session, (size_t)n))) {
        send_error(c, "Invalid sessionId");
        return;
    }
    if (!has_id && !is_host) {
        send_error(c, "Invalid sessionId");
        return;
    }
    if (name && name->type != SR_JSON_NULL && sr_json_string(name, dname, sizeof dname) < 0) {
        send_error(c, "Invalid deviceName: expected a string");
        return;
    }
    bool has_dev = dev && dev->type != SR_JSON_NULL;
    if (has_dev && ((n = sr_json_string(dev, device, sizeof device)) < 2 || device[0] != 'd' ||
                    strspn(device + 1, ID_CHARS) != (size_t)n - 1)) {
        send_error(c, "Invalid deviceId");
        return;
    }
    if (last && last->type != SR_JSON_NULL && (sr_json_int(last, &last_seq) < 0 || last_seq < 0)) {
        send_error(c, "Invalid lastSeq: expected a non-negative integer");
        return;
    }
    memset(st, 0, sizeof *st);
    st->host = is_host;
    st->host_join_existing = is_host && has_id;
    st->has_last_seq = last && last->type != SR_JSON_NULL;
    st->last_seq = last_seq;
    const char *device_name = name && name->type != SR_JSON_NULL ? dname : "Unknown device";
    size_t n_len = strlen(device_name);
    if (n_len >= sizeof st->name) { /* keep whole UTF-8 characters */
        n_len = sizeof st->name - 1;
        while (n_len && ((unsigned char)device_name[n_len] & 0xC0) == 0x80)
            n_len--;
    }
    memcpy(st->name, device_name, n_len);
    st->name[n_len] = '\0';
    if (has_dev) {
        snprintf(st->device, sizeof st->device, "%s", device);
    } else {
        st->device[0] = 'd';
        if (sr_random_code(st->device + 1, 10, ID_CHARS) < 0) goto unavailable;
    }
    if (has_id)
        snprintf(st->session, sizeof st->session, "%s", session);
    else if (sr_random_code(st->session, RECORDING_ID_LEN, SR_ALPHABET_UPPER_ALNUM) < 0)
        goto unavailable;
    start_join(c, is_host);
    return;
unavailable:
    send_status_error(c, SR_ERR_UNAVAILABLE);
}

/* One callback for start and stop (replies come back in order, but a socket
 * may have several commands under way): a failed check tells which by the
 * state it found. */
static void on_recorded(sr_conn *c, const sr_publish_result *r, void *arg)
{
    if (!sr_conn_alive(c)) return;
    bool recording = r->current && r->current_len == 4 && !memcmp(r->current, "true", 4);
    if (r->status == SR_ERR_CONFLICT)
        send_error(c, recording ? "Already recording" : "Not recording");
    else if (r->status != SR_OK)
        send_status_error(c, r->status);
}

/* {"type":"start_recording","sessionId":…,"timestamp":…,"initiator":…,"seq":N}
 * to every device; the recording state flips in the same script. */
static void handle_recording(sr_conn *c, const sr_json_doc *doc, bool start)
{
    recording_state *st = STATE(c);
    if (!sr_conn_joined(c)) {
        send_error(c, "Not in a session");
        return;
    }
    const sr_json_span *ts = sr_json_get(doc, "timestamp");
    char now[24];
    const char *stamp = now;
    size_t stamp_len;
    if (ts && ts->type != SR_JSON_NULL) {
        if (ts->type != SR_JSON_NUMBER) {
            send_error(c, "Invalid timestamp");
            return;
        }
        stamp = ts->p;
        stamp_len = ts->n;
    } else {
        stamp_len = (size_t)snprintf(now, sizeof now, "%llu", (unsigned long long)sr_now_ms());
    }
    sr_buf head, mid;
    sr_buf_init(&head);
    sr_buf_init(&mid);
    sr_buf_printf(&head,
                  "{\"type\":\"%s\",\"sessionId\":", start ? "start_recording" : "stop_recording");
    sr_buf_append_json_string(&head, st->session, strlen(st->session));
    sr_buf_append_str(&head, ",\"timestamp\":");
    sr_buf_printf(&mid, ",\"initiator\":\"%s\",\"seq\":", st->device);
    static const char tail[] = "}";
    const char *parts[] = {head.data, stamp, mid.data, tail};
    size_t lens[] = {head.len, stamp_len, mid.len, sizeof tail - 1};
    sr_publish_request req = {
        .to = "@",
        .seq_after = 3,
        .nparts = 4,
        .parts = parts,
        .lens = lens,
        .state = "recording",
        .state_value = start ? "true" : "false",
        .state_value_len = start ? 4 : 5,
        .state_check = start ? SR_STATE_DIFFERS : SR_STATE_EQUALS,
        .state_operand = "true",
        .state_operand_len = 4,
    };
    sr_session_publish(c, &req, on_recorded, NULL);
    sr_buf_free(&head);
    sr_buf_free(&mid);
}

static void recording_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_json_doc doc;
    char type[64];
    const char *error =
        sr_dialect_parse_typed(c, data, len, binary, &doc, type, sizeof type, "Missing type");
    if (error) {
        send_error(c, error);
        return;
    }
    if (!strcmp(type, "join")) {
        handle_join(c, &doc);
    } else if (!strcmp(type, "start_recording")) {
        handle_recording(c, &doc, true);
    } else if (!strcmp(type, "stop_recording")) {
        handle_recording(c, &doc, false);
    } else if (!strcmp(type, "ping")) {
        static const char pong[] = "{\"type\":\"pong\"}";
        sr_conn_send(c, pong, sizeof pong - 1);
    } else {
        char msg[128];
        send_error(c, sr_dialect_unknown_type(c, type, msg, sizeof msg));
    }
}

static void recording_superseded(sr_conn *c)
{
    send_error(c, "Device connected elsewhere");
}

static void recording_ended(sr_conn *c)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"type\":\"session_ended\",\"sessionId\":");
    sr_buf_append_json_string(&b, STATE(c)->session, strlen(STATE(c)->session));
    sr_buf_append_str(&b, "}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

const sr_dialect sr_dialect_recording = {
    .name = "recording",
    .state_size = sizeof(recording_state),
    .message = recording_message,
    .superseded = recording_superseded,
    .ended = recording_ended,
    .error = send_error,
};
