/* config.h - the node's settings: environment variables, overridden by flags.
 * Parsing is pure (no I/O but the getenv hook) so it is unit tested. */
#ifndef SR_CONFIG_H
#define SR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct sr_redis_target {
    char *host; /* NULL for a unix socket */
    int port;
    char *unix_path;
    char *username, *password; /* NULL when not given */
    int db;
    /* rediss://: TLS with these settings (borrowed from sr_config) */
    bool tls, tls_verify;
    const char *tls_ca_file, *tls_cert, *tls_key, *tls_server_name;
} sr_redis_target;

typedef struct sr_config {
    int port;
    char *redis_url; /* NULL: start an embedded redis-server */
    sr_redis_target redis;
    char *redis_tls_ca_file, *redis_tls_cert, *redis_tls_key, *redis_tls_server_name;
    bool redis_tls_verify;
    char *node_id;
    int session_ttl;
    int device_state_ttl; /* device-sync sessions: 0 never expire */
    long long max_message_bytes;
    int heartbeat_interval;
    int auth_timeout;
    char *jwt_secret, *jwt_public_key, *jwt_private_key;
    char *admin_token;
    bool dev_tokens;
    int drain_timeout;
    char *tls_cert, *tls_key;
    char *log_format, *log_level;
    char *key_prefix;
    int history_size;
    int join_rate_limit;
    int auth_rate_limit;
    bool trust_proxy;
    /* hostile clients (client_limits.h, transport_lws.c) */
    char *listen;
    int max_connections_per_ip, max_pending_per_ip;
    int message_rate, message_burst;
    int max_json_members;
    int max_http_header_bytes;
    long long max_http_body_bytes;
    int handshake_timeout;
} sr_config;

typedef const char *sr_getenv_fn(const char *name);

/* Fills c from getenv_fn and argv. Returns 0, 1 when --help was asked for, or
 * -1 with a message in err. */
int sr_config_load(sr_config *c, int argc, char **argv, sr_getenv_fn *getenv_fn, char *err,
                   size_t errlen);
void sr_config_free(sr_config *c);
void sr_config_usage(FILE *out);
/* Parses redis[s]://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. */
int sr_redis_url_parse(sr_redis_target *t, const char *url, char *err, size_t errlen);
void sr_redis_target_free(sr_redis_target *t);

#endif
