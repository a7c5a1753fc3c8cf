/* fuzz_config.c - configuration parsing (node/config.c): the first line of
 * the input is a REDIS_URL for sr_redis_url_parse; the other lines are
 * NAME=value environment entries, or flags (lines starting with '-', split
 * at the first space into flag and value) for a whole sr_config_load. A URL
 * that parses must describe a target: a host or a unix path, port 1..65535,
 * db 0..15. */
#include "config.h"
#include "fuzz_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

#define MAX_LINES 32

static char *env_names[MAX_LINES], *env_values[MAX_LINES];
static int env_count;

static const char *fuzz_getenv(const char *name)
{
    for (int i = env_count - 1; i >= 0; i--)
        if (!strcmp(env_names[i], name)) return env_values[i];
    return NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void url(const char *s, size_t n)
{
    char *u = dup_n(s, n), err[512];
    sr_redis_target t;
    if (sr_redis_url_parse(&t, u, err, sizeof err) == 0) {
        CHECK((t.host != NULL) != (t.unix_path != NULL));
        CHECK(!t.host || t.host[0]);
        CHECK(!t.unix_path || t.unix_path[0] == '/');
        CHECK(t.port >= 1 && t.port <= 65535 && t.db >= 0 && t.db <= 15);
        sr_redis_target_free(&t);
    } else {
        CHECK(!t.host && !t.unix_path && !t.username && !t.password && err[0]);
    }
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_input_make(data, size);
    const char *s;
    size_t n;
    if (!fuzz_record(&in, '\n', &s, &n)) return 0;
    url(s, n);

    char *argv[2 * MAX_LINES + 2];
    int argc = 0;
    argv[argc++] = dup_n("syncrelay", 9);
    env_count = 0;
    while (fuzz_record(&in, '\n', &s, &n) && env_count < MAX_LINES && argc < 2 * MAX_LINES) {
        if (n && s[0] == '-') {
            const char *sp = memchr(s, ' ', n);
            argv[argc++] = dup_n(s, sp ? (size_t)(sp - s) : n);
            if (sp) argv[argc++] = dup_n(sp + 1, n - (size_t)(sp - s) - 1);
            continue;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq) continue;
        env_names[env_count] = dup_n(s, (size_t)(eq - s));
        env_values[env_count++] = dup_n(eq + 1, n - (size_t)(eq - s) - 1);
    }
    argv[argc] = NULL;
    sr_config c;
    char err[512];
    int rc = sr_config_load(&c, argc, argv, fuzz_getenv, err, sizeof err);
    CHECK(rc >= -1 && rc <= 1);
    if (rc == 0) {
        CHECK(c.port >= 1 && c.port <= 65535 && c.node_id && c.node_id[0]);
        CHECK(c.history_size >= 1 && c.max_message_bytes >= 64);
    }
    sr_config_free(&c);
    for (int i = 0; i < env_count; i++) {
        free(env_names[i]);
        free(env_values[i]);
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
