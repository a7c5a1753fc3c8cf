/* dialect_root.c - the WebSocket path "/" is shared by token sync (seed 000)
 * and mirror (seed 002), whose clients both connect to the server's root.
 * The first message with a type decides: an upper-case type (CREATE_SESSION,
 * JOIN_SESSION...) is mirror, anything else token sync. Until then errors
 * are answered in token sync's format, the original tenant of "/". */
#include "session.h"
#include "sr_json.h"

#include <ctype.h>
#include <string.h>

static bool upper_case(const char *s)
{
    if (!isupper((unsigned char)*s)) return false;
    for (; *s; s++)
        if (islower((unsigned char)*s)) return false;
    return true;
}

/* The message is parsed here once: a typed one goes to the chosen dialect as
 * it is; anything else is token sync's to answer with its error ("/" stays
 * open, undecided). */
static void root_message(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_json_doc doc;
    char type[64];
    const sr_json_span *t = NULL;
    if (!binary && sr_json_parse(&doc, data, len) == 0 && doc.root.type == SR_JSON_OBJECT)
        t = sr_json_get(&doc, "type");
    if (!t || sr_json_string(t, type, sizeof type) <= 0) {
        sr_dialect_tokensync.message(c, data, len, binary);
        return;
    }
    const sr_dialect *d = upper_case(type) ? &sr_dialect_mirror : &sr_dialect_tokensync;
    sr_conn_set_dialect(c, d);
    d->typed(c, &doc, type);
}

/* An upgrade to "/?hello=1" first gets {"type":"hello","node":"<NODE_ID>"}: a
 * page behind a load balancer learns which node its socket reached (the demo
 * page shows it). Other clients see nothing new. */
static void root_open(sr_conn *c)
{
    if (!sr_conn_arg(c, "hello")) return;
    const char *node = sr_conn_config(c)->node_id;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"type\":\"hello\",\"node\":");
    sr_buf_append_json_string(&b, node, strlen(node));
    sr_buf_append_str(&b, "}");
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

/* Before the first message tells them apart: token sync's error format. */
static void root_error(sr_conn *c, const char *message)
{
    sr_dialect_tokensync.error(c, message);
}

const sr_dialect sr_dialect_root = {
    .name = "root",
    .open = root_open,
    .message = root_message,
    .error = root_error,
};
