#include "check.h"
#include "sr_envelope.h"

int main(void)
{
    sr_buf b;
    sr_envelope e;
    sr_buf_init(&b);
    sr_envelope_write(&b, 'm', 42, "web", "*", "{\"x\":\"a\nb\"}", 11);
    CHECK(sr_envelope_parse(&e, b.data, b.len) == 0);
    CHECK(e.kind == 'm' && e.seq == 42);
    CHECK(e.from_len == 3 && !memcmp(e.from, "web", 3));
    CHECK(e.frame_len == 11 && !memcmp(e.frame, "{\"x\":\"a\nb\"}", 11));
    CHECK(!sr_envelope_is_for(&e, "web")); /* never echoed */
    CHECK(sr_envelope_is_for(&e, "figma"));

    sr_buf_reset(&b);
    sr_envelope_write(&b, 'm', 1, "a", "@", "", 0);
    CHECK(sr_envelope_parse(&e, b.data, b.len) == 0 && e.frame_len == 0);
    CHECK(sr_envelope_is_for(&e, "a") && sr_envelope_is_for(&e, "b"));

    sr_buf_reset(&b);
    sr_envelope_write(&b, 'm', 1, "a", "dev-7", "{}", 2);
    CHECK(sr_envelope_parse(&e, b.data, b.len) == 0);
    CHECK(sr_envelope_is_for(&e, "dev-7") && !sr_envelope_is_for(&e, "dev-8"));

    /* what the Lua supersede notice looks like */
    const char *x = "x\n0\nnode1/7\nweb\n";
    CHECK(sr_envelope_parse(&e, x, strlen(x)) == 0 && e.kind == 'x' && e.frame_len == 0);
    CHECK(e.to_len == 3 && e.from_len == 7);

    /* a message with the time it was published (session_publish.lua) */
    const char *t = "m 1795307064702123\n7\nweb\n*\n{}";
    CHECK(sr_envelope_parse(&e, t, strlen(t)) == 0 && e.kind == 'm' && e.seq == 7);
    CHECK(e.time_us == 1795307064702123ull && e.frame_len == 2);
    CHECK(sr_envelope_parse(&e, x, strlen(x)) == 0 && e.time_us == 0);

    const char *bad[] = {"m \n1\na\nb\n",
                         "m 12x\n1\na\nb\n",
                         "m1\n1\na\nb\n",
                         "\n1\na\nb\n",
                         "",
                         "m",
                         "m\n1\n",
                         "m\n1\na\n",
                         "mm\n1\na\nb\n",
                         "m\nx\na\nb\n",
                         "m\n\na\nb\n",
                         "m\n99999999999999999999\na\nb\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sr_envelope_parse(&e, bad[i], strlen(bad[i])) == -1);
    sr_buf_free(&b);
    return check_done("envelope");
}
