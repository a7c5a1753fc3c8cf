/* transport_http.c - the plain HTTP endpoints on the shared port: /health,
 * /ready and /metrics (SPEC section 5). Bodies are built by the core; this
 * file only frames them as HTTP. */
#include "transport_lws.h"

#include <string.h>

static int respond(struct lws *wsi, sr_pss *pss, unsigned status, const char *type)
{
    unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
                                       *end = &buf[sizeof buf - 1];
    if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)pss->http_body.len, &p,
                                    end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    pss->http_sent = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

int sr_http_request(sr_transport *t, struct lws *wsi, sr_pss *pss, const char *uri)
{
    sr_buf_init(&pss->http_body);
    pss->conn = NULL;
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (get && !strcmp(uri, "/health")) {
        sr_core_health_json(t->core, &pss->http_body);
        return respond(wsi, pss, 200, "application/json");
    }
    if (get && !strcmp(uri, "/ready")) {
        bool ready = sr_core_ready(t->core);
        sr_buf_printf(&pss->http_body, "{\"ready\":%s}", ready ? "true" : "false");
        return respond(wsi, pss, ready ? 200 : 503, "application/json");
    }
    if (get && !strcmp(uri, "/metrics")) {
        sr_core_metrics_text(t->core, &pss->http_body);
        return respond(wsi, pss, 200, "text/plain; version=0.0.4");
    }
    sr_buf_append_str(&pss->http_body, "{\"error\":\"Not found\"}");
    return respond(wsi, pss, 404, "application/json");
}

int sr_http_writeable(struct lws *wsi, sr_pss *pss)
{
    unsigned char buf[LWS_PRE + 4096];
    size_t left = pss->http_body.len - pss->http_sent;
    size_t n = left > 4096 ? 4096 : left;
    if (n) memcpy(&buf[LWS_PRE], pss->http_body.data + pss->http_sent, n);
    pss->http_sent += n;
    bool last = pss->http_sent == pss->http_body.len;
    if (lws_write(wsi, &buf[LWS_PRE], n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    sr_buf_free(&pss->http_body);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
