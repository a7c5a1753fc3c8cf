/* core_cluster.c - the cluster as the dashboard sees it. After each answered
 * heartbeat a node writes its counters into its liveness record (one small
 * script every 2 s, nothing per message); GET /api/cluster (admin) reads every
 * live node's record in one script. The dashboard turns the counters into
 * rates itself, from two reads and the records' `seen` times. */
#include "core_metrics.h"
#include "core_web.h"
#include "sr_json.h"
#include "store_cluster.h"

#include <stdlib.h>
#include <string.h>

void sr_cluster_publish_stats(sr_core *core)
{
    const sr_metrics *m = &core->metrics;
    unsigned conns[SR_METRIC_DIALECTS] = {0}, sessions[SR_METRIC_DIALECTS] = {0};
    sr_core_dialect_counts(core, conns, sessions);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b,
                  "{\"draining\":%s,\"messagesIn\":%llu,\"messagesOut\":%llu,\"relayed\":%llu,"
                  "\"replayed\":%llu,\"relayLatency\":{\"count\":%llu,\"sumSeconds\":%.6f},"
                  "\"dialects\":{",
                  core->draining ? "true" : "false", (unsigned long long)m->messages_in,
                  (unsigned long long)m->messages_out, (unsigned long long)m->relayed,
                  (unsigned long long)m->replayed, (unsigned long long)m->relay_count,
                  (double)m->relay_sum_us / 1e6);
    for (size_t i = 0; i < sr_dialect_count && i < SR_METRIC_DIALECTS; i++)
        sr_buf_printf(&b, "%s\"%s\":{\"connections\":%u,\"sessions\":%u,\"messagesIn\":%llu}",
                      i ? "," : "", sr_dialects[i]->name, conns[i], sessions[i],
                      (unsigned long long)m->dialect_in[i]);
    sr_buf_append_str(&b, "}}");
    sr_store_node_stats(core->store, core->boot_id, b.data, b.len);
    sr_buf_free(&b);
}

static long long field_ll(const sr_store_node *node, const char *name)
{
    return (long long)sr_fields_u64(node->fields, node->nfields, name, NULL);
}

static void append_node(sr_buf *out, const sr_store_node *node, uint64_t now)
{
    size_t len = node->id.len;
    const char *id = node->id.p;
    char started[40], seen[40];
    long long started_ms = field_ll(node, "started"), seen_ms = field_ll(node, "seen");
    sr_iso_time((uint64_t)started_ms, started, sizeof started);
    sr_iso_time((uint64_t)seen_ms, seen, sizeof seen);
    sr_buf_append_str(out, "{\"id\":");
    sr_buf_append_json_string(out, id ? id : "", id ? len : 0);
    const char *boot = sr_fields_get(node->fields, node->nfields, "boot", &len);
    sr_buf_append_str(out, ",\"boot\":");
    sr_buf_append_json_string(out, boot ? boot : "", boot ? len : 0);
    sr_buf_printf(out,
                  ",\"started\":\"%s\",\"uptimeSeconds\":%lld,\"seen\":\"%s\",\"seenMs\":%lld,"
                  "\"connections\":%lld,\"sessions\":%lld,\"stats\":",
                  started,
                  started_ms && (long long)now > started_ms ? ((long long)now - started_ms) / 1000
                                                            : 0,
                  seen, seen_ms, field_ll(node, "connections"), field_ll(node, "sessions"));
    const char *stats = sr_fields_get(node->fields, node->nfields, "stats", &len);
    sr_json_doc doc; /* written by a node as JSON; spliced as it is */
    if (stats && sr_json_parse(&doc, stats, len) == 0 && doc.root.type == SR_JSON_OBJECT)
        sr_buf_append(out, stats, len);
    else
        sr_buf_append_str(out, "null");
    sr_buf_append_str(out, "}");
}

static void on_nodes(const sr_store_nodes_result *reply, void *arg)
{
    sr_op *op = arg;
    sr_http_req *r = op->r;
    sr_core *core = op->core;
    if (reply->status != SR_STORE_OK) {
        sr_core_error(core, SR_ERROR_UNAVAILABLE);
        sr_http_respond_json(r, 503, "{\"error\":\"Redis unavailable\"}");
        sr_op_done(op);
        return;
    }
    uint64_t now = sr_now_ms();
    char stamp[40];
    sr_iso_time(now, stamp, sizeof stamp);
    sr_buf out;
    sr_buf_init(&out);
    sr_buf_append_str(&out, "{\"node\":");
    sr_buf_append_json_string(&out, core->cfg->node_id, strlen(core->cfg->node_id));
    sr_buf_printf(&out, ",\"time\":\"%s\",\"timeMs\":%llu,\"nodes\":[", stamp,
                  (unsigned long long)now);
    for (size_t i = 0; i < reply->n; i++) {
        if (i) sr_buf_append_str(&out, ",");
        append_node(&out, &reply->nodes[i], now);
    }
    sr_buf_printf(&out, "],\"activeSessions\":%lld,\"totalConnections\":%lld}",
                  core->cluster_sessions, core->cluster_connections);
    sr_http_respond(r, 200, NULL, out.data, out.len);
    sr_buf_free(&out);
    sr_op_done(op);
}

bool sr_cluster_http(sr_http_req *r)
{
    if (strcmp(r->path, "/api/cluster") != 0) return false;
    r->cors = false; /* admin data: for this origin's pages only */
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        sr_http_respond_json(r, 405, "{\"error\":\"Method not allowed\"}");
    } else if (!sr_admin_allowed(r)) {
        sr_http_respond_json(r, 401, "{\"error\":\"Unauthorized\"}");
    } else {
        sr_store_cluster_nodes(r->core->store, on_nodes, sr_op_http(r, NULL, NULL));
    }
    return true;
}
