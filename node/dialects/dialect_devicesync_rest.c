/* dialect_devicesync_rest.c - the REST side of the device-sync dialect
 * (seed 001): accounts (register, login), the user's devices and session
 * state, health, the tokens both sides use, and the 400 that tells
 * long-polling clients to use the WebSocket transport.
 *
 * Accounts are kept in Redis without a TTL (devicesync_store.h), passwords as scrypt records
 * (sr_password.h). Hashing takes about 50 ms on the event loop, so register and login are rate
 * limited per client IP across the cluster (AUTH_RATE_LIMIT a minute) before any hashing happens.
 */
#include "http.h"
#include "session.h"
#include "core_poll.h"
#include "devicesync_store.h"
#include "dialect_devicesync.h"
#include "sr_json.h"
#include "sr_jwt.h"
#include "sr_log.h"
#include "sr_password.h"
#include "sr_random.h"
#include "sr_socketio.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EMAIL 254
#define MIN_PASSWORD 8
#define MAX_PASSWORD 1024

/* ---------- ids and tokens (shared with dialect_devicesync.c) ---------- */

int sr_ds_uuid(char *out)
{
    unsigned char b[16];
    if (sr_random_bytes(b, sizeof b) < 0) return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, SR_DS_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

bool sr_ds_valid_id(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || strchr("{}/\\:", s[i]))
            return false;
    return true;
}

/* The HS256 key, made on first use. Without JWT_SECRET a random one: tokens
 * then die with the process and no other node accepts them (warned once). */
static sr_jwt_key *key_of(const sr_config *cfg)
{
    static sr_jwt_key *key;
    if (key) return key;
    char err[160];
    unsigned char secret[32];
    if (cfg->jwt_secret && *cfg->jwt_secret) {
        key = sr_jwt_key_hs256(cfg->jwt_secret, strlen(cfg->jwt_secret), err, sizeof err);
    } else if (sr_random_bytes(secret, sizeof secret) == 0) {
        sr_log_warn("JWT_SECRET is not set: device-sync tokens are signed with a random "
                    "per-process key; they stop working when this node restarts and other "
                    "nodes refuse them");
        key = sr_jwt_key_hs256(secret, sizeof secret, err, sizeof err);
    } else {
        snprintf(err, sizeof err, "no randomness");
    }
    if (!key) sr_log_error("device sync: no JWT key: %s", err);
    return key;
}

int sr_ds_verify(const sr_config *cfg, const char *token, size_t len, char *user, size_t cap)
{
    const sr_jwt_key *key = key_of(cfg);
    if (!key) return SR_JWT_KEY;
    sr_jwt_rules rules = {.subject_claim = "userId"};
    json_t *claims;
    int rc = sr_jwt_verify(key, token, len, &rules, &claims);
    if (rc < 0) return rc;
    const char *id = json_string_value(json_object_get(claims, "userId"));
    if (!id || strlen(id) >= cap || !sr_ds_valid_id(id, SR_DS_MAX_USER)) {
        rc = SR_JWT_BAD_SUBJECT;
    } else {
        snprintf(user, cap, "%s", id);
    }
    json_decref(claims);
    return rc;
}

int sr_ds_sign(const sr_config *cfg, const char *user, const char *email, char **token)
{
    const sr_jwt_key *key = key_of(cfg);
    if (!key) return SR_JWT_KEY;
    json_int_t now = (json_int_t)time(NULL);
    json_t *claims = json_pack("{s:s, s:s, s:I, s:I}", "userId", user, "email", email, "iat", now,
                               "exp", now + SR_DS_TOKEN_TTL);
    if (!claims) return SR_JWT_INTERNAL;
    int rc = sr_jwt_sign(key, claims, token);
    json_decref(claims);
    return rc;
}

/* ---------- helpers ---------- */

static void respond_error(sr_http_req *r, unsigned status, const char *message)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"error\":");
    sr_buf_append_json_string(&b, message, strlen(message));
    sr_buf_append_str(&b, "}");
    sr_http_respond(r, status, NULL, b.data, b.len);
    sr_buf_free(&b);
}

/* Redis did not answer (the store counted it). */
static void unavailable(sr_http_req *r)
{
    respond_error(r, 503, "Service unavailable");
}

/* The user of a request's "Authorization: Bearer <token>", or false (answered 401). */
static bool authorized(sr_http_req *r, char *user, size_t cap)
{
    size_t len;
    const char *token = sr_http_bearer(r, &len);
    if (!token) {
        respond_error(r, 401, "Authorization: Bearer <token> required");
        return false;
    }
    int rc = sr_ds_verify(sr_http_config(r), token, len, user, cap);
    if (rc < 0) {
        char text[120];
        snprintf(text, sizeof text, "Invalid token: %s", sr_jwt_strerror(rc));
        respond_error(r, 401, text);
        return false;
    }
    return true;
}

static void append_iso(sr_buf *b, const char *ms, size_t len)
{
    char digits[24], stamp[40];
    if (!ms || !len || len >= sizeof digits) {
        sr_buf_append_str(b, "null");
        return;
    }
    memcpy(digits, ms, len);
    digits[len] = '\0';
    sr_iso_time(strtoull(digits, NULL, 10), stamp, sizeof stamp);
    sr_buf_printf(b, "\"%s\"", stamp);
}

/* ---------- POST /api/auth/register and /api/auth/login ---------- */

/* Lives across the rate-limit call and the account call; each of them holds
 * a reference on the request. */
typedef struct auth_op {
    bool login;
    char email[MAX_EMAIL + 1];
    char password[MAX_PASSWORD + 1];
    size_t password_len;
    char user[SR_DS_ID_LEN + 1];
    char record[SR_PASSWORD_STORED_MAX];
    char created[24];
} auth_op;

static void auth_op_free(auth_op *op)
{
    OPENSSL_cleanse(op->password, sizeof op->password);
    free(op);
}

/* {"token":…,"user":{"id":…,"email":…}} */
static void respond_token(sr_http_req *r, auth_op *op, unsigned status)
{
    char *token = NULL;
    if (sr_ds_sign(sr_http_config(r), op->user, op->email, &token) < 0) {
        respond_error(r, 500, "Could not sign a token");
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "{\"token\":\"%s\",\"user\":{\"id\":\"%s\",\"email\":", token, op->user);
    sr_buf_append_json_string(&b, op->email, strlen(op->email));
    if (op->created[0]) {
        sr_buf_append_str(&b, ",\"createdAt\":");
        append_iso(&b, op->created, strlen(op->created));
    }
    sr_buf_append_str(&b, "}}");
    sr_http_respond(r, status, NULL, b.data, b.len);
    sr_buf_free(&b);
    free(token);
}

static void on_created(sr_http_req *r, int status, bool created, void *arg)
{
    auth_op *op = arg;
    if (status != SR_OK)
        unavailable(r);
    else if (!created)
        respond_error(r, 409, "Email already registered");
    else
        respond_token(r, op, 201);
    auth_op_free(op);
}

/* A record the login of an unknown email is checked against, so that it
 * costs as much as a real one and timing does not tell which emails exist:
 * "not a password" hashed with the default parameters and a fixed salt. */
#define DUMMY_RECORD                                                                               \
    "scrypt$14$8$1$c3luY3JlbGF5LWR1bW15IQ==$9YSKv0v/Uo3G9B8F3ul/JoYtBdwqnEiYpXBJZbSrAAM="

static void on_account(sr_http_req *r, int status, const sr_account *a, void *arg)
{
    auth_op *op = arg;
    if (status != SR_OK) {
        unavailable(r);
        auth_op_free(op);
        return;
    }
    size_t idlen = a->id.len, plen = a->password.len, clen = a->created.len;
    const char *id = a->id.p, *stored = a->password.p, *created = a->created.p;
    char record[SR_PASSWORD_STORED_MAX];
    bool known = id && stored && idlen <= SR_DS_ID_LEN && plen < sizeof record;
    if (known) {
        memcpy(record, stored, plen);
        record[plen] = '\0';
    } else {
        snprintf(record, sizeof record, "%s", DUMMY_RECORD);
    }
    int rc = sr_password_verify(op->password, op->password_len, record);
    if (!known || rc != SR_PASSWORD_OK) {
        respond_error(r, 401, "Invalid email or password");
    } else {
        memcpy(op->user, id, idlen);
        op->user[idlen] = '\0';
        if (created && clen < sizeof op->created) {
            memcpy(op->created, created, clen);
            op->created[clen] = '\0';
        }
        respond_token(r, op, 200);
    }
    auth_op_free(op);
}

static void on_attempt(sr_http_req *r, int status, long long count, void *arg)
{
    auth_op *op = arg;
    if (status != SR_OK) {
        unavailable(r);
    } else if (count > sr_http_config(r)->auth_rate_limit) {
        sr_http_error(r, SR_ERROR_RATE_LIMITED);
        respond_error(r, 429, "Too many attempts, try again in a minute");
    } else if (op->login) {
        sr_accounts_get(r, op->email, on_account, op);
        return;
    } else if (sr_ds_uuid(op->user) < 0 ||
               sr_password_hash(op->password, op->password_len, op->record, sizeof op->record) !=
                   SR_PASSWORD_OK) {
        respond_error(r, 500, "Could not hash the password");
    } else {
        snprintf(op->created, sizeof op->created, "%llu", (unsigned long long)sr_now_ms());
        sr_accounts_create(r, op->email, op->user, op->record, on_created, op);
        return;
    }
    auth_op_free(op);
}

static bool valid_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (n < 3 || n > MAX_EMAIL || !at || at == s || at == s + n - 1) return false;
    if (memchr(at + 1, '@', (size_t)(s + n - at - 1))) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || strchr("{}\"\\", s[i])) return false;
    return true;
}

static void handle_auth(sr_http_req *r, bool login)
{
    sr_json_doc doc;
    if (r->body.len == 0 || sr_json_parse(&doc, r->body.data, r->body.len) < 0 ||
        doc.root.type != SR_JSON_OBJECT) {
        sr_http_error(r, SR_ERROR_INVALID_JSON);
        respond_error(r, 400, "Invalid JSON body: expected {\"email\":…,\"password\":…}");
        return;
    }
    const sr_json_span *email = sr_json_get(&doc, "email"), *pw = sr_json_get(&doc, "password");
    if (!email || !pw || email->type != SR_JSON_STRING || pw->type != SR_JSON_STRING) {
        sr_http_error(r, SR_ERROR_BAD_REQUEST);
        respond_error(r, 400, "Email and password are required");
        return;
    }
    auth_op *op = sr_xcalloc(1, sizeof *op);
    int elen = sr_json_string(email, op->email, sizeof op->email);
    int plen = sr_json_string(pw, op->password, sizeof op->password);
    const char *problem = NULL;
    if (elen < 0 || !valid_email(op->email, (size_t)elen))
        problem = "Invalid email address";
    else if (plen < 0 || (!login && plen < MIN_PASSWORD) || (login && plen == 0))
        problem = login ? "Invalid password" : "Password must be 8 to 1024 bytes long";
    if (problem) {
        sr_http_error(r, SR_ERROR_BAD_REQUEST);
        respond_error(r, 400, problem);
        OPENSSL_cleanse(op->password, sizeof op->password);
        free(op);
        return;
    }
    for (int i = 0; i < elen; i++) /* emails are matched case-insensitively */
        if (op->email[i] >= 'A' && op->email[i] <= 'Z') op->email[i] = (char)(op->email[i] + 32);
    op->password_len = (size_t)plen;
    op->login = login;
    sr_accounts_attempt(r, on_attempt, op);
}

/* ---------- GET /api/devices ---------- */

static void on_devices(sr_http_req *r, int status, const sr_device *d, size_t n, void *arg)
{
    if (status != SR_OK) {
        unavailable(r);
        return;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"devices\":[");
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t idlen = d[i].id.len, ilen = d[i].info.len, flen = d[i].first_seen.len,
               llen = d[i].last_seen.len;
        const char *id = d[i].id.p, *info = d[i].info.p, *first = d[i].first_seen.p,
                   *last = d[i].last_seen.p;
        bool online = d[i].online;
        sr_json_doc doc;
        sr_buf_append_str(&b, count++ ? ",{\"deviceId\":" : "{\"deviceId\":");
        sr_buf_append_json_string(&b, id, idlen);
        sr_buf_append_str(&b, ",\"deviceInfo\":");
        if (info && sr_json_parse(&doc, info, ilen) == 0)
            sr_buf_append(&b, info, ilen);
        else
            sr_buf_append_str(&b, "{}");
        sr_buf_printf(&b, ",\"online\":%s,\"firstSeen\":", online ? "true" : "false");
        append_iso(&b, first, flen);
        sr_buf_append_str(&b, ",\"lastSeen\":");
        if (online) {
            char now[24];
            int k = snprintf(now, sizeof now, "%llu", (unsigned long long)sr_now_ms());
            append_iso(&b, now, (size_t)k);
        } else {
            append_iso(&b, last, llen);
        }
        sr_buf_append_str(&b, "}");
    }
    sr_buf_printf(&b, "],\"count\":%zu}", count);
    sr_http_respond(r, 200, NULL, b.data, b.len);
    sr_buf_free(&b);
}

/* ---------- GET /api/session ---------- */

/* {"userId":…,"sessionData":{key:state},"versions":{key:n}}; arg: the user id (freed here) */
static void on_session(sr_http_req *r, int status, const sr_field *f, size_t n, void *arg)
{
    char *user = arg;
    if (status != SR_OK) {
        unavailable(r);
    } else {
        sr_buf b;
        sr_buf_init(&b);
        sr_buf_append_str(&b, "{\"userId\":");
        sr_buf_append_json_string(&b, user, strlen(user));
        sr_buf_append_str(&b, ",");
        sr_ds_append_state(&b, f, n);
        sr_buf_append_str(&b, "}");
        sr_http_respond(r, 200, NULL, b.data, b.len);
        sr_buf_free(&b);
    }
    free(user);
}

/* ---------- routing ---------- */

static bool is_get(const sr_http_req *r)
{
    return !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
}

static void method_not_allowed(sr_http_req *r)
{
    respond_error(r, 405, "Method not allowed");
}

/* An HTTP request to the Socket.IO path is a long-polling handshake (or a
 * WebSocket client that lost its Upgrade header): Engine.IO's error shape,
 * with a message that says what to do. */
static void refuse_polling(sr_http_req *r)
{
    const char *why = sr_sio_strerror(SR_SIO_ERR_TRANSPORT);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, "{\"code\":3,\"message\":");
    sr_buf_append_json_string(&b, why, strlen(why));
    sr_buf_append_str(&b, "}");
    sr_http_respond(r, 400, NULL, b.data, b.len);
    sr_buf_free(&b);
}

bool sr_ds_http(sr_http_req *r)
{
    char user[SR_DS_MAX_USER + 1];
    if (!strcmp(r->path, "/socket.io/") || !strcmp(r->path, "/socket.io")) {
        if (!sr_poll_http(r, &sr_dialect_devicesync)) refuse_polling(r);
    } else if (!strcmp(r->path, "/api/auth/register") || !strcmp(r->path, "/api/auth/login")) {
        if (strcmp(r->method, "POST") != 0)
            method_not_allowed(r);
        else
            handle_auth(r, !strcmp(r->path, "/api/auth/login"));
    } else if (!strcmp(r->path, "/api/devices")) {
        if (!is_get(r)) {
            method_not_allowed(r);
        } else if (authorized(r, user, sizeof user)) {
            sr_accounts_devices(r, SR_DS_KIND, user, on_devices, NULL);
        }
    } else if (!strcmp(r->path, "/api/session")) {
        if (!is_get(r)) {
            method_not_allowed(r);
        } else if (authorized(r, user, sizeof user)) {
            sr_accounts_session_fields(r, SR_DS_KIND, user, on_session, sr_xstrdup(user));
        }
    } else if (!strcmp(r->path, "/api/health")) {
        if (!is_get(r)) {
            method_not_allowed(r);
        } else {
            sr_buf b;
            sr_buf_init(&b);
            sr_http_health_json(r, &b);
            sr_http_respond(r, 200, NULL, b.data, b.len);
            sr_buf_free(&b);
        }
    } else {
        return false;
    }
    return true;
}

void sr_ds_append_state(sr_buf *b, const sr_field *fields, size_t n)
{
    sr_buf versions;
    sr_buf_init(&versions);
    sr_buf_append_str(b, "\"sessionData\":{");
    bool empty = true;
    for (size_t i = 0; i < n; i++) {
        size_t klen = fields[i].name.len, vlen = fields[i].value.len;
        const char *k = fields[i].name.p, *v = fields[i].value.p;
        sr_json_doc doc;
        if (klen < 3 || k[1] != ':') continue;
        if (k[0] == 's') {
            if (!empty) sr_buf_append_str(b, ",");
            empty = false;
            sr_buf_append_json_string(b, k + 2, klen - 2);
            sr_buf_append_str(b, ":");
            if (vlen && sr_json_parse(&doc, v, vlen) == 0)
                sr_buf_append(b, v, vlen);
            else
                sr_buf_append_str(b, "null");
        } else if (k[0] == 'v') {
            if (versions.len) sr_buf_append_str(&versions, ",");
            sr_buf_append_json_string(&versions, k + 2, klen - 2);
            char num[24];
            snprintf(num, sizeof num, "%.*s", (int)(vlen < sizeof num ? vlen : sizeof num - 1), v);
            sr_buf_printf(&versions, ":%lld", strtoll(num, NULL, 10));
        }
    }
    sr_buf_append_str(b, "},\"versions\":{");
    if (versions.len) sr_buf_append(b, versions.data, versions.len);
    sr_buf_append_str(b, "}");
    sr_buf_free(&versions);
}
