/* fuzz_node.c - see fuzz_node.h. */
#include "fuzz_node.h"
#include "bus.h"
#include "dialect_peersync.h"
#include "store.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;
static sr_config cfg;
static sr_core *core;
static sr_store *store;
static sr_bus *bus;
static unsigned http_status;

static int fake_send(void *t, sr_frame *f)
{
    (void)t;
    (void)f; /* dropped: nothing keeps a reference */
    return 0;
}

static void fake_close(void *t, int code, const char *reason)
{
    (void)t;
    (void)code;
    (void)reason;
}

static uint64_t fake_oldest_unsent_seq(void *t)
{
    (void)t;
    return 0;
}

static void fake_http_respond(void *t, unsigned status, const char *type, const char *body,
                              size_t len)
{
    (void)t;
    (void)type;
    (void)body;
    (void)len;
    http_status = status;
}

static const sr_transport_ops fake_ops = {fake_send, fake_close, fake_oldest_unsent_seq,
                                          fake_http_respond};

static const char *fuzz_env(const char *name)
{
    static const char *const env[][2] = {
        {"REDIS_URL", "unix:///nonexistent/syncrelay-fuzz.sock"},
        {"NODE_ID", "fuzz"},
        {"JWT_SECRET", "fuzz-secret-0123456789"},
        {"ADMIN_TOKEN", "fuzz-admin"},
        {"DEV_TOKENS", "1"},
        {"MAX_MESSAGE_BYTES", "1048576"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (!strcmp(env[i][0], name)) return env[i][1];
    return NULL;
}

static void teardown(void)
{
    if (!core) return;
    sr_bus_free(bus); /* in main's order */
    sr_store_free(store);
    sr_core_free(core);
    event_base_free(base);
    sr_peersync_teardown();
    sr_config_free(&cfg);
}

sr_core *fuzz_node(void)
{
    if (core) return core;
    char err[512];
    char *argv[] = {"fuzz", NULL};
    if (sr_config_load(&cfg, 1, argv, fuzz_env, err, sizeof err) != 0 ||
        sr_peersync_setup(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz node: %s\n", err);
        abort();
    }
    base = event_base_new();
    store = sr_store_new(base, &cfg);
    core = sr_core_new(base, &cfg, store, &fake_ops);
    sr_bus_hooks hooks = {sr_core_bus_message, sr_core_bus_subscribed, sr_core_bus_reset, core,
                          sr_core_beat_now};
    bus = sr_bus_new(base, &cfg, &hooks);
    sr_core_attach_bus(core, bus);
    atexit(teardown);
    return core;
}

void fuzz_node_settle(void)
{
    event_base_loop(base, EVLOOP_NONBLOCK);
}

unsigned fuzz_node_http_status(void)
{
    unsigned s = http_status;
    http_status = 0;
    return s;
}
