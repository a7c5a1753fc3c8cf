/* config.c - settings table, environment and flag parsing, validation. Every
 * setting is an environment variable (SPEC section 2) and the same name as a
 * flag: SESSION_TTL=60 or --session-ttl 60 (flags win). */
#include "config.h"
#include "sr_alloc.h"
#include "sr_buf.h"
#include "sr_log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum setting_type { T_INT, T_SIZE, T_BOOL, T_STR };

typedef struct setting {
    const char *env;
    enum setting_type type;
    size_t offset;
    const char *def;
    long long min, max;
    const char *help;
} setting;

#define OFF(f) offsetof(sr_config, f)
static const setting settings[] = {
    {"PORT", T_INT, OFF(port), "8080", 1, 65535, "listen port for every dialect and HTTP endpoint"},
    {"REDIS_URL", T_STR, OFF(redis_url), NULL, 0, 0,
     "redis[s]://[[user]:password@]host[:port][/db] (rediss: TLS) or unix:///path[?db=N]; "
     "unset: embedded redis-server"},
    {"REDIS_TLS_CA_FILE", T_STR, OFF(redis_tls_ca_file), NULL, 0, 0,
     "rediss://: PEM CA bundle the server's certificate must chain to (system CAs)"},
    {"REDIS_TLS_CERT", T_STR, OFF(redis_tls_cert), NULL, 0, 0,
     "rediss://: PEM client certificate, for servers that ask for one"},
    {"REDIS_TLS_KEY", T_STR, OFF(redis_tls_key), NULL, 0, 0,
     "rediss://: PEM private key for REDIS_TLS_CERT"},
    {"REDIS_TLS_SERVER_NAME", T_STR, OFF(redis_tls_server_name), NULL, 0, 0,
     "rediss://: name the certificate must carry, sent as SNI (the URL's host)"},
    {"REDIS_TLS_VERIFY", T_BOOL, OFF(redis_tls_verify), "1", 0, 1,
     "rediss://: 0 skips the certificate and name checks (never in production)"},
    {"NODE_ID", T_STR, OFF(node_id), NULL, 0, 0, "node name in Redis and logs (hostname-pid)"},
    {"SESSION_TTL", T_INT, OFF(session_ttl), "1800", 1, 30 * 86400,
     "seconds of inactivity before a session expires"},
    {"DEVICE_STATE_TTL", T_INT, OFF(device_state_ttl), "0", 0, 10 * 365 * 86400,
     "seconds a device-sync user's state outlives its last change; 0: no expiry"},
    {"MAX_MESSAGE_BYTES", T_SIZE, OFF(max_message_bytes), "10485760", 64, 1LL << 30,
     "largest WebSocket message accepted (bigger: close 1009)"},
    {"HEARTBEAT_INTERVAL", T_INT, OFF(heartbeat_interval), "30", 1, 3600,
     "seconds between server pings; unanswered twice: closed"},
    {"AUTH_TIMEOUT", T_INT, OFF(auth_timeout), "10", 1, 3600,
     "seconds a /ws socket may stay unauthenticated, a /socket.io/ one without a namespace"},
    {"JWT_SECRET", T_STR, OFF(jwt_secret), NULL, 0, 0, "HS256 key (device-sync dialect)"},
    {"JWT_PUBLIC_KEY", T_STR, OFF(jwt_public_key), NULL, 0, 0, "RS256 public key PEM file"},
    {"JWT_PRIVATE_KEY", T_STR, OFF(jwt_private_key), NULL, 0, 0, "RS256 private key PEM file"},
    {"ADMIN_TOKEN", T_STR, OFF(admin_token), NULL, 0, 0, "Bearer token for admin REST calls"},
    {"DEV_TOKENS", T_BOOL, OFF(dev_tokens), "0", 0, 1, "1 enables POST /api/v1/auth/dev-token"},
    {"DRAIN_TIMEOUT", T_INT, OFF(drain_timeout), "20", 0, 3600,
     "seconds sockets are served after SIGTERM before close 1012"},
    {"TLS_CERT", T_STR, OFF(tls_cert), NULL, 0, 0, "PEM certificate: serve wss/https"},
    {"TLS_KEY", T_STR, OFF(tls_key), NULL, 0, 0, "PEM private key for TLS_CERT"},
    {"LOG_FORMAT", T_STR, OFF(log_format), "text", 0, 0, "text or json"},
    {"LOG_LEVEL", T_STR, OFF(log_level), "info", 0, 0,
     "error, warn, info (also joins and leaves) or debug (also connections, messages)"},
    {"KEY_PREFIX", T_STR, OFF(key_prefix), "syncrelay:", 0, 0, "prefix of every Redis key"},
    {"HISTORY_SIZE", T_INT, OFF(history_size), "100", 1, 100000,
     "messages retained per session for resume"},
    {"JOIN_RATE_LIMIT", T_INT, OFF(join_rate_limit), "10", 1, 1000000,
     "failed join attempts per client IP per minute, cluster-wide"},
    {"AUTH_RATE_LIMIT", T_INT, OFF(auth_rate_limit), "20", 1, 1000000,
     "register/login attempts per client IP per minute, cluster-wide (device sync)"},
    {"TRUST_PROXY", T_BOOL, OFF(trust_proxy), "0", 0, 1,
     "1: client IP is the last X-Forwarded-For address (added by the proxy)"},
    /* hostile clients: each refusal is counted in /metrics (syncrelay_limited_total) */
    {"LISTEN", T_STR, OFF(listen), NULL, 0, 0,
     "address or interface to listen on (127.0.0.1, eth0); unset: every interface"},
    {"MAX_CONNECTIONS_PER_IP", T_INT, OFF(max_connections_per_ip), "1000", 0, 1000000,
     "WebSocket connections per client IP on a node (over: error, close 1008); 0: no limit"},
    {"MAX_PENDING_PER_IP", T_INT, OFF(max_pending_per_ip), "100", 0, 1000000,
     "sockets per client IP not yet joined or authenticated (over: close 1008); 0: no limit"},
    {"MESSAGE_RATE", T_INT, OFF(message_rate), "1000", 0, 1000000,
     "messages per second per connection, sustained (over: error, close 1008); 0: no limit"},
    {"MESSAGE_BURST", T_INT, OFF(message_burst), "2000", 1, 10000000,
     "messages a connection may send at once above MESSAGE_RATE"},
    {"MAX_JSON_MEMBERS", T_INT, OFF(max_json_members), "100000", 0, 100000000,
     "JSON values (members and elements) per message (over: error, close 1009); 0: no limit"},
    {"MAX_HTTP_HEADER_BYTES", T_INT, OFF(max_http_header_bytes), "8192", 1024, 65535,
     "bytes of request line and headers of an HTTP request or upgrade (over: 431)"},
    {"MAX_HTTP_BODY_BYTES", T_SIZE, OFF(max_http_body_bytes), "1048576", 1024, 1LL << 30,
     "bytes of an HTTP request body (over: 413)"},
    {"HANDSHAKE_TIMEOUT", T_INT, OFF(handshake_timeout), "10", 1, 3600,
     "seconds a connection may take to send its HTTP request or WebSocket upgrade"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static void flag_name(const setting *s, char *out, size_t cap)
{
    size_t i = 0;
    out[i++] = '-';
    out[i++] = '-';
    for (const char *p = s->env; *p && i + 1 < cap; p++)
        out[i++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    out[i] = '\0';
}

static int set_value(sr_config *c, const setting *s, const char *v, char *err, size_t errlen)
{
    char *field = (char *)c + s->offset;
    if (s->type == T_STR) {
        char **dst = (char **)field;
        free(*dst);
        *dst = v ? sr_xstrdup(v) : NULL;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < s->min || x > s->max) {
        snprintf(err, errlen, "%s must be a whole number from %lld to %lld (got \"%s\")", s->env,
                 s->min, s->max, v);
        return -1;
    }
    if (s->type == T_INT)
        *(int *)field = (int)x;
    else if (s->type == T_SIZE)
        *(long long *)field = x;
    else
        *(bool *)field = x != 0;
    return 0;
}

static int validate_redis_tls(sr_config *c, char *err, size_t errlen)
{
    sr_redis_target *t = &c->redis;
    if (!t->tls) {
        if (c->redis_tls_ca_file || c->redis_tls_cert || c->redis_tls_key ||
            c->redis_tls_server_name) {
            snprintf(err, errlen, "REDIS_TLS_* settings need a rediss:// REDIS_URL");
            return -1;
        }
        return 0;
    }
    if (!!c->redis_tls_cert != !!c->redis_tls_key) {
        snprintf(err, errlen, "REDIS_TLS_CERT and REDIS_TLS_KEY go together");
        return -1;
    }
    t->tls_verify = c->redis_tls_verify;
    t->tls_ca_file = c->redis_tls_ca_file;
    t->tls_cert = c->redis_tls_cert;
    t->tls_key = c->redis_tls_key;
    t->tls_server_name = c->redis_tls_server_name ? c->redis_tls_server_name : t->host;
    return 0;
}

static int validate(sr_config *c, char *err, size_t errlen)
{
    if (strcmp(c->log_format, "text") != 0 && strcmp(c->log_format, "json") != 0) {
        snprintf(err, errlen, "LOG_FORMAT must be text or json (got \"%s\")", c->log_format);
        return -1;
    }
    if (sr_log_level_parse(c->log_level) < 0) {
        snprintf(err, errlen, "LOG_LEVEL must be error, warn, info or debug (got \"%s\")",
                 c->log_level);
        return -1;
    }
    if (!!c->tls_cert != !!c->tls_key) {
        snprintf(err, errlen, "TLS_CERT and TLS_KEY go together");
        return -1;
    }
    if (c->dev_tokens && c->jwt_public_key && !c->jwt_private_key) {
        /* Without JWT_PRIVATE_KEY the dev-token endpoint could not sign. */
        snprintf(err, errlen, "DEV_TOKENS=1 with JWT_PUBLIC_KEY needs JWT_PRIVATE_KEY too");
        return -1;
    }
    if (!c->key_prefix[0] || strpbrk(c->key_prefix, " \n{}")) {
        snprintf(err, errlen, "KEY_PREFIX must be non-empty without spaces or braces");
        return -1;
    }
    if (c->node_id && (!c->node_id[0] || strpbrk(c->node_id, " \n/"))) {
        snprintf(err, errlen, "NODE_ID must be non-empty without spaces or slashes");
        return -1;
    }
    if (!c->node_id) {
        char host[200] = "node";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        sr_buf b;
        sr_buf_init(&b);
        sr_buf_printf(&b, "%s-%d", host, (int)getpid());
        c->node_id = b.data;
    }
    if (c->redis_url && sr_redis_url_parse(&c->redis, c->redis_url, err, errlen) < 0) return -1;
    return validate_redis_tls(c, err, errlen);
}

int sr_config_load(sr_config *c, int argc, char **argv, sr_getenv_fn *getenv_fn, char *err,
                   size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv_fn(settings[i].env);
        if (v && !*v && settings[i].type == T_STR) v = NULL; /* VAR= means unset */
        if (!v) v = settings[i].def;
        if ((v || settings[i].type == T_STR) && set_value(c, &settings[i], v, err, errlen) < 0)
            return -1;
    }
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) return 1;
        const char *arg = argv[a], *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const setting *s = NULL;
        for (size_t i = 0; i < NSETTINGS && !s; i++) {
            char name[64];
            flag_name(&settings[i], name, sizeof name);
            if (strlen(name) == name_len && !strncmp(arg, name, name_len)) s = &settings[i];
        }
        if (!s) {
            snprintf(err, errlen, "unknown option \"%s\" (see --help)", arg);
            return -1;
        }
        const char *v = eq ? eq + 1 : (a + 1 < argc ? argv[++a] : NULL);
        if (!v) {
            snprintf(err, errlen, "option %.*s needs a value", (int)name_len, arg);
            return -1;
        }
        if (set_value(c, s, v, err, errlen) < 0) return -1;
    }
    return validate(c, err, errlen);
}

void sr_config_free(sr_config *c)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].type == T_STR) free(*(char **)((char *)c + settings[i].offset));
    sr_redis_target_free(&c->redis);
    memset(c, 0, sizeof *c);
}

void sr_config_usage(FILE *out)
{
    fprintf(out, "usage: syncrelay [--setting value ...]\n\nEvery setting is also an "
                 "environment variable; flags win.\n\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        char name[64];
        flag_name(&settings[i], name, sizeof name);
        fprintf(out, "  %-25s %-22s %s%s%s%s\n", name, settings[i].env, settings[i].help,
                settings[i].def ? " (default " : "", settings[i].def ? settings[i].def : "",
                settings[i].def ? ")" : "");
    }
}

void sr_redis_target_free(sr_redis_target *t)
{
    free(t->host);
    free(t->unix_path);
    free(t->username);
    free(t->password);
    memset(t, 0, sizeof *t);
}

static char *dup_range(const char *p, size_t n)
{
    char *s = sr_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int sr_redis_url_parse(sr_redis_target *t, const char *url, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->port = 6379;
    if (!strncmp(url, "unix://", 7)) {
        const char *path = url + 7, *q = strchr(path, '?');
        if (*path != '/') goto bad;
        t->unix_path = dup_range(path, q ? (size_t)(q - path) : strlen(path));
        if (q) {
            if (strncmp(q, "?db=", 4) != 0) goto bad;
            char *end;
            long db = strtol(q + 4, &end, 10);
            if (*end || db < 0 || db > 15 || end == q + 4) goto bad;
            t->db = (int)db;
        }
        return 0;
    }
    t->tls = !strncmp(url, "rediss://", 9);
    if (!t->tls && strncmp(url, "redis://", 8) != 0) goto bad;
    const char *p = url + (t->tls ? 9 : 8), *at = strrchr(p, '@'), *slash;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p) t->username = dup_range(p, (size_t)(colon - p));
            t->password = dup_range(colon + 1, (size_t)(at - colon - 1));
        } else {
            t->password = dup_range(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    slash = strchr(p, '/');
    const char *hostend = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(hostend - p));
    if (*p == '[') { /* [::1]:6379 */
        const char *rb = memchr(p, ']', (size_t)(hostend - p));
        if (!rb) goto bad;
        t->host = dup_range(p + 1, (size_t)(rb - p - 1));
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        t->host = dup_range(p, (size_t)((colon ? colon : hostend) - p));
    }
    if (!t->host[0]) goto bad;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != hostend || port < 1 || port > 65535) goto bad;
        t->port = (int)port;
    }
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > 15) goto bad;
        t->db = (int)db;
    }
    return 0;
bad:
    sr_redis_target_free(t);
    snprintf(err, errlen,
             "REDIS_URL \"%s\" is not redis[s]://[user:password@]host[:port][/db] or "
             "unix:///path",
             url);
    return -1;
}
