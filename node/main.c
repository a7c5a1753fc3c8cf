/* main.c - the syncrelay node: reads the configuration, wires transport,
 * core, store and bus onto one libevent loop, and runs it until told to stop.
 *
 * Shutdown (SIGTERM/SIGINT): /ready turns 503 and upgrades are refused at
 * once; after DRAIN_TIMEOUT every socket is closed with 1012; the loop ends
 * when the sockets are gone and Redis has answered what was sent (at most
 * SHUTDOWN_GRACE_MS later). A second signal exits at once. */
#include "bus.h"
#include "core.h"
#include "core_poll.h"
#include "dialect_peersync.h"
#include "embedded_redis.h"
#include "sr_log.h"
#include "store.h"
#include "transport.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define SHUTDOWN_GRACE_MS 3000

typedef struct node {
    struct event_base *base;
    sr_config cfg;
    sr_core *core;
    sr_store *store;
    sr_bus *bus;
    sr_transport *transport;
    struct event *sigterm, *sigint, *drain_timer, *finish_timer;
    uint64_t finish_deadline;
    bool stopping;
} node;

static const char *env(const char *name)
{
    return getenv(name);
}

/* Every socket is a descriptor: take the hard limit as the soft one before
 * libwebsockets sizes its tables from it (the usual soft limit, 1024, would
 * cap a node at about a thousand clients). */
static void raise_open_files(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (was < rl.rlim_max && setrlimit(RLIMIT_NOFILE, &rl) == 0)
        sr_log_info("open files limit raised from %llu to %llu", (unsigned long long)was,
                    (unsigned long long)rl.rlim_max);
    else
        rl.rlim_cur = was;
    /* a pod is sized for 20 000 connections (helm: connectionsPerPod) */
    if (rl.rlim_cur < 20000)
        sr_log_warn("open files limit is %llu: this node holds at most about that many "
                    "connections (raise the hard limit: ulimit -Hn, the container runtime)",
                    (unsigned long long)rl.rlim_cur);
}

static const char *port_text(int port, char text[8])
{
    snprintf(text, 8, "%d", port);
    return text;
}

static void finish_tick(evutil_socket_t fd, short what, void *arg)
{
    node *n = arg;
    if ((sr_core_connections(n->core) == 0 && sr_store_pending(n->store) == 0) ||
        sr_monotonic_ms() > n->finish_deadline)
        event_base_loopexit(n->base, NULL);
}

static void drain_done(evutil_socket_t fd, short what, void *arg)
{
    node *n = arg;
    if (sr_core_connections(n->core))
        sr_log_info("closing %u connections (1012 service restart)", sr_core_connections(n->core));
    sr_core_close_all(n->core, SR_CLOSE_RESTART, "service restart");
    n->finish_deadline = sr_monotonic_ms() + SHUTDOWN_GRACE_MS;
    n->finish_timer = event_new(n->base, -1, EV_PERSIST, finish_tick, n);
    struct timeval tv = {0, 50 * 1000};
    event_add(n->finish_timer, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    node *n = arg;
    if (n->stopping) {
        sr_log_warn("second signal: exiting now");
        event_base_loopbreak(n->base);
        return;
    }
    n->stopping = true;
    sr_core_drain(n->core);
    /* Nobody to drain: waiting would only delay a restart (Ctrl-C on make run). */
    int drain = sr_core_connections(n->core) ? n->cfg.drain_timeout : 0;
    if (drain)
        sr_log_info("signal %d: draining %u connections for %d s", (int)sig,
                    sr_core_connections(n->core), drain);
    else
        sr_log_info("signal %d: no connections, stopping", (int)sig);
    struct timeval tv = {drain, 0};
    n->drain_timer = evtimer_new(n->base, drain_done, n);
    event_add(n->drain_timer, &tv);
}

int main(int argc, char **argv)
{
    node n;
    char err[512];
    memset(&n, 0, sizeof n);
    signal(SIGPIPE, SIG_IGN);

    int rc = sr_config_load(&n.cfg, argc, argv, env, err, sizeof err);
    if (rc == 1) {
        sr_config_usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "syncrelay: %s\n", err);
        return 2;
    }
    sr_log_setup(!strcmp(n.cfg.log_format, "json"), n.cfg.node_id,
                 (enum sr_log_level)sr_log_level_parse(n.cfg.log_level));
    if (sr_peersync_setup(&n.cfg, err, sizeof err) < 0) {
        sr_log_error("JWT keys: %s", err);
        sr_config_free(&n.cfg);
        return 2;
    }

    sr_embedded_redis *embedded = NULL;
    if (!n.cfg.redis_url && !(embedded = sr_embedded_redis_start(&n.cfg.redis, err, sizeof err))) {
        sr_log_error("%s", err);
        sr_config_free(&n.cfg);
        return 1;
    }

    raise_open_files();
    /* the changelist: an fd's event added and deleted in one loop turn costs
     * no epoll_ctl (the Redis connections' end-of-turn writes, redis_conn.c) */
    struct event_config *ecfg = event_config_new();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    n.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    n.store = sr_store_new(n.base, &n.cfg);
    n.core = sr_core_new(n.base, &n.cfg, n.store, &sr_transport_lws_ops);
    sr_bus_hooks hooks = {sr_core_bus_message, sr_core_bus_subscribed, sr_core_bus_reset, n.core,
                          sr_core_beat_now};
    n.bus = sr_bus_new(n.base, &n.cfg, &hooks);
    sr_core_attach_bus(n.core, n.bus);
    sr_poll_setup(n.core); /* Engine.IO long-polling: this node's channel */
    n.transport = sr_transport_new(n.base, &n.cfg);
    if (!n.transport) {
        sr_log_error("cannot listen on port %d", n.cfg.port);
        rc = 1;
        goto out;
    }
    sr_transport_attach(n.transport, n.core);

    n.sigterm = evsignal_new(n.base, SIGTERM, on_signal, &n);
    n.sigint = evsignal_new(n.base, SIGINT, on_signal, &n);
    event_add(n.sigterm, NULL);
    event_add(n.sigint, NULL);
    const sr_redis_target *rt = &n.cfg.redis; /* not the URL: it may hold a password */
    char port[8];
    sr_log_info("syncrelay node %s listening on %s://%s:%d (redis %s%s%s%s%s)", n.cfg.node_id,
                n.cfg.tls_cert ? "wss" : "ws", n.cfg.listen ? n.cfg.listen : "0.0.0.0", n.cfg.port,
                embedded ? "embedded, " : "",
                rt->unix_path ? "unix://"
                : rt->tls     ? "rediss://"
                              : "redis://",
                rt->unix_path ? rt->unix_path : rt->host, rt->unix_path ? "" : ":",
                rt->unix_path ? "" : port_text(rt->port, port));
    sr_log_info("in a browser: %s://localhost:%d/ (demo), /admin (cluster dashboard)",
                n.cfg.tls_cert ? "https" : "http", n.cfg.port);
    if (!n.cfg.admin_token || !*n.cfg.admin_token)
        sr_log_warn("ADMIN_TOKEN is not set: /api/sessions and /admin list, read and end "
                    "recording and token sync sessions (no other kind) for anyone who can reach "
                    "this port");
    event_base_dispatch(n.base);
    sr_log_info("stopped");
    rc = 0;

out:
    sr_transport_free(n.transport); /* closes what is left; leave scripts get sent */
    sr_bus_free(n.bus);
    sr_store_free(n.store); /* fails what Redis has not answered */
    sr_core_free(n.core);
    if (n.sigterm) event_free(n.sigterm);
    if (n.sigint) event_free(n.sigint);
    if (n.drain_timer) event_free(n.drain_timer);
    if (n.finish_timer) event_free(n.finish_timer);
    event_base_free(n.base);
    sr_embedded_redis_stop(embedded);
    sr_peersync_teardown();
    sr_config_free(&n.cfg);
    return rc;
}
