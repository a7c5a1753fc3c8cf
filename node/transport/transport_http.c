/* transport_http.c - plain HTTP on the shared port: turns a request (method,
 * path, query, Authorization, body) into an sr_http_req for the core, and
 * writes the answer whenever the core gives it (at once, or after a Redis
 * round trip). Headers can only be written from a WRITEABLE callback, so an
 * answer is kept in the pss until then. */
#include "client_limits.h"
#include "transport_lws.h"
#include "sr_alloc.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    enum lws_token_indexes token;
    const char *name;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},         {WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}, {WSI_TOKEN_DELETE_URI, "DELETE"},
    {WSI_TOKEN_PUT_URI, "PUT"},         {WSI_TOKEN_PATCH_URI, "PATCH"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

void sr_transport_http_answer(void *handle, unsigned status, const char *type, const char *body,
                              size_t len)
{
    sr_pss *pss = handle;
    sr_buf_reset(&pss->http_body);
    sr_buf_append(&pss->http_body, body, len);
    pss->http_status = status;
    snprintf(pss->http_type, sizeof pss->http_type, "%s", type);
    pss->http_headers_sent = false;
    pss->http_sent = 0;
    pss->http_ready = true;
    lws_callback_on_writable(pss->wsi);
}

static void request_done(sr_pss *pss)
{
    if (!pss->req) return;
    pss->req->transport = NULL;
    sr_http_unref(pss->req);
    pss->req = NULL;
}

/* The Accept header, cut to cap (lws copies a header whole or not at all);
 * empty on a request that asks for an Upgrade, which is never a page view. */
static void accept_header(struct lws *wsi, char *out, size_t cap)
{
    char whole[2048];
    out[0] = '\0';
    if (lws_hdr_total_length(wsi, WSI_TOKEN_UPGRADE) > 0) return;
    int n = lws_hdr_copy(wsi, whole, sizeof whole, WSI_TOKEN_HTTP_ACCEPT);
    if (n <= 0) return;
    size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(out, whole, len);
    out[len] = '\0';
}

/* The query as sent, "a=1&b=2", near enough: lws hands over its arguments
 * split on '&' and decoded (its lws_hdr_copy would join them with commas);
 * they are joined with '&' again, with the characters that would change the
 * splitting or a second decoding ('%', '&', '+', '#') encoded, so a value
 * such as a polling client's deviceInfo JSON reads back intact. */
static void copy_query(struct lws *wsi, char *out, size_t cap)
{
    char arg[4096];
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) break;
        if (i && len + 1 < cap) out[len++] = '&';
        for (int j = 0; j < n && len + 4 < cap; j++) {
            if (strchr("%&+#", arg[j]) && arg[j])
                len += (size_t)snprintf(out + len, cap - len, "%%%02X", (unsigned char)arg[j]);
            else
                out[len++] = arg[j];
        }
        out[len] = '\0';
    }
}

int sr_transport_http_request(sr_transport *t, struct lws *wsi, sr_pss *pss, const char *uri)
{
    memset(pss, 0, sizeof *pss);
    pss->wsi = wsi;
    sr_buf_init(&pss->http_body);
    sr_http_req *r = sr_xcalloc(1, sizeof *r);
    r->core = t->core;
    r->transport = pss;
    r->refs = 1;
    sr_buf_init(&r->body);
    pss->req = r;
    snprintf(r->path, sizeof r->path, "%s", uri);
    snprintf(r->method, sizeof r->method, "GET");
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (lws_hdr_total_length(wsi, methods[i].token) > 0) {
            snprintf(r->method, sizeof r->method, "%s", methods[i].name);
            break;
        }
    copy_query(wsi, r->query, sizeof r->query);
    if (lws_hdr_copy(wsi, r->authorization, sizeof r->authorization, WSI_TOKEN_HTTP_AUTHORIZATION) <
        0)
        r->authorization[0] = '\0';
    accept_header(wsi, r->accept, sizeof r->accept);
    sr_transport_client_ip(t, wsi, r->ip, sizeof r->ip);
    pss->http_head = !strcmp(r->method, "HEAD");
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        sr_http_respond_json(r, 411, "{\"error\":\"Content-Length required\"}");
        return 0;
    }
    char length[24];
    unsigned long long declared = 0;
    if (lws_hdr_copy(wsi, length, sizeof length, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        declared = strtoull(length, NULL, 10);
    if (declared > (unsigned long long)t->cfg->max_http_body_bytes) {
        sr_core_limit_hit(t->core, SR_LIMIT_HTTP_BODY); /* refused before a byte of it */
        sr_http_respond_json(r, 413, "{\"error\":\"Request body too large\"}");
        return 0;
    }
    if (declared > 0) {
        pss->http_awaiting_body = true; /* dispatched at LWS_CALLBACK_HTTP_BODY_COMPLETION */
        return 0;                       /* the handshake budget covers the body */
    }
    sr_transport_handshake_done(wsi);
    sr_http_dispatch(r);
    return 0;
}

int sr_transport_http_body(struct lws *wsi, sr_pss *pss, const void *in, size_t len)
{
    if (!pss->req) return -1;
    sr_transport *t = lws_context_user(lws_get_context(wsi));
    if (pss->req->body.len + len > (size_t)t->cfg->max_http_body_bytes) {
        if (!pss->req->answered) {
            sr_core_limit_hit(t->core, SR_LIMIT_HTTP_BODY);
            sr_http_respond_json(pss->req, 413, "{\"error\":\"Request body too large\"}");
        }
        return 0;
    }
    sr_buf_append(&pss->req->body, in, len);
    return 0;
}

int sr_transport_http_body_done(struct lws *wsi, sr_pss *pss)
{
    if (!pss->req) return -1;
    sr_transport_handshake_done(wsi);
    if (pss->http_awaiting_body && !pss->req->answered) sr_http_dispatch(pss->req);
    pss->http_awaiting_body = false;
    return 0;
}

/* lws names 200, 304 and the 4xx/5xx statuses only, and writes the others
 * with an empty reason phrase ("HTTP/1.1 201 "): add theirs to the status
 * line. HTTP/2 has no reason phrase (and no text status line to find). */
static int add_reason_phrase(unsigned status, unsigned char *start, unsigned char **p,
                             unsigned char *end)
{
    const char *reason = status == 201   ? "Created"
                         : status == 202 ? "Accepted"
                         : status == 204 ? "No Content"
                                         : NULL;
    if (!reason || *p - start < 16 || memcmp(start, "HTTP/1.", 7) != 0) return 0;
    unsigned char *eol = memchr(start, '\r', (size_t)(*p - start));
    size_t n = strlen(reason);
    if (!eol || eol[-1] != ' ' || *p + n > end) return eol ? -1 : 0;
    memmove(eol + n, eol, (size_t)(*p - eol));
    memcpy(eol, reason, n);
    *p += n;
    return 0;
}

static int write_headers(struct lws *wsi, sr_pss *pss)
{
    unsigned char buf[LWS_PRE + 2048], *start = &buf[LWS_PRE], *p = start,
                                       *end = &buf[sizeof buf - 1];
    static const struct {
        const char *name, *value;
    } extra[] = {
        {"cache-control:", "no-store"},
        {"access-control-allow-origin:", "*"},
        {"access-control-allow-headers:", "Authorization, Content-Type"},
        {"access-control-allow-methods:", "GET, POST, DELETE, OPTIONS"},
    };
    if (lws_add_http_common_headers(wsi, pss->http_status, pss->http_type,
                                    (lws_filepos_t)pss->http_body.len, &p, end) ||
        add_reason_phrase(pss->http_status, start, &p, end) < 0)
        return -1;
    size_t nextra = pss->req && !pss->req->cors ? 1 : sizeof extra / sizeof extra[0];
    for (size_t i = 0; i < nextra; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)extra[i].name,
                                        (const unsigned char *)extra[i].value,
                                        (int)strlen(extra[i].value), &p, end))
            return -1;
    for (const char *const *h = pss->req ? pss->req->headers : NULL; h && h[0] && h[1]; h += 2)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h[0],
                                        (const unsigned char *)h[1], (int)strlen(h[1]), &p, end))
            return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    pss->http_headers_sent = true;
    return 0;
}

int sr_http_writeable(struct lws *wsi, sr_pss *pss)
{
    if (!pss->http_ready) return 0;
    if (!pss->http_headers_sent) {
        if (write_headers(wsi, pss) < 0) return -1;
        if (pss->http_head) sr_buf_reset(&pss->http_body); /* HEAD: the headers only */
        if (pss->http_body.len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
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
    pss->http_ready = false;
    request_done(pss);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void sr_http_closed(sr_pss *pss)
{
    sr_buf_free(&pss->http_body);
    request_done(pss);
}
