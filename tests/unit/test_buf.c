#include "check.h"
#include "sr_buf.h"

int main(void)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "a");
    sr_buf_printf(&b, "%d-%s", 42, "x");
    CHECK_STR(b.data, "a42-x");
    sr_buf_reset(&b);
    sr_buf_append_json_string(&b, "q\"\\\n\x01", 5);
    CHECK_STR(b.data, "\"q\\\"\\\\\\u000a\\u0001\"");
    sr_buf_reset(&b);
    for (int i = 0; i < 10000; i++)
        sr_buf_append(&b, "0123456789", 10);
    CHECK(b.len == 100000 && b.data[b.len] == '\0');
    sr_buf_free(&b);
    /* regression: libwebsockets hands an empty POST body over as (NULL, 0) */
    sr_buf_init(&b);
    sr_buf_append(&b, NULL, 0);
    CHECK(b.len == 0);
    sr_buf_append(&b, "x", 1);
    sr_buf_append(&b, NULL, 0);
    CHECK_STR(b.data, "x");
    sr_buf_free(&b);
    return check_done("buf");
}
