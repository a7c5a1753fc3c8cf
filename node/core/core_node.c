/* core_node.c - the core's life on one node: creation, the heartbeat that
 * keeps this node's liveness record and the cluster view, periodic TTL
 * refresh, drain, and the /health and /metrics bodies. */
#include "core_internal.h"
#include "core_metrics.h"
#include "core_poll.h"
#include "core_web.h"
#include "sr_json.h"
#include "sr_log.h"
#include "sr_random.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *error_names[SR_ERROR_KINDS] = {
    "invalid_json",    "bad_request", "too_big",    "rate_limited",
    "unknown_session", "unavailable", "superseded", "slow_reader",
};

#define SR_SESSIONS_LOG_MS 30000 /* seed 002 logs its active sessions every 30 s */

static void on_heartbeat(const sr_store_heartbeat_result *r, void *arg)
{
    sr_core *core = arg;
    if (r->status != SR_STORE_OK) return;
    long long nodes = r->nodes;
    if (r->resync || core->resync) sr_core_sync_sessions(core);
    core->resync = false;
    core->cluster_sessions = r->sessions;
    core->cluster_connections = r->connections;
    if (!core->heartbeat_ok_ms || nodes != core->cluster_nodes)
        sr_log_info("cluster: %lld live nodes, %lld connections, %lld active sessions", nodes,
                    core->cluster_connections, core->cluster_sessions);
    core->cluster_nodes = nodes;
    core->heartbeat_ok_ms = sr_monotonic_ms();
    sr_cluster_publish_stats(core); /* the dashboard's view of this node */
    if (core->heartbeat_ok_ms - core->sessions_logged_ms >= SR_SESSIONS_LOG_MS) {
        core->sessions_logged_ms = core->heartbeat_ok_ms;
        sr_log_info("active sessions: %zu on this node, %lld in the cluster; connections: %u on "
                    "this node, %lld in the cluster",
                    sr_core_local_sessions(core), core->cluster_sessions, core->nconns,
                    core->cluster_connections);
    }
}

/* Ticks every 250 ms; beats every SR_HEARTBEAT_MS, and at once when Redis
 * answers again, so a node is visible to its peers as soon as it can be. */
static void heartbeat_tick(evutil_socket_t fd, short what, void *arg)
{
    sr_core *core = arg;
    uint64_t now = sr_monotonic_ms();
    bool up = sr_store_up(core->store);
    if (!up || (core->heartbeat_ok_ms && core->was_up &&
                now - core->heartbeat_sent_ms < SR_HEARTBEAT_MS)) {
        core->was_up = up;
        return;
    }
    core->was_up = true;
    sr_core_beat_now(core);
}

void sr_core_beat_now(void *arg)
{
    sr_core *core = arg;
    if (!sr_store_up(core->store)) return;
    core->heartbeat_sent_ms = sr_monotonic_ms();
    /* a failed command may have been a lost add or remove of a held session */
    sr_store_stats st;
    sr_store_stats_get(core->store, &st);
    if (st.failures != core->failures_seen) core->resync = true;
    core->failures_seen = st.failures;
    sr_store_heartbeat_args a = {core->nconns, (long long)sr_core_local_sessions(core),
                                 (long long)core->started_ms, core->boot_id};
    sr_store_heartbeat(core->store, &a, on_heartbeat, core);
}

static void touch_tick(evutil_socket_t fd, short what, void *arg)
{
    sr_core_touch_sessions(arg);
}

sr_core *sr_core_new(struct event_base *base, const sr_config *cfg, sr_store *store,
                     const sr_transport_ops *transport)
{
    sr_core *core = sr_xcalloc(1, sizeof *core);
    core->base = base;
    core->cfg = cfg;
    core->store = store;
    core->transport = transport;
    core->started_ms = sr_now_ms();
    if (sr_random_code(core->boot_id, 8, "abcdefghijklmnopqrstuvwxyz0123456789") < 0) abort();
    sr_map_init(&core->sessions);
    sr_limits_init(&core->limits);
    sr_json_set_max_values((size_t)cfg->max_json_members); /* one node per process */

    struct timeval hb = {0, 250 * 1000};
    uint64_t touch_ms = sr_core_touch_interval_ms(core) / 2;
    struct timeval tt = {(time_t)(touch_ms / 1000), (suseconds_t)((touch_ms % 1000) * 1000)};
    core->heartbeat_timer = event_new(base, -1, EV_PERSIST, heartbeat_tick, core);
    core->touch_timer = event_new(base, -1, EV_PERSIST, touch_tick, core);
    event_add(core->heartbeat_timer, &hb);
    event_add(core->touch_timer, &tt);
    return core;
}

void sr_core_attach_bus(sr_core *core, sr_bus *bus)
{
    core->bus = bus;
}

bool sr_core_draining(const sr_core *core)
{
    return core->draining;
}

unsigned sr_core_connections(const sr_core *core)
{
    return core->nconns;
}

sr_conn *sr_core_first_conn(sr_core *core)
{
    return core->conns;
}

sr_store *sr_core_store(const sr_core *core)
{
    return core->store;
}

void sr_core_free(sr_core *core)
{
    sr_core_abort_joins(core);
    sr_poll_free(core);
    event_free(core->heartbeat_timer);
    event_free(core->touch_timer);
    sr_map_free(&core->sessions);
    sr_limits_free(&core->limits);
    while (core->spare_ops) {
        sr_op *op = core->spare_ops;
        core->spare_ops = op->next;
        free(op);
    }
    free(core);
}

void sr_core_drain(sr_core *core)
{
    core->draining = true;
}

void sr_core_close_all(sr_core *core, int code, const char *reason)
{
    for (sr_conn *c = core->conns; c; c = c->next)
        sr_conn_close(c, code, reason);
}

/* Ready: not draining, both Redis connections up, and registered in the
 * cluster (the first heartbeat, which records this process's boot id, was
 * answered), so the holders of sockets opened from now on count as online. */
bool sr_core_ready(const sr_core *core)
{
    return !core->draining && core->heartbeat_ok_ms && sr_store_up(core->store) &&
           sr_bus_up(core->bus);
}

void sr_core_health_json(sr_core *core, sr_buf *out)
{
    char stamp[40];
    uint64_t now = sr_now_ms();
    sr_iso_time(now, stamp, sizeof stamp);
    bool up = sr_store_up(core->store) && sr_bus_up(core->bus);
    sr_buf_printf(out, "{\"status\":\"%s\",\"node\":", up ? "healthy" : "degraded");
    sr_buf_append_json_string(out, core->cfg->node_id, strlen(core->cfg->node_id));
    sr_buf_printf(out,
                  ",\"timestamp\":\"%s\",\"uptimeSeconds\":%llu,\"redis\":\"%s\","
                  "\"draining\":%s,\"connections\":%u,\"sessions\":%zu,"
                  "\"activeSessions\":%lld,\"totalConnections\":%lld,\"nodes\":%lld}",
                  stamp, (unsigned long long)((now - core->started_ms) / 1000), up ? "up" : "down",
                  core->draining ? "true" : "false", core->nconns, sr_core_local_sessions(core),
                  core->cluster_sessions, core->cluster_connections, core->cluster_nodes);
}

static void metric(sr_buf *out, const char *name, const char *type, const char *help,
                   unsigned long long value)
{
    sr_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                  value);
}

void sr_core_metrics_text(sr_core *core, sr_buf *out)
{
    const sr_metrics *m = &core->metrics;
    sr_store_stats st;
    sr_store_stats_get(core->store, &st);
    metric(out, "syncrelay_cluster_sessions", "gauge", "Active sessions in the whole cluster.",
           (unsigned long long)core->cluster_sessions);
    metric(out, "syncrelay_cluster_connections", "gauge", "Connections on every live node.",
           (unsigned long long)core->cluster_connections);
    metric(out, "syncrelay_connections_total", "counter", "WebSocket connections accepted.",
           m->connections_total);
    metric(out, "syncrelay_bytes_in_total", "counter", "WebSocket payload bytes received.",
           m->bytes_in);
    metric(out, "syncrelay_bytes_out_total", "counter", "WebSocket payload bytes sent.",
           m->bytes_out);
    metric(out, "syncrelay_messages_relayed_total", "counter",
           "Messages published into sessions by this node's clients.", m->relayed);
    metric(out, "syncrelay_messages_replayed_total", "counter",
           "Messages delivered from the retained log (resume, catch-up).", m->replayed);
    metric(out, "syncrelay_redis_connected", "gauge", "1 when both Redis connections are up.",
           st.up && sr_bus_up(core->bus));
    metric(out, "syncrelay_redis_commands_total", "counter", "Redis commands answered.",
           st.commands);
    metric(out, "syncrelay_redis_failures_total", "counter",
           "Redis commands that failed or were refused while Redis was away.", st.failures);
    sr_buf_printf(out,
                  "# HELP syncrelay_redis_rtt_seconds Redis round-trip time.\n"
                  "# TYPE syncrelay_redis_rtt_seconds summary\n"
                  "syncrelay_redis_rtt_seconds_sum %.6f\nsyncrelay_redis_rtt_seconds_count %llu\n",
                  (double)st.rtt_us_sum / 1e6, (unsigned long long)st.commands);
    metric(out, "syncrelay_draining", "gauge", "1 while the node drains after SIGTERM.",
           core->draining);
    sr_buf_printf(out, "# HELP syncrelay_errors_total Errors by kind.\n"
                       "# TYPE syncrelay_errors_total counter\n");
    for (int k = 0; k < SR_ERROR_KINDS; k++)
        sr_buf_printf(out, "syncrelay_errors_total{kind=\"%s\"} %llu\n", error_names[k],
                      (unsigned long long)m->errors[k]);
    sr_limits_metrics_text(core, out);
    sr_core_metrics_more(core, out); /* per dialect, relay latency, process_* */
}
