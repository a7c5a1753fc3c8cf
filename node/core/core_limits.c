/* core_limits.c - limits on clients (client_limits.h, internal/core_limits.h). */
#include "core_internal.h"
#include "sr_clock.h"

#include <stdlib.h>
#include <string.h>

typedef struct sr_ip_use {
    unsigned conns, pending;
} sr_ip_use;

static const char *limit_names[SR_LIMIT_KINDS] = {
    "connections_per_ip", "pending_per_ip", "message_rate",   "json_members",
    "http_headers",       "http_body",      "handshake_time",
};

void sr_limits_init(sr_core_limits *l)
{
    memset(l, 0, sizeof *l);
    sr_map_init(&l->ips);
}

static void free_use(const char *key, void *value, void *arg)
{
    free(value);
}

void sr_limits_free(sr_core_limits *l)
{
    sr_map_each(&l->ips, free_use, NULL);
    sr_map_free(&l->ips);
}

void sr_core_limit_hit(sr_core *core, enum sr_limit kind)
{
    core->limits.hits[kind]++;
}

void sr_limits_metrics_text(const sr_core *core, sr_buf *out)
{
    sr_buf_printf(out, "# HELP syncrelay_limited_total Clients refused by a limit, by limit.\n"
                       "# TYPE syncrelay_limited_total counter\n");
    for (int k = 0; k < SR_LIMIT_KINDS; k++)
        sr_buf_printf(out, "syncrelay_limited_total{limit=\"%s\"} %llu\n", limit_names[k],
                      (unsigned long long)core->limits.hits[k]);
}

void sr_conn_refuse(sr_conn *c, enum sr_limit kind, int code, const char *message)
{
    if (!sr_conn_alive(c)) return;
    c->budget.refused = true;
    sr_core_limit_hit(c->core, kind);
    if (c->dialect->error) c->dialect->error(c, message);
    sr_conn_close(c, code, message);
}

void sr_limits_conn_open(sr_conn *c)
{
    const sr_config *cfg = c->core->cfg;
    sr_ip_use *u = sr_map_get(&c->core->limits.ips, c->ip);
    if (!u) {
        u = sr_xcalloc(1, sizeof *u);
        sr_map_set(&c->core->limits.ips, c->ip, u);
    }
    u->conns++;
    u->pending++;
    c->budget.counted = c->budget.pending = true;
    c->budget.millitokens = (uint64_t)cfg->message_burst * 1000;
    c->budget.refill_ms = sr_monotonic_ms();
    if (cfg->max_connections_per_ip && u->conns > (unsigned)cfg->max_connections_per_ip)
        sr_conn_refuse(c, SR_LIMIT_CONNECTIONS, SR_CLOSE_POLICY,
                       "Too many connections from this address");
    else if (cfg->max_pending_per_ip && u->pending > (unsigned)cfg->max_pending_per_ip)
        sr_conn_refuse(c, SR_LIMIT_PENDING, SR_CLOSE_POLICY,
                       "Too many unauthenticated connections from this address");
}

void sr_conn_authenticated(sr_conn *c)
{
    if (!c->budget.pending) return;
    c->budget.pending = false;
    sr_ip_use *u = sr_map_get(&c->core->limits.ips, c->ip);
    if (u && u->pending) u->pending--;
}

void sr_limits_conn_closed(sr_conn *c)
{
    if (!c->budget.counted) return;
    sr_conn_authenticated(c);
    c->budget.counted = false;
    sr_ip_use *u = sr_map_get(&c->core->limits.ips, c->ip);
    if (u && --u->conns == 0) free(sr_map_remove(&c->core->limits.ips, c->ip));
}

bool sr_limits_message(sr_conn *c)
{
    const sr_config *cfg = c->core->cfg;
    if (c->budget.refused) return false;
    if (!cfg->message_rate || !c->budget.counted || c->closing) return true;
    uint64_t now = sr_monotonic_ms(), cap = (uint64_t)cfg->message_burst * 1000;
    /* message_rate per second is message_rate millitokens per millisecond */
    c->budget.millitokens += (now - c->budget.refill_ms) * (uint64_t)cfg->message_rate;
    if (c->budget.millitokens > cap) c->budget.millitokens = cap;
    c->budget.refill_ms = now;
    if (c->budget.millitokens >= 1000) {
        c->budget.millitokens -= 1000;
        return true;
    }
    sr_conn_refuse(c, SR_LIMIT_MESSAGE_RATE, SR_CLOSE_POLICY, "Message rate limit exceeded");
    return false;
}
