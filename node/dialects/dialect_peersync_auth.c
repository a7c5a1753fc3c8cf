/* dialect_peersync_auth.c - peersync's authentication: the RS256 key pair
 * (loaded once at start, shared by every connection of the node), token
 * verification with the seed's error codes, and the REST endpoints of seed
 * 003: the public key, token verification and dev tokens (DEV_TOKENS=1). */
#include "http.h"
#include "session.h"
#include "dialect_peersync.h"
#include "sr_jwt.h"
#include "sr_log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEV_TOKEN_SECONDS (24 * 3600)

static sr_jwt_key *rs256; /* set by sr_peersync_setup before the loop runs */

int sr_peersync_setup(const sr_config *cfg, char *err, size_t errlen)
{
    if (cfg->jwt_public_key || cfg->jwt_private_key) {
        rs256 = sr_jwt_key_rs256_files(cfg->jwt_public_key, cfg->jwt_private_key, err, errlen);
        return rs256 ? 0 : -1;
    }
    if (!(rs256 = sr_jwt_key_rs256_generate(err, errlen))) return -1;
    sr_log_warn("JWT_PUBLIC_KEY / JWT_PRIVATE_KEY not set: peersync uses an ephemeral RS256 key "
                "pair; its tokens die with this process and no other node accepts them (every "
                "node of a cluster needs the same key files)");
    return 0;
}

void sr_peersync_teardown(void)
{
    sr_jwt_key_free(rs256);
    rs256 = NULL;
}

bool sr_peersync_valid_user(const char *user)
{
    size_t n = strlen(user);
    if (n == 0 || n > PEERSYNC_USER_MAX) return false;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '{' || *p == '}') return false;
    return true;
}

/* A claim that is a string without NUL, copied; false otherwise. */
static bool claim_string(json_t *claims, const char *name, char *out, size_t cap)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) return false;
    if (json_string_length(v) >= cap) return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

int sr_peersync_verify(const char *token, size_t len, peersync_identity *who, const char **code,
                       const char **message)
{
    json_t *claims = NULL;
    memset(who, 0, sizeof *who);
    if (len == 0) {
        *code = "ERR_1001";
        *message = "Token missing";
        return -1;
    }
    int rc = sr_jwt_verify(rs256, token, len, NULL, &claims);
    if (rc < 0) {
        *code = rc == SR_JWT_EXPIRED ? "ERR_1003" : "ERR_1002";
        *message = rc == SR_JWT_EXPIRED ? "Token expired" : sr_jwt_strerror(rc);
        return -1;
    }
    /* the seed's tokens name the user in userId; RFC 7519 tokens in sub */
    bool named = claim_string(claims, "userId", who->user, sizeof who->user) ||
                 (!json_object_get(claims, "userId") &&
                  claim_string(claims, "sub", who->user, sizeof who->user));
    who->has_display_name =
        claim_string(claims, "displayName", who->display_name, sizeof who->display_name);
    who->has_email = claim_string(claims, "email", who->email, sizeof who->email);
    json_decref(claims);
    if (!named || !sr_peersync_valid_user(who->user)) {
        *code = "ERR_1002";
        *message = "Token invalid: no valid userId";
        return -1;
    }
    return 0;
}

/* ---------- REST ---------- */

static void respond_json(sr_http_req *r, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    sr_http_respond(r, status, NULL, text ? text : "{}", text ? strlen(text) : 2);
    free(text);
    json_decref(body);
}

static json_t *string_or_null(bool has, const char *s)
{
    return has ? json_string(s) : json_null();
}

static void verify_endpoint(sr_http_req *r)
{
    size_t len = 0;
    const char *token = sr_http_bearer(r, &len);
    peersync_identity who;
    const char *code = "ERR_1001", *message = "Token missing";
    if (!token || sr_peersync_verify(token, len, &who, &code, &message) < 0) {
        respond_json(r, 401,
                     json_pack("{s:b,s:s,s:s}", "valid", 0, "code", code, "message", message));
        return;
    }
    respond_json(r, 200,
                 json_pack("{s:b,s:s,s:o,s:o}", "valid", 1, "userId", who.user, "displayName",
                           string_or_null(who.has_display_name, who.display_name), "email",
                           string_or_null(who.has_email, who.email)));
}

static void dev_token_endpoint(sr_http_req *r)
{
    json_error_t jerr;
    json_t *body = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
    json_t *user = json_object_get(body, "userId");
    json_t *email = json_object_get(body, "email");
    json_t *name = json_object_get(body, "displayName");
    if (!json_is_object(body) || !json_is_string(user) ||
        strlen(json_string_value(user)) != json_string_length(user) ||
        !sr_peersync_valid_user(json_string_value(user)) || (email && !json_is_string(email)) ||
        (name && !json_is_string(name))) {
        json_decref(body);
        respond_json(r, 400,
                     json_pack("{s:s}", "error",
                               "Expected {\"userId\": string (1-100 bytes, no braces), "
                               "\"email\"?: string, \"displayName\"?: string}"));
        return;
    }
    long long now = (long long)time(NULL);
    json_t *claims = json_pack("{s:O,s:I,s:I}", "userId", user, "iat", (json_int_t)now, "exp",
                               (json_int_t)(now + DEV_TOKEN_SECONDS));
    if (email) json_object_set(claims, "email", email);
    if (name) json_object_set(claims, "displayName", name);
    char *token = NULL;
    int rc = sr_jwt_sign(rs256, claims, &token);
    json_decref(claims);
    json_decref(body);
    if (rc < 0) {
        respond_json(r, 500, json_pack("{s:s}", "error", "Cannot sign tokens on this node"));
        return;
    }
    /* 201, as a NestJS @Post() answers by default */
    respond_json(r, 201, json_pack("{s:s,s:i}", "token", token, "expiresIn", DEV_TOKEN_SECONDS));
    free(token);
}

bool sr_peersync_http(sr_http_req *r)
{
    static const char prefix[] = "/api/v1/auth/";
    if (strncmp(r->path, prefix, sizeof prefix - 1) != 0) return false;
    const char *what = r->path + sizeof prefix - 1;
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (!strcmp(what, "public-key")) {
        if (!get) goto not_allowed;
        respond_json(r, 200,
                     json_pack("{s:s,s:s}", "publicKey", sr_jwt_key_public_pem(rs256), "algorithm",
                               "RS256"));
    } else if (!strcmp(what, "verify")) {
        if (!get) goto not_allowed;
        verify_endpoint(r);
    } else if (!strcmp(what, "dev-token") && sr_http_config(r)->dev_tokens) {
        if (strcmp(r->method, "POST") != 0) goto not_allowed;
        dev_token_endpoint(r);
    } else {
        return false; /* 404, dev-token included while DEV_TOKENS is off */
    }
    return true;
not_allowed:
    sr_http_respond_json(r, 405, "{\"error\":\"Method not allowed\"}");
    return true;
}
