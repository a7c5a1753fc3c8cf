/* Engine.IO 4 / Socket.IO 5 codec. The encoded examples are the ones of the
 * socket.io-protocol v5 and engine.io-protocol v4 documents. */
#include <stdlib.h>

#include "check.h"
#include "sr_socketio.h"

static int sio(sr_sio_packet *p, const char *s)
{
    return sr_sio_parse(p, s, strlen(s));
}

static int span_is(const sr_json_span *v, const char *text)
{
    return v->n == strlen(text) && memcmp(v->p, text, v->n) == 0;
}

static int built_is(sr_buf *b, const char *want)
{
    int ok = b->len == strlen(want) && memcmp(b->data, want, b->len) == 0;
    if (!ok) fprintf(stderr, "built %.*s, want %s\n", (int)b->len, b->data, want);
    sr_buf_reset(b);
    return ok;
}

static void test_eio(void)
{
    sr_eio_packet e;
    CHECK(sr_eio_parse(&e, "3", 1) == SR_SIO_OK && e.type == SR_EIO_PONG && e.len == 0);
    CHECK(sr_eio_parse(&e, "3probe", 6) == SR_SIO_OK && e.type == SR_EIO_PONG && e.len == 5);
    CHECK(sr_eio_parse(&e, "2probe", 6) == SR_SIO_OK && e.type == SR_EIO_PING);
    CHECK(sr_eio_parse(&e, "1", 1) == SR_SIO_OK && e.type == SR_EIO_CLOSE);
    CHECK(sr_eio_parse(&e, "5", 1) == SR_SIO_OK && e.type == SR_EIO_UPGRADE);
    CHECK(sr_eio_parse(&e, "6", 1) == SR_SIO_OK && e.type == SR_EIO_NOOP);
    const char *msg = "42[\"hello\"]";
    CHECK(sr_eio_parse(&e, msg, strlen(msg)) == SR_SIO_OK && e.type == SR_EIO_MESSAGE &&
          e.len == strlen(msg) - 1 && e.data == msg + 1);
    CHECK(sr_eio_parse(&e, "4", 1) == SR_SIO_OK && e.len == 0); /* the caller's SIO parse refuses */
    CHECK(sr_eio_parse(&e, "", 0) == SR_SIO_ERR_EMPTY);
    CHECK(sr_eio_parse(&e, "0{}", 3) == SR_SIO_ERR_TYPE); /* OPEN is server-only */
    CHECK(sr_eio_parse(&e, "7", 1) == SR_SIO_ERR_TYPE);
    CHECK(sr_eio_parse(&e, "x", 1) == SR_SIO_ERR_TYPE);
    CHECK(sr_eio_parse(&e, "1x", 2) == SR_SIO_ERR_TRAILING);
    CHECK(sr_eio_parse(&e, "6x", 2) == SR_SIO_ERR_TRAILING);
    CHECK(sr_eio_parse(&e, "3aaaaaaaaaaaaaaaaaaaaaaa", 24) == SR_SIO_ERR_TRAILING);

    sr_buf b;
    sr_buf_init(&b);
    sr_eio_build_open(&b, "lv_VI97HAXpY6yYWAAAC", 25000, 20000, 1000000);
    CHECK(built_is(&b, "0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[],\"pingInterval\":25000,"
                       "\"pingTimeout\":20000,\"maxPayload\":1000000}"));
    /* the OPEN payload is valid JSON with the documented members */
    sr_eio_build_open(&b, "abc", 30000, 60000, 10485760);
    sr_json_doc d;
    CHECK(sr_json_parse(&d, b.data + 1, b.len - 1) == 0);
    long long v = 0;
    CHECK(sr_json_int(sr_json_get(&d, "pingInterval"), &v) == 0 && v == 30000);
    CHECK(sr_json_int(sr_json_get(&d, "maxPayload"), &v) == 0 && v == 10485760);
    CHECK(sr_json_get(&d, "upgrades") && sr_json_get(&d, "upgrades")->type == SR_JSON_ARRAY);
    sr_buf_reset(&b);
    CHECK(strcmp(SR_EIO_FRAME_PING, "2") == 0 && strcmp(SR_EIO_FRAME_CLOSE, "1") == 0);
    sr_buf_free(&b);

    /* two missed pongs close the socket (SPEC: HEARTBEAT_INTERVAL) */
    sr_eio_heartbeat hb = {0};
    CHECK(sr_eio_heartbeat_tick(&hb, 2) == 1); /* ping 1 */
    sr_eio_heartbeat_pong(&hb);                /* "3" */
    CHECK(sr_eio_heartbeat_tick(&hb, 2) == 1); /* ping 2, unanswered */
    CHECK(sr_eio_heartbeat_tick(&hb, 2) == 1); /* ping 3, unanswered */
    CHECK(sr_eio_heartbeat_tick(&hb, 2) == 0); /* two missed: close */
}

static void test_query(void)
{
    CHECK(sr_eio_query_check("EIO=4&transport=websocket") == SR_SIO_OK);
    CHECK(sr_eio_query_check("deviceInfo=%7B%7D&transport=websocket&EIO=4&t=N8hyd6w") == SR_SIO_OK);
    CHECK(sr_eio_query_check("EIO=3&transport=websocket") == SR_SIO_ERR_VERSION);
    CHECK(sr_eio_query_check("EIO=44&transport=websocket") == SR_SIO_ERR_VERSION);
    CHECK(sr_eio_query_check("transport=websocket") == SR_SIO_ERR_VERSION);
    CHECK(sr_eio_query_check("") == SR_SIO_ERR_VERSION);
    CHECK(sr_eio_query_check("EIO=4&transport=polling&t=N8hyd6w") == SR_SIO_ERR_TRANSPORT);
    CHECK(sr_eio_query_check("EIO=4") == SR_SIO_ERR_TRANSPORT);
    CHECK(sr_eio_query_check("EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC") ==
          SR_SIO_ERR_TRANSPORT);
    CHECK(sr_eio_query_check("EIO=%3") == SR_SIO_ERR_QUERY);
    CHECK(strstr(sr_sio_strerror(SR_SIO_ERR_TRANSPORT), "websocket") != NULL);

    /* deviceInfo as socket.io-client (encodeURIComponent) and python (urlencode) send it */
    char out[256];
    const char *js = "EIO=4&transport=websocket&deviceInfo=%7B%22name%22%3A%22My%20Device%22%2C%22"
                     "type%22%3A%22desktop%22%7D";
    int rc = sr_eio_query_get(js, "deviceInfo", out, sizeof out);
    CHECK(rc > 0 && rc == (int)strlen(out));
    CHECK_STR(out, "{\"name\":\"My Device\",\"type\":\"desktop\"}");
    const char *py = "deviceInfo=%7B%22name%22%3A+%22My+Device%22%7D&transport=websocket&EIO=4";
    CHECK(sr_eio_query_get(py, "deviceInfo", out, sizeof out) > 0);
    CHECK_STR(out, "{\"name\": \"My Device\"}");
    CHECK(sr_eio_query_get(py, "EIO", out, sizeof out) == 1 && strcmp(out, "4") == 0);
    CHECK(sr_eio_query_get(py, "device", out, sizeof out) == -1); /* a prefix is not the key */
    CHECK(sr_eio_query_get("a=1&b", "b", out, sizeof out) == 0 && out[0] == '\0');
    CHECK(sr_eio_query_get("a=%4", "a", out, sizeof out) == SR_SIO_ERR_QUERY);
    CHECK(sr_eio_query_get("a=%zz", "a", out, sizeof out) == SR_SIO_ERR_QUERY);
    CHECK(sr_eio_query_get("a=x%00y", "a", out, sizeof out) == SR_SIO_ERR_QUERY);
    CHECK(sr_eio_query_get("a=abcdef", "a", out, 4) == SR_SIO_ERR_QUERY); /* does not fit */
    CHECK(sr_eio_query_get("a=abc", "a", out, 4) == 3);
    /* already decoded by the HTTP layer (libwebsockets fragments) */
    const char *args[] = {"EIO=4", "transport=websocket", "deviceInfo={\"name\":\"a+b 100%\"}"};
    CHECK(sr_eio_args_check(args, 3) == SR_SIO_OK);
    CHECK_STR(sr_eio_args_get(args, 3, "deviceInfo"), "{\"name\":\"a+b 100%\"}");
    CHECK(sr_eio_args_get(args, 3, "device") == NULL && sr_eio_args_get(args, 0, "EIO") == NULL);
    CHECK(sr_eio_args_check(args + 1, 2) == SR_SIO_ERR_VERSION);
    CHECK(sr_eio_args_check(args, 1) == SR_SIO_ERR_TRANSPORT);
    const char *polling[] = {"transport=polling", "EIO=4"};
    CHECK(sr_eio_args_check(polling, 2) == SR_SIO_ERR_TRANSPORT);
    const char *upgrade[] = {"EIO=4", "transport=websocket", "sid=abc"};
    CHECK(sr_eio_args_check(upgrade, 3) == SR_SIO_ERR_TRANSPORT);
    CHECK(sr_url_decode("%C3%A9%2B", 9, out, sizeof out) == 3 && strcmp(out, "\xc3\xa9+") == 0);
}

static void test_sio_parse(void)
{
    sr_sio_packet p;
    /* CONNECT: "0", "0/admin,", with auth payload */
    CHECK(sio(&p, "0") == SR_SIO_OK && p.type == SR_SIO_CONNECT && strcmp(p.nsp, "/") == 0 &&
          p.data.type == SR_JSON_NONE && p.ack_id == -1);
    CHECK(sio(&p, "0/admin,") == SR_SIO_OK && strcmp(p.nsp, "/admin") == 0);
    CHECK(sio(&p, "0/admin") == SR_SIO_OK && strcmp(p.nsp, "/admin") == 0);
    CHECK(sio(&p, "0{\"token\":\"123\"}") == SR_SIO_OK && p.data.type == SR_JSON_OBJECT &&
          span_is(&p.data, "{\"token\":\"123\"}"));
    CHECK(sio(&p, "0/admin,{\"token\":\"123\"}") == SR_SIO_OK && strcmp(p.nsp, "/admin") == 0 &&
          span_is(&p.data, "{\"token\":\"123\"}"));
    CHECK(sio(&p, "0[1]") == SR_SIO_ERR_PAYLOAD);
    CHECK(sio(&p, "0\"x\"") == SR_SIO_ERR_PAYLOAD);
    CHECK(sio(&p, "01{}") == SR_SIO_ERR_ACK_ID);
    /* the auth token as a dialect reads it */
    sio(&p, "0{\"token\":\"eyJ.a.b\"}");
    sr_json_doc d;
    CHECK(sr_json_parse(&d, p.data.p, p.data.n) == 0 &&
          sr_json_string_is(sr_json_get(&d, "token"), "eyJ.a.b"));

    /* DISCONNECT */
    CHECK(sio(&p, "1") == SR_SIO_OK && p.type == SR_SIO_DISCONNECT && strcmp(p.nsp, "/") == 0);
    CHECK(sio(&p, "1/admin,") == SR_SIO_OK && strcmp(p.nsp, "/admin") == 0);
    CHECK(sio(&p, "1{}") == SR_SIO_ERR_PAYLOAD);
    CHECK(sio(&p, "1/admin,xyz") == SR_SIO_ERR_JSON);

    /* EVENT */
    CHECK(sio(&p, "2[\"foo\"]") == SR_SIO_OK && p.type == SR_SIO_EVENT &&
          strcmp(p.event, "foo") == 0 && p.argc == 0 && p.arg.type == SR_JSON_NONE &&
          p.ack_id == -1 && strcmp(p.nsp, "/") == 0);
    CHECK(sio(&p, "2/admin,[\"bar\"]") == SR_SIO_OK && strcmp(p.nsp, "/admin") == 0 &&
          strcmp(p.event, "bar") == 0);
    CHECK(sio(&p, "212[\"foo\"]") == SR_SIO_OK && p.ack_id == 12 && strcmp(p.event, "foo") == 0);
    CHECK(sio(&p, "2/admin,1[\"tellme\"]") == SR_SIO_OK && p.ack_id == 1 &&
          strcmp(p.nsp, "/admin") == 0 && strcmp(p.event, "tellme") == 0);
    CHECK(sio(&p, "20[\"x\"]") == SR_SIO_OK && p.ack_id == 0);
    const char *upd = "2[\"session-update\",{\"sessionKey\":\"editor-state\",\"state\":{\"text\":"
                      "\"Hello World\",\"cursor\":5}},7]";
    CHECK(sio(&p, upd) == SR_SIO_OK && strcmp(p.event, "session-update") == 0 && p.argc == 2 &&
          p.arg.type == SR_JSON_OBJECT &&
          span_is(&p.arg, "{\"sessionKey\":\"editor-state\",\"state\":{\"text\":\"Hello "
                          "World\",\"cursor\":5}}"));
    CHECK(sio(&p, "2[\"hey\",\"Jude\"]") == SR_SIO_OK && p.argc == 1 &&
          span_is(&p.arg, "\"Jude\""));
    CHECK(sio(&p, "2[ \"sp\" , 1 ] ") == SR_SIO_OK && strcmp(p.event, "sp") == 0 &&
          span_is(&p.arg, "1"));
    CHECK(sio(&p, "2[\"a\\u002db\"]") == SR_SIO_OK && strcmp(p.event, "a-b") == 0); /* unescaped */
    /* malformed EVENTs */
    CHECK(sio(&p, "2") == SR_SIO_ERR_PAYLOAD);               /* no payload */
    CHECK(sio(&p, "2{\"a\":1}") == SR_SIO_ERR_PAYLOAD);      /* non-array data */
    CHECK(sio(&p, "2\"foo\"") == SR_SIO_ERR_PAYLOAD);        /* non-array data */
    CHECK(sio(&p, "2[]") == SR_SIO_ERR_EVENT_NAME);          /* missing event name */
    CHECK(sio(&p, "2[1,\"foo\"]") == SR_SIO_ERR_EVENT_NAME); /* name not a string */
    CHECK(sio(&p, "2[null]") == SR_SIO_ERR_EVENT_NAME);      /* name not a string */
    /* names that are not text: a lone surrogate, a NUL */
    CHECK(sio(&p, "2[\"\\ud800\"]") == SR_SIO_ERR_EVENT_NAME);
    CHECK(sio(&p, "2[\"session-update\\u0000x\"]") == SR_SIO_ERR_EVENT_NAME);
    CHECK(sio(&p, "2[\"foo\"]x") == SR_SIO_ERR_TRAILING);         /* trailing garbage */
    CHECK(sio(&p, "2[\"foo\"][\"bar\"]") == SR_SIO_ERR_TRAILING); /* two payloads */
    CHECK(sio(&p, "2[\"foo\",]") == SR_SIO_ERR_JSON);             /* invalid JSON */
    CHECK(sio(&p, "2[\"foo\"") == SR_SIO_ERR_JSON);
    CHECK(sio(&p, "2/admin,[\"foo\",{'a':1}]") == SR_SIO_ERR_JSON);
    char longname[SR_SIO_MAX_EVENT + 16] = "2[\"";
    memset(longname + 3, 'e', SR_SIO_MAX_EVENT + 1);
    strcpy(longname + 3 + SR_SIO_MAX_EVENT + 1, "\"]");
    CHECK(sio(&p, longname) == SR_SIO_ERR_EVENT_NAME);
    /* ack ids: bounded to 2^53-1, no overflow */
    CHECK(sio(&p, "29007199254740991[\"x\"]") == SR_SIO_OK && p.ack_id == SR_SIO_MAX_ACK_ID);
    CHECK(sio(&p, "29007199254740992[\"x\"]") == SR_SIO_ERR_ACK_ID);
    CHECK(sio(&p, "2999999999999999999999999999[\"x\"]") == SR_SIO_ERR_ACK_ID);
    /* namespaces */
    char nsp[SR_SIO_MAX_NSP + 16] = "2/";
    memset(nsp + 2, 'n', SR_SIO_MAX_NSP);
    strcpy(nsp + 2 + SR_SIO_MAX_NSP, ",[\"x\"]");
    CHECK(sio(&p, nsp) == SR_SIO_ERR_NAMESPACE);
    CHECK(sr_sio_parse(&p, "2/a\0b,[\"x\"]", 11) == SR_SIO_ERR_NAMESPACE);
    CHECK(sio(&p, "2/,[\"x\"]") == SR_SIO_OK && strcmp(p.nsp, "/") == 0);

    /* ACK */
    CHECK(sio(&p, "3/admin,13[\"bar\"]") == SR_SIO_OK && p.type == SR_SIO_ACK && p.ack_id == 13 &&
          strcmp(p.nsp, "/admin") == 0 && span_is(&p.data, "[\"bar\"]"));
    CHECK(sio(&p, "312[]") == SR_SIO_OK && p.ack_id == 12);
    CHECK(sio(&p, "3[\"bar\"]") == SR_SIO_ERR_ACK_ID); /* an ACK needs its id */
    CHECK(sio(&p, "312{}") == SR_SIO_ERR_PAYLOAD);
    CHECK(sio(&p, "312") == SR_SIO_ERR_PAYLOAD);

    /* CONNECT_ERROR (server to client; parsed for symmetry) */
    CHECK(sio(&p, "4{\"message\":\"Not authorized\"}") == SR_SIO_OK &&
          p.type == SR_SIO_CONNECT_ERROR);
    CHECK(sio(&p, "4") == SR_SIO_ERR_PAYLOAD);

    /* binary packets are recognized and refused */
    CHECK(sio(&p, "51-[\"baz\",{\"_placeholder\":true,\"num\":0}]") == SR_SIO_ERR_BINARY);
    CHECK(sio(&p, "52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0}]") == SR_SIO_ERR_BINARY);
    CHECK(sio(&p, "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]") == SR_SIO_ERR_BINARY);
    CHECK(strstr(sr_sio_strerror(SR_SIO_ERR_BINARY), "binary") != NULL);

    /* bad types */
    CHECK(sio(&p, "") == SR_SIO_ERR_EMPTY);
    CHECK(sio(&p, "7[\"x\"]") == SR_SIO_ERR_TYPE);
    CHECK(sio(&p, "x") == SR_SIO_ERR_TYPE);
    CHECK(sio(&p, "/") == SR_SIO_ERR_TYPE);
    for (int e = SR_SIO_ERR_QUERY; e <= 0; e++)
        CHECK(strcmp(sr_sio_strerror(e), "unknown error") != 0);
}

static void test_sio_build(void)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_sio_build_connect(&b, NULL, "wZX3oN0bSVIhsaknAAAI");
    CHECK(built_is(&b, "40{\"sid\":\"wZX3oN0bSVIhsaknAAAI\"}"));
    sr_sio_build_connect(&b, "/admin", "oSO0OpakMV_3jnilAAAA");
    CHECK(built_is(&b, "40/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}"));
    sr_sio_build_connect_error(&b, "/", "Not authorized");
    CHECK(built_is(&b, "44{\"message\":\"Not authorized\"}"));
    sr_sio_build_connect_error(&b, "/admin", "bad \"token\"");
    CHECK(built_is(&b, "44/admin,{\"message\":\"bad \\\"token\\\"\"}"));
    sr_sio_build_disconnect(&b, NULL);
    CHECK(built_is(&b, "41"));
    sr_sio_build_disconnect(&b, "/admin");
    CHECK(built_is(&b, "41/admin,"));
    sr_sio_build_event(&b, NULL, -1, "foo", NULL, 0);
    CHECK(built_is(&b, "42[\"foo\"]"));
    sr_sio_build_event(&b, "/admin", -1, "bar", NULL, 0);
    CHECK(built_is(&b, "42/admin,[\"bar\"]"));
    sr_sio_build_event(&b, "/", -1, "hey", "\"Jude\"", 6);
    CHECK(built_is(&b, "42[\"hey\",\"Jude\"]"));
    sr_sio_build_event(&b, NULL, 12, "foo", NULL, 0);
    CHECK(built_is(&b, "4212[\"foo\"]"));
    sr_sio_build_ack(&b, "/admin", 13, "\"bar\"", 5);
    CHECK(built_is(&b, "43/admin,13[\"bar\"]"));
    sr_sio_build_ack(&b, NULL, 12, NULL, 0);
    CHECK(built_is(&b, "4312[]"));

    /* splicing a parsed argument into a new event, piece by piece */
    sr_sio_packet p;
    const char *in =
        "2[\"realtime-event\",{\"type\":\"cursor-move\",\"payload\":{\"position\":10}}]";
    CHECK(sio(&p, in) == SR_SIO_OK);
    sr_sio_event_begin(&b, NULL, -1, "realtime-event");
    sr_buf_append_str(&b, ",{\"event\":");
    sr_buf_append(&b, p.arg.p, p.arg.n);
    sr_buf_append_str(&b, ",\"sourceDeviceId\":\"d1\"}");
    sr_sio_event_end(&b);
    /* what we build, we parse back */
    sr_eio_packet e;
    CHECK(sr_eio_parse(&e, b.data, b.len) == SR_SIO_OK && e.type == SR_EIO_MESSAGE);
    CHECK(sr_sio_parse(&p, e.data, e.len) == SR_SIO_OK && strcmp(p.event, "realtime-event") == 0 &&
          p.argc == 1 && p.arg.type == SR_JSON_OBJECT);
    CHECK(built_is(&b, "42[\"realtime-event\",{\"event\":{\"type\":\"cursor-move\",\"payload\":{"
                       "\"position\":10}},\"sourceDeviceId\":\"d1\"}]"));
    sr_buf_free(&b);
}

/* Every prefix and every one-byte mutation of some packets, each in a heap block
 * of exactly its length, so the ASan build catches any read past the end. */
static void test_no_overread(void)
{
    const char *samples[] = {"42/admin,12[\"ev\",{\"a\":[1,\"x\\u00e9\"]},null]",
                             "40/admin,{\"token\":\"t\"}", "4313[]", "3probe", "1"};
    const char mutations[] = {'\0', '"', '\\', '[', ']', '{', ',', '/', '9', '-', 'x'};
    sr_sio_packet p;
    sr_eio_packet e;
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n = strlen(samples[k]);
        for (size_t len = 0; len <= n; len++) {
            for (size_t m = 0; m <= sizeof mutations; m++) {
                char *buf = malloc(len ? len : 1);
                memcpy(buf, samples[k], len);
                if (m < sizeof mutations && len) buf[len / 2] = mutations[m];
                int rc = sr_eio_parse(&e, buf, len);
                if (rc == SR_SIO_OK && e.type == SR_EIO_MESSAGE)
                    rc = sr_sio_parse(&p, e.data, e.len);
                if (len == n && m == sizeof mutations) CHECK(rc == SR_SIO_OK); /* the original */
                free(buf);
            }
        }
    }
}

int main(void)
{
    test_eio();
    test_query();
    test_sio_parse();
    test_sio_build();
    test_no_overread();
    return check_done("socketio");
}
