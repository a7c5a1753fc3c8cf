/* core_http.c - the REST side of the node: routing of plain HTTP requests to
 * the node's own endpoints (/health, /ready, /metrics), the admin API over
 * every dialect's sessions (/api/sessions...) and each dialect's endpoints.
 * The transport frames requests and answers; a request may be answered after
 * a Redis round trip, so it is reference counted like a connection. */
#include "core_internal.h"
#include "core_web.h"
#include "sr_envelope.h"
#include "sr_json.h"
#include "sr_token.h"

#include <ctype.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sr_http_ref(sr_http_req *r)
{
    r->refs++;
}

void sr_http_unref(sr_http_req *r)
{
    if (--r->refs) return;
    sr_buf_free(&r->body);
    free(r);
}

void sr_http_respond(sr_http_req *r, unsigned status, const char *type, const char *body,
                     size_t len)
{
    if (r->answered || !r->transport) return;
    r->answered = true;
    r->core->transport->http_respond(r->transport, status, type ? type : "application/json", body,
                                     len);
}

void sr_http_respond_json(sr_http_req *r, unsigned status, const char *json)
{
    sr_http_respond(r, status, NULL, json, strlen(json));
}

const char *sr_http_bearer(const sr_http_req *r, size_t *len)
{
    static const char scheme[] = "Bearer ";
    if (strncasecmp(r->authorization, scheme, sizeof scheme - 1) != 0) return NULL;
    const char *token = r->authorization + sizeof scheme - 1;
    while (*token == ' ')
        token++;
    *len = strlen(token);
    while (*len && token[*len - 1] == ' ')
        (*len)--;
    return *len ? token : NULL;
}

static bool is_get(const sr_http_req *r)
{
    return !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
}

void sr_http_dispatch(sr_http_req *r)
{
    sr_core *core = r->core;
    sr_buf out;
    sr_buf_init(&out);
    /* The admin API is not for web pages of other origins: no CORS there, so
     * a page an operator visits cannot read or end sessions. */
    r->cors = strncmp(r->path, "/api/sessions", 13) != 0 && strcmp(r->path, "/api/cluster") != 0;
    if (!strcmp(r->method, "OPTIONS")) { /* CORS preflight: the headers say it all */
        sr_http_respond(r, r->cors ? 204 : 405, NULL, "", 0);
    } else if (is_get(r) && !strcmp(r->path, "/health")) {
        sr_core_health_json(core, &out);
        sr_http_respond(r, 200, NULL, out.data, out.len);
    } else if (is_get(r) && !strcmp(r->path, "/ready")) {
        bool ready = sr_core_ready(core);
        sr_http_respond_json(r, ready ? 200 : 503,
                             ready ? "{\"ready\":true}" : "{\"ready\":false}");
    } else if (is_get(r) && !strcmp(r->path, "/metrics")) {
        sr_core_metrics_text(core, &out);
        sr_http_respond(r, 200, "text/plain; version=0.0.4", out.data, out.len);
    } else if (!sr_admin_http(r) && !sr_cluster_http(r) && !sr_web_http(r)) {
        bool taken = false;
        for (size_t i = 0; i < sr_dialect_count && !taken; i++)
            if (sr_dialects[i]->http) taken = sr_dialects[i]->http(r);
        if (!taken) sr_http_respond_json(r, 404, "{\"error\":\"Not found\"}");
    }
    sr_buf_free(&out);
}

/* ---------- admin API: GET /api/sessions, GET and DELETE /api/sessions/:id ---------- */

/* Without ADMIN_TOKEN the API (and the /admin dashboard reading it) is open
 * to anyone who reaches the port, so it sees only the kinds that keep no
 * user's data: recording sessions (what seed 004's dashboard needs) and token
 * sync pairings (roles and seqs only, what the demo page makes). Never a
 * device-sync user's state, a peersync inbox or mirror's customer data:
 * those need their user's token, or the admin's. With ADMIN_TOKEN, requests
 * that carry it see every kind. */
static bool api_open(const sr_core *core)
{
    return !core->cfg->admin_token || !*core->cfg->admin_token;
}

static bool kind_visible(const sr_core *core, const char *kind, size_t len)
{
    const char *open_kinds[] = {sr_dialect_recording.name, sr_dialect_tokensync.name};
    if (!api_open(core)) return true;
    for (size_t i = 0; i < sizeof open_kinds / sizeof open_kinds[0]; i++)
        if (len == strlen(open_kinds[i]) && !memcmp(kind, open_kinds[i], len)) return true;
    return false;
}

bool sr_admin_allowed(const sr_http_req *r)
{
    const char *want = r->core->cfg->admin_token;
    if (!want || !*want) return true;
    size_t len, wlen = strlen(want);
    const char *got = sr_http_bearer(r, &len);
    if (!got || len != wlen) return false;
    unsigned char diff = 0; /* constant time in the token's bytes */
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(got[i] ^ want[i]);
    return diff == 0;
}

/* A value of the session hash as JSON: state values are JSON texts (as the
 * dialects store them); anything else becomes a string. */
static void append_value(sr_buf *out, const char *v, size_t len)
{
    sr_json_doc doc;
    if (len && sr_json_parse(&doc, v, len) == 0)
        sr_buf_append(out, v, len);
    else
        sr_buf_append_json_string(out, v, len);
}

static void append_time(sr_buf *out, const char *name, const char *ms, size_t len)
{
    char stamp[40];
    char digits[24];
    if (!ms || len == 0 || len >= sizeof digits) {
        sr_buf_printf(out, ",\"%s\":null", name);
        return;
    }
    memcpy(digits, ms, len);
    digits[len] = '\0';
    sr_iso_time(strtoull(digits, NULL, 10), stamp, sizeof stamp);
    sr_buf_printf(out, ",\"%s\":\"%s\"", name, stamp);
}

/* One session as JSON. */
static void append_session(sr_buf *out, const sr_store_session *e, bool with_state)
{
    const sr_field *f = e->fields;
    size_t n = e->nfields, len, klen, vlen;
    sr_buf_append_str(out, "{\"id\":");
    sr_buf_append_json_string(out, e->id.p ? e->id.p : "", e->id.len);
    sr_buf_append_str(out, ",\"kind\":");
    sr_buf_append_json_string(out, e->kind.p ? e->kind.p : "", e->kind.len);
    sr_buf_append_str(out, ",\"members\":[");
    unsigned online = 0, members = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = f[i].name.p;
        klen = f[i].name.len;
        vlen = f[i].value.len;
        if (klen < 3 || memcmp(k, "m:", 2) != 0) continue;
        char info_name[160];
        snprintf(info_name, sizeof info_name, "i:%.*s", (int)(klen - 2), k + 2);
        const char *info = sr_fields_get(f, n, info_name, &len);
        sr_buf_append_str(out, members++ ? ",{\"member\":" : "{\"member\":");
        sr_buf_append_json_string(out, k + 2, klen - 2);
        sr_buf_printf(out, ",\"online\":%s", vlen ? "true" : "false");
        if (vlen) { /* "<node>/<boot>/<conn>" */
            sr_buf_append_str(out, ",\"holder\":");
            sr_buf_append_json_string(out, f[i].value.p, vlen);
        }
        if (info) {
            sr_buf_append_str(out, ",\"info\":");
            append_value(out, info, len);
        }
        sr_buf_append_str(out, "}");
        online += vlen > 0;
    }
    sr_buf_printf(out, "],\"onlineMembers\":%u", online);
    const char *v = sr_fields_get(f, n, "seq", &len);
    sr_buf_printf(out, ",\"seq\":%.*s", v ? (int)len : 1, v ? v : "0");
    v = sr_fields_get(f, n, "created", &len);
    append_time(out, "created", v, len);
    v = sr_fields_get(f, n, "active", &len);
    append_time(out, "lastActivity", v, len);
    if (with_state) {
        sr_buf_append_str(out, ",\"state\":{");
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            const char *k = f[i].name.p, *val = f[i].value.p;
            klen = f[i].name.len;
            vlen = f[i].value.len;
            if (klen < 3 || memcmp(k, "s:", 2) != 0) continue;
            if (!first) sr_buf_append_str(out, ",");
            first = false;
            sr_buf_append_json_string(out, k + 2, klen - 2);
            sr_buf_append_str(out, ":");
            append_value(out, val, vlen);
        }
        sr_buf_append_str(out, "}");
    }
    sr_buf_append_str(out, "}");
}

static bool reply_ok(sr_http_req *r, const sr_store_sessions_result *reply)
{
    if (reply->status == SR_STORE_OK) return true;
    sr_core_error(r->core, SR_ERROR_UNAVAILABLE);
    sr_http_respond_json(r, 503, "{\"error\":\"Redis unavailable\"}");
    return false;
}

/* The admin calls below are bound to their request by an sr_op (arg). */
static void on_list(const sr_store_sessions_result *reply, void *arg)
{
    sr_op *op = arg;
    sr_http_req *r = op->r;
    if (reply_ok(r, reply)) {
        sr_buf out;
        sr_buf_init(&out);
        sr_buf_append_str(&out, "{\"sessions\":[");
        size_t count = 0;
        for (size_t i = 0; i < reply->n; i++) {
            const sr_store_session *e = &reply->sessions[i];
            if (!e->kind.p || !kind_visible(op->core, e->kind.p, e->kind.len)) continue;
            if (count++) sr_buf_append_str(&out, ",");
            append_session(&out, e, false);
        }
        sr_buf_printf(&out, "],\"count\":%zu}", count);
        sr_http_respond(r, 200, NULL, out.data, out.len);
        sr_buf_free(&out);
    }
    sr_op_done(op);
}

static void on_get(const sr_store_sessions_result *reply, void *arg)
{
    sr_op *op = arg;
    sr_http_req *r = op->r;
    if (reply_ok(r, reply)) {
        if (reply->n == 0) {
            sr_http_respond_json(r, 404, "{\"error\":\"Session not found\"}");
        } else {
            sr_buf out;
            sr_buf_init(&out);
            append_session(&out, &reply->sessions[0], true);
            sr_http_respond(r, 200, NULL, out.data, out.len);
            sr_buf_free(&out);
        }
    }
    sr_op_done(op);
}

typedef struct deleted_names {
    char kind[64], id[128];
} deleted_names;

static void on_deleted(enum sr_store_status status, bool found, void *arg)
{
    sr_op *op = arg;
    sr_http_req *r = op->r;
    deleted_names *names = op->arg;
    if (status != SR_STORE_OK) {
        sr_core_error(r->core, SR_ERROR_UNAVAILABLE);
        sr_http_respond_json(r, 503, "{\"error\":\"Redis unavailable\"}");
    } else if (!found) {
        sr_http_respond_json(r, 404, "{\"error\":\"Session not found\"}");
    } else {
        sr_buf out;
        sr_buf_init(&out);
        sr_buf_append_str(&out, "{\"deleted\":true,\"id\":");
        sr_buf_append_json_string(&out, names->id, strlen(names->id));
        sr_buf_append_str(&out, ",\"kind\":");
        sr_buf_append_json_string(&out, names->kind, strlen(names->kind));
        sr_buf_append_str(&out, "}");
        sr_http_respond(r, 200, NULL, out.data, out.len);
        sr_buf_free(&out);
    }
    free(names);
    sr_op_done(op);
}

/* DELETE: find the session's kind, then end it (members are told by their
 * nodes through the 'k' envelope). */
static void on_delete_found(const sr_store_sessions_result *reply, void *arg)
{
    sr_op *op = arg;
    sr_http_req *r = op->r;
    if (!reply_ok(r, reply)) {
        sr_op_done(op);
        return;
    }
    if (reply->n == 0) {
        sr_http_respond_json(r, 404, "{\"error\":\"Session not found\"}");
        sr_op_done(op);
        return;
    }
    const sr_store_session *e = &reply->sessions[0];
    size_t klen = e->kind.len, ilen = e->id.len;
    const char *kind = e->kind.p, *id = e->id.p;
    deleted_names *names = sr_xcalloc(1, sizeof *names);
    op->arg = names; /* the op goes on to the delete */
    snprintf(names->kind, sizeof names->kind, "%.*s", (int)klen, kind ? kind : "");
    snprintf(names->id, sizeof names->id, "%.*s", (int)ilen, id ? id : "");
    sr_buf env;
    sr_buf_init(&env);
    sr_envelope_write(&env, SR_ENVELOPE_END, 0, "admin", "@", "", 0);
    sr_store_session_delete(r->core->store, names->kind, names->id, env.data, env.len, on_deleted,
                            op);
    sr_buf_free(&env);
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 128 && !strpbrk(id, "/{}\n\r :");
}

/* The id as pairing takes it: a token with or without "dts://" (lws may fold
 * its "//"), in any case; mirror and recording codes in any case. Writes the
 * canonical form; 0, or -1 when there is none. */
static int normalize_id(const char *id, char out[128])
{
    if (!strncasecmp(id, "dts:", 4)) {
        const char *p = id + 4;
        while (*p == '/')
            p++;
        return sr_token_dts_normalize(p, strlen(p), out) < 0 ? -1 : 0;
    }
    size_t n = strlen(id);
    if (n >= 128) return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)toupper((unsigned char)id[i]);
    return 0;
}

/* The kinds the request may see (see kind_visible). */
static size_t all_kinds(const sr_core *core, const char *kinds[16])
{
    size_t n = 0;
    for (size_t i = 0; i < sr_dialect_count && n < 16; i++)
        if (kind_visible(core, sr_dialects[i]->name, strlen(sr_dialects[i]->name)))
            kinds[n++] = sr_dialects[i]->name;
    return n;
}

/* One session by id: the id as given first (peersync and device sync ids are
 * case-sensitive), then its normalized form when that differs. op->cb is the
 * handler to hand the answer (and op) to; op->arg the form to try when the
 * first finds nothing, or NULL. */
static void on_lookup(const sr_store_sessions_result *reply, void *arg)
{
    sr_op *op = arg;
    char *next = op->arg;
    op->arg = NULL;
    if (next && reply->status == SR_STORE_OK && !reply->n) {
        const char *kinds[16];
        size_t n = all_kinds(op->core, kinds);
        sr_store_sessions(op->core->store, kinds, n, next, 1, on_lookup, op);
        free(next);
        return;
    }
    free(next);
    ((sr_store_sessions_cb *)op->cb)(reply, op);
}

/* ?limit=N: the N most recently active sessions (the script walks no more);
 * more than 10000 reads as 10000. -1 when it is not a whole number >= 1. */
static long parse_limit(const char *query)
{
    const char *arg = strstr(query, "limit=");
    while (arg && arg != query && arg[-1] != '&')
        arg = strstr(arg + 1, "limit=");
    if (!arg) return 1000;
    const char *v = arg + 6;
    size_t n = strcspn(v, "&");
    if (n == 0 || n > 9 || strspn(v, "0123456789") != n) return -1;
    long limit = strtol(v, NULL, 10);
    return limit < 1 ? -1 : limit > 10000 ? 10000 : limit;
}

bool sr_admin_http(sr_http_req *r)
{
    static const char prefix[] = "/api/sessions";
    if (strncmp(r->path, prefix, sizeof prefix - 1) != 0) return false;
    const char *rest = r->path + sizeof prefix - 1;
    if (*rest && *rest != '/') return false;
    if (!sr_admin_allowed(r)) {
        sr_http_respond_json(r, 401, "{\"error\":\"Unauthorized\"}");
        return true;
    }
    const char *id = *rest ? rest + 1 : "";
    const char *kinds[16];
    size_t nkinds = all_kinds(r->core, kinds);
    sr_store_sessions_cb *cb = NULL;
    if (!*id && is_get(r))
        cb = on_list;
    else if (*id && is_get(r))
        cb = on_get;
    else if (*id && !strcmp(r->method, "DELETE"))
        cb = on_delete_found;
    if (!cb) {
        sr_http_respond_json(r, 405, "{\"error\":\"Method not allowed\"}");
        return true;
    }
    long limit = parse_limit(r->query);
    if (limit < 0) {
        sr_http_respond_json(r, 400, "{\"error\":\"limit must be a whole number from 1\"}");
        return true;
    }
    char normal[128] = "";
    bool exact = valid_id(id);
    if (*id && (normalize_id(id, normal) < 0 || !valid_id(normal))) normal[0] = '\0';
    if (*id && !exact && !normal[0]) {
        sr_http_respond_json(r, 404, "{\"error\":\"Session not found\"}");
        return true;
    }
    sr_op *op = sr_op_http(r, SR_FN(cb), NULL);
    if (*id) { /* through on_lookup: the exact id, then the normalized one */
        if (exact && normal[0] && strcmp(normal, id) != 0) op->arg = sr_xstrdup(normal);
        sr_store_sessions(r->core->store, kinds, nkinds, exact ? id : normal, 1, on_lookup, op);
        return true;
    }
    sr_store_sessions(r->core->store, kinds, nkinds, NULL, (unsigned)limit, cb, op);
    return true;
}

const sr_config *sr_http_config(const sr_http_req *r)
{
    return r->core->cfg;
}

void sr_http_error(sr_http_req *r, enum sr_error_kind kind)
{
    sr_core_error(r->core, kind);
}

void sr_http_health_json(sr_http_req *r, sr_buf *out)
{
    sr_core_health_json(r->core, out);
}
