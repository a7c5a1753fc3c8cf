/* core_web.c - the static pages: GET / for a browser (Accept: text/html; a
 * WebSocket upgrade on "/" never comes here) is the demo page, GET /admin the
 * dashboard, GET /web/<file> their scripts and style. The files are web/,
 * embedded in the binary at build time like the Lua scripts; nothing is read
 * from disk or fetched from elsewhere. */
#include "core_web.h"

#include <string.h>

/* The pages run only their own scripts and talk only to this origin (and
 * its WebSocket); the dashboard holds an admin token, so no framing either. */
static const char *const page_headers[] = {
    "content-security-policy:",
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options:",
    "nosniff",
    "referrer-policy:",
    "no-referrer",
    NULL,
};

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
};

static const sr_web_asset *asset(const char *name)
{
    for (size_t i = 0; i < sr_web_asset_count; i++)
        if (!strcmp(sr_web_assets[i].name, name)) return &sr_web_assets[i];
    return NULL;
}

static bool serve(sr_http_req *r, const char *name)
{
    const sr_web_asset *a = asset(name);
    const char *dot = strrchr(name, '.');
    if (!a || !dot) return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext)) {
            r->cors = false;
            r->headers = page_headers;
            sr_http_respond(r, 200, types[i].type, (const char *)a->data, a->len);
            return true;
        }
    return false;
}

/* A browser navigating to "/" sends Accept: text/html,...; WebSocket and API
 * clients do not, and keep the JSON 404 they get today. */
static bool wants_html(const sr_http_req *r)
{
    return strstr(r->accept, "text/html") != NULL;
}

bool sr_web_http(sr_http_req *r)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) return false;
    if (!strcmp(r->path, "/")) return wants_html(r) && serve(r, "index.html");
    if (!strcmp(r->path, "/admin") || !strcmp(r->path, "/admin/")) return serve(r, "admin.html");
    static const char prefix[] = "/web/";
    if (strncmp(r->path, prefix, sizeof prefix - 1) != 0) return false;
    const char *name = r->path + sizeof prefix - 1;
    if (strchr(name, '/') || !serve(r, name))
        sr_http_respond_json(r, 404, "{\"error\":\"Not found\"}");
    return true;
}
