/* Engine.IO 4 long-polling: payload framing (engine.io-protocol v4's
 * examples), the request query and the error bodies. */
#include "check.h"
#include "sr_eio_polling.h"

static int next(const char *p, size_t *at, const char *want)
{
    const char *pkt;
    size_t len;
    int rc = sr_eio_payload_next(p, strlen(p), at, &pkt, &len);
    if (!want) return rc == 0;
    return rc == 1 && len == strlen(want) && memcmp(pkt, want, len) == 0;
}

static void test_payload(void)
{
    const char *p = "4hello\x1e"
                    "4\xe2\x82\xac\x1e"
                    "2";
    size_t at = 0;
    CHECK(next(p, &at, "4hello"));
    CHECK(next(p, &at, "4\xe2\x82\xac"));
    CHECK(next(p, &at, "2"));
    CHECK(next(p, &at, NULL));
    CHECK(next(p, &at, NULL)); /* stays at the end */
    at = 0;
    CHECK(next("3", &at, "3") && next("3", &at, NULL));
    /* empty packets are malformed */
    const char *bad[] = {"", "\x1e", "3\x1e",
                         "\x1e"
                         "3",
                         "3\x1e\x1e"
                         "3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *pkt;
        size_t len, n = 0;
        int rc;
        at = 0;
        while ((rc = sr_eio_payload_next(bad[i], strlen(bad[i]), &at, &pkt, &len)) == 1 && n < 9)
            n++;
        CHECK(rc == -1);
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_eio_payload_append(&b, "2", 1);
    sr_eio_payload_append(&b, "42[\"a\"]", 7);
    CHECK(b.len == 9 && memcmp(b.data,
                               "2\x1e"
                               "42[\"a\"]",
                               9) == 0);
    sr_buf_reset(&b);
    sr_eio_build_open_polling(&b, "abc", 25000, 20000, 1000000);
    sr_buf_append(&b, "", 1);
    CHECK_STR(b.data, "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
                      "\"pingTimeout\":20000,\"maxPayload\":1000000}");
    sr_buf_free(&b);
}

static void test_request(void)
{
    sr_eio_request q;
    enum sr_eio_http_error err;
    CHECK(sr_eio_request_parse("EIO=4&transport=polling&t=N8hyd6w", &q, &err) == 0 && q.polling &&
          !q.sid[0]);
    CHECK(sr_eio_request_parse("EIO=4&transport=polling&sid=abc%2Dd", &q, &err) == 0 &&
          !strcmp(q.sid, "abc-d"));
    CHECK(sr_eio_request_parse("EIO=4&transport=websocket&sid=x", &q, &err) == 0 && !q.polling);
    CHECK(sr_eio_request_parse("EIO=3&transport=polling", &q, &err) < 0 &&
          err == SR_EIO_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK(sr_eio_request_parse("transport=polling", &q, &err) < 0 &&
          err == SR_EIO_UNSUPPORTED_PROTOCOL_VERSION);
    CHECK(sr_eio_request_parse("EIO=4&transport=flash", &q, &err) < 0 &&
          err == SR_EIO_UNKNOWN_TRANSPORT);
    CHECK(sr_eio_request_parse("EIO=4", &q, &err) < 0 && err == SR_EIO_UNKNOWN_TRANSPORT);
    CHECK(sr_eio_request_parse("EIO=4&transport=polling&sid=%zz", &q, &err) < 0 &&
          err == SR_EIO_UNKNOWN_SID);
    char long_sid[200] = "EIO=4&transport=polling&sid=";
    memset(long_sid + strlen(long_sid), 'a', 100);
    CHECK(sr_eio_request_parse(long_sid, &q, &err) < 0 && err == SR_EIO_UNKNOWN_SID);

    sr_buf b;
    sr_buf_init(&b);
    CHECK(sr_eio_query_args("EIO=4&deviceInfo=%7B%22a%22%3A1%7D&x&y=a+b", &b) == 0);
    const char want[] = "EIO=4\0deviceInfo={\"a\":1}\0x=\0y=a b";
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);
    sr_buf_reset(&b);
    CHECK(sr_eio_query_args("a=%4", &b) < 0);
    sr_buf_free(&b);

    CHECK_STR(sr_eio_error_body(SR_EIO_UNKNOWN_SID),
              "{\"code\":1,\"message\":\"Session ID unknown\"}");
    CHECK_STR(sr_eio_error_body(SR_EIO_BAD_REQUEST), "{\"code\":3,\"message\":\"Bad request\"}");
}

int main(void)
{
    test_payload();
    test_request();
    return check_done("eio_polling");
}
