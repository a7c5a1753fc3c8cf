#include "check.h"
#include "config.h"

static const char **fake_env;

static const char *fake_getenv(const char *name)
{
    for (const char **e = fake_env; e && *e; e += 2)
        if (!strcmp(e[0], name)) return e[1];
    return NULL;
}

static int load(sr_config *c, const char **env, int argc, char **argv, char *err)
{
    fake_env = env;
    return sr_config_load(c, argc, argv, fake_getenv, err, 256);
}

int main(void)
{
    sr_config c;
    char err[256];
    char *noargs[] = {"syncrelay"};

    CHECK(load(&c, NULL, 1, noargs, err) == 0);
    CHECK(c.port == 8080 && c.session_ttl == 1800 && c.max_message_bytes == 10485760);
    CHECK(c.heartbeat_interval == 30 && c.drain_timeout == 20 && c.history_size == 100);
    CHECK(c.redis_url == NULL && c.node_id && c.node_id[0]);
    CHECK_STR(c.key_prefix, "syncrelay:");
    /* the limits on clients have safe defaults; LISTEN unset binds everything */
    CHECK(c.listen == NULL && c.max_connections_per_ip == 1000 && c.max_pending_per_ip == 100);
    CHECK(c.message_rate == 1000 && c.message_burst == 2000 && c.max_json_members == 100000);
    CHECK(c.max_http_header_bytes == 8192 && c.max_http_body_bytes == 1048576);
    CHECK(c.handshake_timeout == 10);
    sr_config_free(&c);
    const char *limits[] = {"LISTEN", "127.0.0.1", "MESSAGE_RATE", "0", NULL};
    CHECK(load(&c, limits, 1, noargs, err) == 0);
    CHECK_STR(c.listen, "127.0.0.1");
    CHECK(c.message_rate == 0);
    sr_config_free(&c);
    const char *small_headers[] = {"MAX_HTTP_HEADER_BYTES", "100", NULL};
    CHECK(load(&c, small_headers, 1, noargs, err) == -1 && strstr(err, "MAX_HTTP_HEADER_BYTES"));

    const char *env[] = {"PORT",    "9000",      "SESSION_TTL",
                         "60",      "REDIS_URL", "redis://:pw@10.1.2.3:6380/2",
                         "NODE_ID", "n1",        NULL};
    char *args[] = {"syncrelay", "--port", "9001", "--session-ttl=5"};
    CHECK(load(&c, env, 4, args, err) == 0);
    CHECK(c.port == 9001 && c.session_ttl == 5); /* flags win */
    CHECK_STR(c.redis.host, "10.1.2.3");
    CHECK(c.redis.port == 6380 && c.redis.db == 2 && !strcmp(c.redis.password, "pw"));
    CHECK(c.redis.username == NULL);
    CHECK_STR(c.node_id, "n1");
    sr_config_free(&c);

    const char *bad_port[] = {"PORT", "99999", NULL};
    CHECK(load(&c, bad_port, 1, noargs, err) == -1 && strstr(err, "PORT"));
    sr_config_free(&c);
    const char *bad_num[] = {"SESSION_TTL", "10s", NULL};
    CHECK(load(&c, bad_num, 1, noargs, err) == -1 && strstr(err, "SESSION_TTL"));
    sr_config_free(&c);
    const char *bad_log[] = {"LOG_FORMAT", "xml", NULL};
    CHECK(load(&c, bad_log, 1, noargs, err) == -1 && strstr(err, "LOG_FORMAT"));
    sr_config_free(&c);
    const char *tls_half[] = {"TLS_CERT", "/x.pem", NULL};
    CHECK(load(&c, tls_half, 1, noargs, err) == -1);
    sr_config_free(&c);
    const char *jwt[] = {
        "JWT_PUBLIC_KEY", "/k/pub.pem", "JWT_PRIVATE_KEY", "/k/priv.pem", "JWT_SECRET", "s3cret",
        "DEV_TOKENS",     "1",          "AUTH_TIMEOUT",    "3",           NULL};
    CHECK(load(&c, jwt, 1, noargs, err) == 0);
    CHECK_STR(c.jwt_public_key, "/k/pub.pem");
    CHECK_STR(c.jwt_private_key, "/k/priv.pem");
    CHECK_STR(c.jwt_secret, "s3cret");
    CHECK(c.dev_tokens && c.auth_timeout == 3);
    sr_config_free(&c);
    CHECK(load(&c, NULL, 1, noargs, err) == 0);
    CHECK(!c.jwt_public_key && !c.jwt_private_key && !c.jwt_secret && !c.dev_tokens);
    CHECK(c.auth_timeout == 10);
    sr_config_free(&c);
    const char *dev_no_priv[] = {"JWT_PUBLIC_KEY", "/k/pub.pem", "DEV_TOKENS", "1", NULL};
    CHECK(load(&c, dev_no_priv, 1, noargs, err) == -1 && strstr(err, "JWT_PRIVATE_KEY"));
    sr_config_free(&c);
    const char *bad_auth[] = {"AUTH_TIMEOUT", "0", NULL};
    CHECK(load(&c, bad_auth, 1, noargs, err) == -1 && strstr(err, "AUTH_TIMEOUT"));
    sr_config_free(&c);
    const char *bad_level[] = {"LOG_LEVEL", "verbose", NULL};
    CHECK(load(&c, bad_level, 1, noargs, err) == -1 && strstr(err, "LOG_LEVEL"));
    sr_config_free(&c);
    const char *tls[] = {"REDIS_URL", "rediss://:pw@redis.example:6380", "REDIS_TLS_CA_FILE",
                         "/ca.pem", NULL};
    CHECK(load(&c, tls, 1, noargs, err) == 0);
    CHECK(c.redis.tls && c.redis.tls_verify && c.redis.port == 6380);
    CHECK_STR(c.redis.tls_server_name, "redis.example"); /* name checked by default */
    CHECK_STR(c.redis.tls_ca_file, "/ca.pem");
    CHECK(!c.redis.tls_cert && !c.redis.tls_key);
    sr_config_free(&c);
    const char *tls_plain[] = {"REDIS_URL", "redis://h", "REDIS_TLS_CA_FILE", "/ca.pem", NULL};
    CHECK(load(&c, tls_plain, 1, noargs, err) == -1 && strstr(err, "rediss://"));
    sr_config_free(&c);
    const char *tls_half_client[] = {"REDIS_URL", "rediss://h", "REDIS_TLS_CERT", "/c.pem", NULL};
    CHECK(load(&c, tls_half_client, 1, noargs, err) == -1 && strstr(err, "REDIS_TLS_KEY"));
    sr_config_free(&c);
    char *unknown[] = {"syncrelay", "--nope", "1"};
    CHECK(load(&c, NULL, 3, unknown, err) == -1 && strstr(err, "--nope"));
    sr_config_free(&c);
    char *help[] = {"syncrelay", "--help"};
    CHECK(load(&c, NULL, 2, help, err) == 1);
    sr_config_free(&c);

    sr_redis_target t;
    CHECK(sr_redis_url_parse(&t, "redis://localhost", err, sizeof err) == 0);
    CHECK(!strcmp(t.host, "localhost") && t.port == 6379 && t.db == 0 && !t.password);
    sr_redis_target_free(&t);
    CHECK(sr_redis_url_parse(&t, "redis://user:secret@[::1]:7000/3", err, sizeof err) == 0);
    CHECK(!strcmp(t.host, "::1") && t.port == 7000 && t.db == 3);
    CHECK(!strcmp(t.username, "user") && !strcmp(t.password, "secret"));
    sr_redis_target_free(&t);
    CHECK(sr_redis_url_parse(&t, "unix:///tmp/r.sock?db=4", err, sizeof err) == 0);
    CHECK(!strcmp(t.unix_path, "/tmp/r.sock") && t.db == 4 && !t.host);
    sr_redis_target_free(&t);
    CHECK(sr_redis_url_parse(&t, "redis://h", err, sizeof err) == 0 && !t.tls);
    sr_redis_target_free(&t);
    CHECK(sr_redis_url_parse(&t, "rediss://u:p@h:6380/1", err, sizeof err) == 0 && t.tls);
    CHECK(!strcmp(t.host, "h") && t.port == 6380 && t.db == 1 && !strcmp(t.username, "u"));
    sr_redis_target_free(&t);
    const char *bad_urls[] = {"http://x",        "redis://",     "redis://h:0",
                              "redis://h:70000", "redis://h/99", "unix://relative",
                              "redis://h:12x",   "redisss://h",  "rediss://"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++)
        CHECK(sr_redis_url_parse(&t, bad_urls[i], err, sizeof err) == -1);
    return check_done("config");
}
